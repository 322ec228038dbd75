"""`${ENV}` placeholders in configuration: checked at load, resolved only where a value is used."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingSecret(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"environment variable {self.name} is not set"


def missing_variables(value: Any, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Names of `${VAR}` placeholders in `value` (nested) that have neither a value nor a default."""
    found: list[str] = []
    for text in _strings(value):
        for match in _PLACEHOLDER.finditer(text):
            if match.group(2) is None and match.group(1) not in environ:
                found.append(match.group(1))
    return found


def resolve(value: Any, environ: Mapping[str, str] = os.environ) -> Any:
    """A copy of `value` with every `${VAR}` / `${VAR:-default}` replaced; MissingSecret if unset."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda match: _lookup(match, environ), value)
    if isinstance(value, Mapping):
        return {key: resolve(item, environ) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(resolve(item, environ) for item in value)
    return value


def has_placeholder(text: str) -> bool:
    return bool(_PLACEHOLDER.search(text))


def _lookup(match: re.Match[str], environ: Mapping[str, str]) -> str:
    name, default = match.group(1), match.group(2)
    if name in environ:
        return environ[name]
    if default is not None:
        return default
    raise MissingSecret(name)


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


_SENSITIVE_KEYS = re.compile(r"password|secret|token|key|connection_string|credential", re.I)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+):[^@/\s]+@", re.I)


def redact(value: Any, key: str = "") -> Any:
    """A copy safe to show: placeholders stay as written, literal secrets and URL passwords go."""
    if isinstance(value, Mapping):
        return {k: redact(item, str(k)) for k, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item, key) for item in value]
    if isinstance(value, str):
        if has_placeholder(value):
            return value
        if _SENSITIVE_KEYS.search(key):
            return "***"
        return _URL_PASSWORD.sub(r"\g<scheme>:***@", value)
    return value
