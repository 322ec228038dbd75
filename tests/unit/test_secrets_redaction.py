"""The one redaction point: what a placeholder resolved, secret-named fields and credentials inside
URLs are removed from any text; error texts are bounded and printable; log lines are redacted."""

from __future__ import annotations

import json
import logging

import pytest

from monitor.daemon.logs import JsonFormatter, TextFormatter
from monitor.values.secrets import bounded, redacted, resolve, safe_text

pytestmark = pytest.mark.unit


def test_a_value_from_the_environment_is_removed_in_every_form_a_text_may_carry_it():
    resolve("https://api.example/x?key=${SOME_KEY}", {"SOME_KEY": "a/b+c=d@e"})
    text = "GET https://api.example/x?key=a%2Fb%2Bc%3Dd%40e failed; sent a/b+c=d@e; a/b%2Bc%3Dd%40e"
    assert redacted(text) == "GET https://api.example/x?key=*** failed; sent ***; ***"


def test_a_url_that_came_whole_from_the_environment_keeps_its_path_secret_too():
    resolve("${WEBHOOK}", {"WEBHOOK": "https://hooks.example/services/T1/B2/abcdef123"})
    assert redacted("404 at /services/T1/B2/abcdef123") == "404 at ***"


def test_a_literal_value_of_a_secret_named_field_is_removed():
    resolve({"headers": {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}, "token": "pipeline-tok-1"})
    assert redacted("sent Basic dXNlcjpwYXNzd29yZA== and pipeline-tok-1") == "sent *** and ***"


def test_credentials_are_removed_by_their_shape_whoever_echoes_them():
    text = ("postgresql://app:hunter2x@db:5432/x https://h/p?api_key=zzz123&sig=abc%2F&n=1 "
            "AccountKey=Zm9vYmFy==;EndpointSuffix=core Authorization: Bearer eyJhbGciOi.x.y")
    assert redacted(text) == ("postgresql://app:***@db:5432/x https://h/p?api_key=***&sig=***&n=1 "
                              "AccountKey=***;EndpointSuffix=core Authorization: Bearer ***")


def test_values_too_short_to_be_secrets_and_defaults_written_in_the_file_are_kept():
    resolve("${SHORT}:${NOT_SET:-localhost-default}", {"SHORT": "443"})
    assert redacted("cannot connect to localhost-default:443") == "cannot connect to localhost-default:443"


def test_an_error_text_is_bounded_printable_and_on_one_line():
    text = safe_text("bad\x00answer\n\x1b[31mred\u202e\ud800 " + "x" * 1000)
    assert len(text) == 500 and text.endswith("…")
    assert text.startswith("bad\ufffdanswer \ufffd[31mred? xxx")
    assert text.isprintable()
    assert bounded("  two\n\tlines  ") == "two lines"


def _record(message: str, *args, exc: BaseException | None = None) -> logging.LogRecord:
    return logging.LogRecord("meshwatch.test", logging.ERROR, __file__, 1, message, args,
                             (type(exc), exc, None) if exc else None)


def test_every_log_line_is_redacted_in_text_and_json_exceptions_included():
    resolve("${LOG_SECRET}", {"LOG_SECRET": "l0g-secret-value"})
    error = RuntimeError("failed with l0g-secret-value")
    text = TextFormatter().format(_record("calling %s", "https://x/?token=l0g-secret-value", exc=error))
    assert "l0g-secret-value" not in text and "calling https://x/?token=***" in text
    entry = json.loads(JsonFormatter().format(_record("sent %s", "l0g-secret-value", exc=error)))
    assert entry["message"] == "sent ***" and "l0g-secret-value" not in entry["exception"]
