"""YAML as the exports print it: keys in the order built, multi-line strings as blocks, and
comments (what did not map) above the items they speak of."""

from __future__ import annotations

from collections.abc import Iterable

import yaml


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings (PromQL expressions) as `|` blocks, and a value
    used twice twice (no anchors: each item reads whole)."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def dump(document: object) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     width=1_000, allow_unicode=True)


def comment(lines: Iterable[str], indent: int = 0) -> str:
    return "".join(f"{' ' * indent}# {line}\n" for line in lines)


def list_item(item: object, indent: int) -> str:
    """`item` as one `- …` entry of a YAML list nested `indent` spaces deep."""
    return "".join(f"{' ' * indent}{line}\n" for line in dump([item]).splitlines())
