"""`${ENV}` placeholders in configuration: checked at load, resolved only where a value is used,
and the one redaction point: every value a placeholder took from the environment, every value of a
secret-named field (`password`, `token`, `Authorization`, …) and every credential inside a URL is
remembered here when it is resolved, and `redacted`/`safe_text` remove them from any text before it
is logged, stored, printed, exported or shown."""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from monitor.values.limits import ERROR_TEXT_LENGTH

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


def resolve(value: Any, environ: Mapping[str, str] = os.environ, key: str = "") -> Any:
    """A copy of `value` with every `${VAR}` / `${VAR:-default}` replaced; MissingSecret if unset.

    What the environment gave, the value of a secret-named `key` and the credentials inside a
    resolved URL are remembered, so that no text shows them afterwards."""
    if isinstance(value, str):
        resolved = _PLACEHOLDER.sub(lambda match: _lookup(match, environ), value)
        if _SENSITIVE_KEYS.search(key):
            remember(resolved)
        remember_inside(resolved)
        return resolved
    if isinstance(value, Mapping):
        return {name: resolve(item, environ, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(resolve(item, environ, key) for item in value)
    return value


def has_placeholder(text: str) -> bool:
    return bool(_PLACEHOLDER.search(text))


def _lookup(match: re.Match[str], environ: Mapping[str, str]) -> str:
    name, default = match.group(1), match.group(2)
    if name in environ:
        remember(environ[name])
        remember_inside(environ[name], path_too=True)
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


_SENSITIVE_KEYS = re.compile(r"password|secret|token|key|connection_string|credential|authorization"
                             r"|cookie|signature", re.I)
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


# -- the one redaction point -------------------------------------------------------------------

MIN_SECRET_LENGTH = 4  # shorter values ("1", "dev", "443") are not secrets and would maul texts
_SENSITIVE_QUERY = re.compile(r"key|token|sig|secret|password|passwd|pwd|auth|code|credential", re.I)
# Credentials recognised by their shape, wherever they come from (libraries echo requests back).
_CREDENTIAL_SHAPES = (
    (_URL_PASSWORD, r"\g<scheme>:***@"),
    (re.compile(r"([?&;](?:[a-z0-9_.-]*(?:key|token|sig|secret|password|passwd|pwd|code|credential)"
                r"[a-z0-9_.-]*)=)[^&#;\s'\"<>]+", re.I), r"\g<1>***"),
    (re.compile(r"((?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd)=)[^;\s'\"]+", re.I),
     r"\g<1>***"),
    (re.compile(r"\b((?:Bearer|Basic|Token|SharedKey(?:Lite)?(?: [^:\s]+:)?) ?)[A-Za-z0-9._~+/=:-]{8,}"),
     r"\g<1>***"),
)


class _KnownSecrets:
    """The secret values this process has resolved: each in the forms a text may carry it
    (as is, URL-encoded), longest first so a secret inside another goes with it."""

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._ordered: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if len(value) < MIN_SECRET_LENGTH:
            return
        forms = {value, quote(value, safe=""), quote(value), quote_plus(value)} - self._forms
        if forms:
            with self._lock:
                self._forms |= forms
                self._ordered = tuple(sorted(self._forms, key=len, reverse=True))

    def remove_from(self, text: str) -> str:
        for form in self._ordered:
            if form in text:
                text = text.replace(form, "***")
        return text


_KNOWN = _KnownSecrets()


def remember(value: str | None) -> None:
    """Keep `value` out of every text shown from now on (a password, a token, a key)."""
    if value:
        _KNOWN.add(value)


def remember_inside(text: str, path_too: bool = False) -> None:
    """Remember the credentials a URL carries: its password and its secret-named query values;
    with `path_too` (a URL that came whole from the environment) also its path, which for many
    webhooks is the credential (`/services/T0/B0/XXXX`) and which a receiver's error page echoes."""
    if "://" not in text:
        return
    try:
        parts = urlsplit(text.strip())
        password = parts.password
    except ValueError:
        return
    remember(password)
    if path_too and len(parts.path.strip("/")) >= 8:
        remember(parts.path)
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if _SENSITIVE_QUERY.search(name):
            remember(value)


def redacted(text: str) -> str:
    """`text` without any remembered secret and without anything shaped like a credential."""
    text = _KNOWN.remove_from(text)
    for pattern, replacement in _CREDENTIAL_SHAPES:
        text = pattern.sub(replacement, text)
    return text


def safe_text(text: object, limit: int = ERROR_TEXT_LENGTH) -> str:
    """An error text fit to keep and show: redacted, printable, on one line, at most `limit`
    characters (a library's or a receiver's message included)."""
    return bounded(redacted(str(text)), limit)


def bounded(text: str, limit: int = ERROR_TEXT_LENGTH) -> str:
    """`text` on one line of printable characters (control characters and lone surrogates
    replaced, runs of spaces collapsed), cut to `limit` characters with an ellipsis."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    cleaned = "".join(ch if ch.isprintable() else (" " if ch.isspace() else "\ufffd") for ch in text
                      if unicodedata.category(ch) != "Cf" or ch == "\u200d")
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
