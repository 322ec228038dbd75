"""Problems a user can fix, each with the file and line where it is."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from monitor.contracts.yamlsource import YamlDocument

ModelT = TypeVar("ModelT", bound=BaseModel)


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
    return _problems_of(document, error.errors(include_url=False), prefix)


def _problems_of(document: YamlDocument, items: Sequence[Any], prefix: Sequence[str | int] = ()
                 ) -> list[Problem]:
    problems = []
    for item in items:
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


MAX_ROUNDS = 20  # validation rounds of one file; each removes at least one bad value


def validate_every_field(model: type[ModelT], document: YamlDocument
                         ) -> tuple[ModelT | None, list[Problem]]:
    """`model` from the document's data with every field problem reported, and the model of
    what is left once the bad values are taken out — so the checks that follow validation (an
    SLA value, a server name) report theirs in the same pass instead of on the next run. None
    only when nothing is left to read (the data is no mapping)."""
    data = copy.deepcopy(document.data)
    problems: list[Problem] = []
    reported: set[tuple] = set()
    for _ in range(MAX_ROUNDS):
        try:
            return model.model_validate(data), problems
        except ValidationError as error:
            failures = error.errors(include_url=False)
            fresh = [item for item in failures if _data_path(data, item["loc"]) not in reported]
            problems += _problems_of(document, fresh)
            removed = False
            for item in failures:
                path = _data_path(data, item["loc"])
                removed = _remove(data, path, path in reported) or removed
                reported.add(path)
            if not removed or not isinstance(data, dict):
                return None, problems
    return None, problems


def _data_path(data: Any, loc: Sequence[str | int]) -> tuple:
    """The part of a pydantic location that is in the data: union branch names left out, and
    nothing past the first key the data does not hold (a missing field is reported on its
    parent)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if _is_union_tag(part) and not (isinstance(node, dict) and part in node):
            continue
        present = part in node if isinstance(node, dict) else (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
        if not present:
            break
        node = node[part]
        path.append(part)
    return tuple(path)


def _remove(data: Any, path: tuple, again: bool) -> bool:
    """Take the value at `path` out of `data`: a mapping's key is dropped; a list item is
    emptied (`{}`), so the items after it keep their positions and lines — and when that is
    reported again, its whole list goes. False when there is nothing left to remove."""
    if not path:
        return False
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
        return True
    if isinstance(parent, list) and not again and parent[last] != {}:
        parent[last] = {}
        return True
    return _remove(data, path[:-1], False) if isinstance(parent, list) else False
