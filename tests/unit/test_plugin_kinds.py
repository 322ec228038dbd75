"""A probe or notifier kind is declared once, in its own module: the registries, the settings
union, the destination kinds a contract may use and the port types all follow from the modules."""

from __future__ import annotations

import typing

import pytest

from monitor.alerting.notifiers import INLINE_KINDS, KINDS, MODULES
from monitor.alerting.routing import DESTINATION_KINDS
from monitor.config.loading import KINDS as CONTRACT_KINDS
from monitor.config.settings import Settings
from monitor.probes import MODULES as PROBE_MODULES
from monitor.probes import probe_class


@pytest.mark.parametrize("module", MODULES)
def test_each_notifier_module_names_its_kind_and_its_settings_type_once(module):
    notifier = KINDS[module]
    assert notifier.kind == module
    assert typing.get_args(notifier.Settings.model_fields["type"].annotation) == (module,)


def test_every_notifier_kind_is_a_channel_type_of_the_settings():
    for kind in KINDS:
        settings = Settings(channels={"x": {"type": kind, **_required_fields(kind)}})
        assert isinstance(settings.channels["x"], KINDS[kind].Settings)


def test_a_contract_may_name_a_channel_or_any_kind_with_an_inline_field():
    assert ("channel", *INLINE_KINDS) == DESTINATION_KINDS
    assert CONTRACT_KINDS.destinations == DESTINATION_KINDS
    assert set(INLINE_KINDS) == {"email", "webhook", "apprise"}  # alertmanager: channels only


@pytest.mark.parametrize("kind", PROBE_MODULES)
def test_each_probe_module_is_named_after_its_port_type(kind):
    assert probe_class(kind).kind == kind
    assert CONTRACT_KINDS.port_options(kind) is probe_class(kind).Options


def test_an_unknown_port_type_has_no_options():
    assert CONTRACT_KINDS.port_options("ftp") is None


def test_an_inline_destination_builds_its_kinds_settings():
    email = KINDS["email"].Settings.from_inline("email", "team@example.com")
    webhook = KINDS["webhook"].Settings.from_inline("webhook", "http://127.0.0.1:9/hook")
    assert email.model_dump()["to"] == ["team@example.com"]
    assert webhook.model_dump()["url"] == "http://127.0.0.1:9/hook"


def test_a_kind_hides_what_it_must_when_a_destination_is_shown():
    assert KINDS["apprise"].Settings.show("slack://tokenA/tokenB/tokenC") == "slack://…"
    assert KINDS["webhook"].Settings.show("http://u:secret@h/x") == "http://u:***@h/x"


def _required_fields(kind: str) -> dict:
    return {"email": {"to": ["a@example.com"]}}.get(kind, {"url": "http://127.0.0.1:9"})
