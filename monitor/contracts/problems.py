"""Problems a user can fix, each with the file and line where it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from monitor.contracts.yamlsource import YamlDocument


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return ":".join(printable(part) for part in (self.file, str(self.line), " " + self.field,
                                                     " " + self.message))


def printable(text: str) -> str:
    """`text` safe to print on one line: control characters and undecodable bytes of a file
    name (surrogate escapes) are shown as escapes, not sent to the terminal."""
    return "".join(char if char.isprintable() or char == " " else ascii(char)[1:-1]
                   for char in text)


def field_name(location: Sequence[str | int]) -> str:
    """`("objectives", 0, "target")` → `objectives[0].target`."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def problem_at(document: YamlDocument, location: Sequence[str | int], message: str) -> Problem:
    return Problem(str(document.path), document.line_of(location), field_name(location), message)


def problems_from_validation(document: YamlDocument, error: ValidationError,
                             prefix: Sequence[str | int] = ()) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        location = [*prefix, *(part for part in item["loc"] if not _is_union_tag(part))]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] == "literal_error":
            message = f"{message} (got {item.get('input')!r})"
        problems.append(problem_at(document, location, message))
    return problems


def _is_union_tag(part: str | int) -> bool:
    # pydantic names union branches in locations (e.g. 'list[TeamMember]'); they are not fields
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool"})
