"""YAML documents that remember the line of every value, so messages can say `file:line`.

`load_yaml` reads one file and either returns its data or raises `YamlError(line, message,
location)`: whatever the file holds (bytes that are not text, control characters, values YAML
cannot construct such as `2026-02-30` or `!!float abc`, recursive aliases, nesting past
`MAX_DEPTH`), and whatever the path is (missing, a directory, a FIFO, a socket, a device).
A file that is not a regular file is never opened.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Location = tuple[str | int, ...]
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10× faster

MAX_BYTES = 10 * 1024 * 1024  # a contract is a few kilobytes; a bigger file is not read
MAX_DEPTH = 100  # nesting levels; contracts need about ten
MAX_NODES = 100_000  # values after aliases are expanded (an alias bomb stops here)

# what YAML allows in a stream (YAML 1.1 §5.1, as PyYAML reads it) ...
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# ... and what a value may not hold even when written as an escape ("\0", "\x1b"): C0 and C1
# control characters other than tab, line feed and carriage return
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BOMS = [(b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"),
         (b"\xfe\xff", "utf-16"), (b"\xff\xfe", "utf-16"), (b"\xef\xbb\xbf", "utf-8-sig")]
_KINDS_OF_FILE = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                  (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device")]
_TAG_WORDS = {"int": "an integer", "float": "a number", "bool": "a boolean", "null": "null",
              "timestamp": "a date or time", "binary": "binary data", "set": "a set",
              "omap": "an ordered map", "pairs": "a list of pairs"}


@dataclass(frozen=True)
class YamlDocument:
    """Plain data from one YAML file plus the line (1-based) where each path starts."""

    path: Path
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Sequence[str | int]) -> int:
        """The line of the deepest known node on `location` (1 when nothing matches)."""
        location = tuple(location)
        while location:
            if location in self.lines:
                return self.lines[location]
            location = location[:-1]
        return self.lines.get((), 1)


class YamlError(ValueError):
    """A file that gives no YAML data: `line` (1-based) and, where one value is at fault, its
    `location` in the document (`()` for the file as a whole)."""

    def __init__(self, line: int, message: str, location: Location = ()):
        super().__init__(message)
        self.line = max(1, line)
        self.message = message
        self.location = location


def load_yaml(path: Path) -> YamlDocument:
    """Parse `path`; raises YamlError(line, message, location) for anything that is not YAML data."""
    text = decode(read_regular_file(path))
    _check_characters(text)
    loader = _Loader(text)
    try:  # one parse: the node tree gives the lines, the same tree gives the data
        node = loader.get_single_node()
        lines: dict[Location, int] = {}
        if node is not None:
            loader.locations = _index(node, lines)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        last_line = max(1, len(text.splitlines()))  # libyaml marks an early end past the text
        line = min(mark.line + 1, last_line) if mark else 1
        raise YamlError(line, f"not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:  # a reader or emitter error without a mark
        raise YamlError(1, f"not valid YAML: {error}") from None
    except RecursionError:  # the pure-Python parser, where libyaml is missing
        raise YamlError(1, f"not valid YAML: nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
    return YamlDocument(path=path, data=data, lines=lines)


def read_regular_file(path: Path) -> bytes:
    """The bytes of `path`, which must be a regular file of at most MAX_BYTES. A FIFO, socket or
    device is refused from its status alone, without opening it (opening a FIFO blocks)."""
    try:
        status = os.stat(path)
        kind = kind_of_file(status.st_mode)
        if kind:
            raise YamlError(1, f"{kind}, not a regular file: skipped without reading it")
        if status.st_size > MAX_BYTES:
            raise YamlError(1, f"{status.st_size} bytes: larger than {MAX_BYTES // 1024 // 1024} "
                               f"MiB, not read")
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # never waits, even if swapped
        with os.fdopen(descriptor, "rb") as file:
            if kind_of_file(os.fstat(file.fileno()).st_mode):
                raise YamlError(1, "not a regular file: skipped without reading it")
            return file.read(MAX_BYTES + 1)[:MAX_BYTES]
    except FileNotFoundError:
        raise YamlError(1, "no such file (or a link to nothing)") from None
    except ValueError as error:  # an embedded NUL in the path
        if isinstance(error, YamlError):
            raise
        raise YamlError(1, f"not a valid path: {error}") from None
    except OSError as error:
        raise YamlError(1, f"cannot be read: {error.strerror or error}") from None


def kind_of_file(mode: int) -> str | None:
    """None for a regular file; else what it is: `a directory`, `a FIFO (named pipe)`, …"""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS_OF_FILE if test(mode)), "not a regular file")


def decode(raw: bytes) -> str:
    """UTF-8 text (a BOM is dropped); UTF-16 and UTF-32 only with their byte-order mark, as YAML
    allows. Anything else is a YamlError on the line of the first byte that cannot be read."""
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[:error.start].decode(encoding, "replace").count("\n") + 1
        if encoding == "utf-8":
            message = (f"not UTF-8 text: byte 0x{raw[error.start]:02x} cannot be read "
                       f"(save the file as UTF-8)")
        else:
            message = f"not valid {encoding.upper()} text: {error.reason} (save the file as UTF-8)"
        raise YamlError(line, message) from None


def _check_characters(text: str) -> None:
    """Characters YAML refuses, reported at their line and column rather than by the parser."""
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    hint = " (a UTF-16 file needs a byte-order mark; UTF-8 is best)" if found.group() == "\0" else ""
    raise YamlError(line, f"{describe_character(found.group())} in column {column} is not "
                          f"allowed in a contract file (remove it){hint}")


def describe_character(char: str) -> str:
    """`U+0000 (NUL)`, `U+001B (a control character)`, `U+D800 (a lone surrogate)`."""
    code = f"U+{ord(char):04X}"
    if char == "\0":
        return f"{code} (NUL)"
    if 0xD800 <= ord(char) <= 0xDFFF:
        return f"{code} (a lone surrogate)"
    if ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
        return f"{code} (a control character)"
    return f"{code} (not a character)"


def control_character(text: str) -> str | None:
    """The first control character in `text` (tab, line feed and carriage return are text)."""
    found = _CONTROL.search(text)
    return found.group() if found else None


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader, with every value YAML cannot construct reported at its place: an
    impossible date, `!!float abc`, `!!int 1.5`, a 5,000-digit integer, `!!binary`."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.locations: dict[int, Location] = {}  # id(node) → its first location, set by _index

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node.tag == "tag:yaml.org,2002:binary":
            self._refuse(node, "binary values are not allowed in a contract")
        if node.tag not in self.yaml_constructors and not any(
                node.tag.startswith(prefix) for prefix in self.yaml_multi_constructors):
            self._refuse(node, f"unknown tag {node.tag.replace('tag:yaml.org,2002:', '!!')!r} "
                               f"(a contract uses plain values)")
        try:
            return super().construct_object(node, deep=deep)
        except yaml.MarkedYAMLError:
            raise
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as error:
            word = _TAG_WORDS.get(node.tag.rsplit(":", 1)[-1], node.tag)
            value = node.value if isinstance(node.value, str) else ""
            shown = repr(value if len(value) <= 40 else value[:40] + "…")
            detail = f" ({error})" if isinstance(error, ValueError) and str(error) else ""
            if len(detail) > 80:
                detail = ""
            self._refuse(node, f"{shown} is not {word}{detail}")

    def _refuse(self, node: yaml.Node, message: str) -> None:
        location = self.locations.get(id(node), ())
        raise YamlError(node.start_mark.line + 1, message, location)


def _index(root: yaml.Node, lines: dict[Location, int]) -> dict[int, Location]:
    """Fill `lines` with the line of every location below `root`; returns each node's first
    location. Refuses a recursive alias, nesting deeper than MAX_DEPTH, more than MAX_NODES
    values once aliases are expanded, and control characters written as escapes."""
    first: dict[int, Location] = {}
    visited = 0
    # (node, location, ancestors): ancestors are the ids of the nodes that contain it
    stack: list[tuple[yaml.Node, Location, frozenset[int]]] = [(root, (), frozenset())]
    while stack:
        node, location, ancestors = stack.pop()
        visited += 1
        line = node.start_mark.line + 1
        if visited > MAX_NODES:
            raise YamlError(line, f"more than {MAX_NODES} values once aliases are expanded",
                            location)
        if id(node) in ancestors:
            raise YamlError(line, "a recursive alias: this value contains itself", location)
        if len(location) > MAX_DEPTH:
            raise YamlError(line, f"nested more than {MAX_DEPTH} levels deep", location[:3])
        lines.setdefault(location, line)
        first.setdefault(id(node), location)
        inner = ancestors | {id(node)}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in reversed(node.value):
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                lines[(*location, key)] = key_node.start_mark.line + 1
                _check_scalar(key_node, location)
                stack.append((value_node, (*location, key), inner))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*location, index), inner)
                         for index, item in reversed(list(enumerate(node.value))))
        else:
            _check_scalar(node, location)
    return first


def _check_scalar(node: yaml.Node, location: Location) -> None:
    if isinstance(node, yaml.ScalarNode) and isinstance(node.value, str):
        char = control_character(node.value)
        if char is not None:
            raise YamlError(node.start_mark.line + 1,
                            f"{describe_character(char)} is not allowed in a value", location)


def reread(source: str) -> YamlDocument | None:
    """The file a product came from, read again for its lines (it loaded a moment ago); None
    when it is gone or no longer reads."""
    try:
        return load_yaml(Path(source))
    except (YamlError, OSError):
        return None
