"""Hostile contract files (issue 15): whatever a file holds, loading it reports located problems
and never raises.

The corpus is derived deterministically from the example contracts (`config/contracts/` and
`tests/fixtures/standards/`): each case replaces one value, one key or a few bytes of one file, or
re-encodes it, and loads the folder it lies in with its neighbours (a native file binds its ODCS
file there). Hypothesis adds arbitrary text, derandomized so that CI is repeatable.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config.loading import KINDS
from monitor.contracts import load_contracts
from tests.support.repository import ROOT, STANDARDS

SEED = 15  # the number: change it to explore, keep it to repeat
FOLDERS = [ROOT / "config" / "contracts", STANDARDS / "odcs", STANDARDS / "dcs"]

# values put in place of one scalar of an example file
HOSTILE_VALUES = [
    "2026-02-30", "2026-13-01", "0000-01-01", "!!timestamp x", "!!timestamp 2026-02-30",
    "99999999999999999d", "1e309", "1.0e+309", "-1.0e+309", "99999999999999999999999999999",
    "9" * 5000, "PT99999999999999999H", "P99999999999999Y", "-5", "0", "PT",
    ".nan", "NaN", ".inf", "-.inf", "!!float abc", "!!int 1.5", "!!int 0x", "!!bool maybe",
    "!!python/object:os.system x", "!!python/name:os.system", "!!binary AA==", "!!set {a, b}",
    "!!omap [a: 1]", "!!null x", "!custom tag",
    "true", "null", "~", "[]", "{}", '""', "[[[[1]]]]", "{a: {b: {c: [1]}}}",
    '"\\0"', '"a\\x1bb"', '"a\\tb\\nc"', '"\\u0085"', "o" * 250, "x" * 201,
    "../../../../etc/passwd", "/dev/zero", '"a\\0b.yaml"', "a" * 5000, ".", "..",
    "&a [*a]", "&b {k: *b}", "*undefined", "&x", "| \n", "? complex", "'unterminated",
    "100%", "0.0000000000000000000000000001", "1e-999999999", "100.0000000001",
]
# keys put in place of one key of a mapping
HOSTILE_KEYS = ["<<", '"\\0"', "? [a, b]", "[a]", "{a: 1}", "1", "null", "true", "x" * 300,
                '"\\x1b[31m"', "&k name", "*k"]
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x9f", "\ufffe",
           "\ud800"]


@dataclass(frozen=True)
class Case:
    name: str
    folder: str  # where the mutated file lives among its neighbours
    file: str
    content: bytes


def _examples() -> list[tuple[Path, Path]]:
    return [(folder, path) for folder in FOLDERS for path in sorted(folder.glob("*.yaml"))]


def _scalars(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The (start, end) offsets of every scalar value and every mapping key of `text`."""
    values, keys = [], []
    stack = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                keys.append((key.start_mark.index, key.end_mark.index))
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.ScalarNode) and node.end_mark.index > node.start_mark.index:
            values.append((node.start_mark.index, node.end_mark.index))
    return sorted(values), sorted(keys)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _text_mutations(rng: random.Random, text: str) -> Iterator[tuple[str, bytes]]:
    raw = text.encode()
    for char in CONTROL:
        at = rng.randrange(len(text))
        yield f"control {char!r} at {at}", _encode(text[:at] + char + text[at:])
    for _ in range(3):
        at = rng.randrange(len(raw))
        yield f"byte 0xff at {at}", raw[:at] + b"\xff" + raw[at + 1:]
        cut = rng.randrange(len(raw))
        yield f"truncated at {cut}", raw[:cut]
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines))
    yield f"line {at + 1} removed", "".join(lines[:at] + lines[at + 1:]).encode()
    yield f"line {at + 1} indented by a tab", "".join(
        lines[:at] + ["\t" + lines[at]] + lines[at + 1:]).encode()
    yield "utf-16 with BOM", text.encode("utf-16")
    yield "utf-16-le without BOM", text.encode("utf-16-le")
    yield "utf-32 with BOM", text.encode("utf-32")
    yield "utf-8 with BOM", b"\xef\xbb\xbf" + raw
    yield "latin-1 é", text.replace("e", "é", 3).encode("latin-1")
    yield "cp1252 quotes", text.replace("a", "\u2019", 2).encode("cp1252")


WHOLE_FILES: list[tuple[str, bytes]] = [
    ("empty", b""), ("only a comment", b"# nothing\n"), ("a list", b"- a\n- b\n"),
    ("a scalar", b"hello\n"), ("a number", b"42\n"), ("null", b"~\n"),
    ("two documents", b"apiVersion: meshwatch/v1\n---\nkind: DataProduct\n"),
    ("deep lists", b"[" * 10000 + b"]" * 10000), ("deep maps", b"{a: " * 5000 + b"1" + b"}" * 5000),
    ("deep block", "".join(f"{' ' * i}k{i}:\n" for i in range(300)).encode()),
    ("recursive alias", b"&a [*a]\n"), ("recursive map alias", b"&a {x: *a}\n"),
    ("alias bomb", b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n".encode()
        for i in range(7))),
    ("NUL bytes", b"\x00" * 64), ("random bytes", bytes(random.Random(SEED).randrange(256)
                                                       for _ in range(512))),
    ("native with list metadata", b"apiVersion: meshwatch/v1\nkind: DataProduct\nmetadata: [1]\n"),
    ("native with scalar ports", b"apiVersion: meshwatch/v1\nkind: DataProduct\nports: 3\n"),
    ("odcs with list sla", b"apiVersion: v3.0.0\nkind: DataContract\nslaProperties: {a: 1}\n"),
    ("dcs with list servers", b"dataContractSpecification: 1.1.0\nid: x\nservers: [1, 2]\n"),
]


def corpus(size: int = 320) -> list[Case]:
    """`size` cases, the same ones on every run: value, key and byte mutations of each example
    file in turn, then whole-file oddities."""
    rng = random.Random(SEED)
    per_file: list[list[Case]] = []
    for folder, path in _examples():
        text = path.read_text(encoding="utf-8")
        values, keys = _scalars(text)
        where = str(folder.relative_to(ROOT))
        cases = []
        for start, end in rng.sample(values, min(len(values), 14)):
            value = rng.choice(HOSTILE_VALUES)
            cases.append(Case(f"{path.name}: {text[start:end][:30]!r} → {value[:30]!r}", where,
                              path.name, _encode(text[:start] + value + text[end:])))
        for start, end in rng.sample(keys, min(len(keys), 4)):
            key = rng.choice(HOSTILE_KEYS)
            cases.append(Case(f"{path.name}: key {text[start:end][:30]!r} → {key[:30]!r}", where,
                              path.name, _encode(text[:start] + key + text[end:])))
        cases += [Case(f"{path.name}: {name}", where, path.name, content)
                  for name, content in _text_mutations(rng, text)]
        per_file.append(cases)
    whole = [Case(name, str(FOLDERS[0].relative_to(ROOT)), "hostile.yaml", content)
             for name, content in WHOLE_FILES]
    mixed = [case for group in zip(*per_file, strict=False) for case in group]
    mixed += [case for cases in per_file for case in cases[len(min(per_file, key=len)):]]
    return (whole + mixed)[:size]


def load_case(case: Case, directory: Path):
    """Lay the case's folder out in `directory` (the mutated file among its neighbours) and load it."""
    for neighbour in sorted((ROOT / case.folder).glob("*.yaml")):
        (directory / neighbour.name).write_bytes(neighbour.read_bytes())
    (directory / case.file).write_bytes(case.content)
    return load_contracts([directory], KINDS)


def assert_located(registry, directory: Path) -> None:
    for problem in registry.problems:
        assert Path(problem.file).is_relative_to(directory), problem
        assert problem.line >= 1, problem
        assert problem.field and problem.message, problem
        assert "internal error" not in problem.message, problem
        str(problem).encode("utf-8")  # printable as it is shown


CASES = corpus()


def test_the_corpus_is_a_few_hundred_distinct_cases():
    assert len(CASES) >= 300
    assert len({case.content for case in CASES}) > 0.95 * len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"{i:03d}" for i in range(len(CASES))])
def test_a_mutated_contract_folder_loads_with_located_problems_and_no_exception(case, tmp_path):
    registry = load_case(case, tmp_path)
    assert_located(registry, tmp_path)
    # the file that was not touched still loads, unless it binds the mutated one
    mutated = str(tmp_path / case.file)
    for product in registry.products.values():
        assert product.source != mutated or not any(p.file == mutated for p in registry.problems)


@settings(derandomize=True, deadline=None, max_examples=150,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
       | st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape")))
def test_arbitrary_text_after_a_contract_header_loads_without_an_exception(tmp_path_factory, tail):
    directory = tmp_path_factory.mktemp("fuzz")
    head = "apiVersion: meshwatch/v1\nkind: DataProduct\n"
    (directory / "any.yaml").write_bytes((head + tail).encode("utf-8", "surrogateescape"))
    assert_located(load_contracts([directory], KINDS), directory)


NATIVE = (ROOT / "config" / "contracts" / "cart-events.yaml").read_text(encoding="utf-8")
PLACES = [("metadata", "name"), ("metadata",), ("owner", "team"), ("owner", "notify"),
          ("contract", "start"), ("contract", "end"), ("contract", "terms"), ("contract", "lineage"),
          ("contract", "source"), ("ports",), ("ports", 0, "name"), ("ports", 0, "interval"),
          ("ports", 0, "timeout"), ("ports", 0, "type"), ("objectives", 0, "target"),
          ("objectives", 0, "window"), ("objectives", 0, "threshold"), ("objectives", 0, "name"),
          ("objectives", 0, "port"), ("consumers", 0, "objectives"), ("consumers", 0, "notify"),
          ("maintenance",), ("maintenance", 0, "start"), ("maintenance", 0, "every"), ()]
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.decimals().map(str)
           | st.text(max_size=40) | st.dates() | st.datetimes() | st.sampled_from(HOSTILE_VALUES))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


def _replaced(data, place, value):
    if not place:
        return value
    node = data
    for part in place[:-1]:
        node = node[part]
    node[place[-1]] = value
    return data


@settings(derandomize=True, deadline=None, max_examples=150,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.sampled_from(PLACES), VALUES)
def test_any_value_in_any_field_of_a_native_contract_is_a_located_problem_or_loads(
        tmp_path_factory, place, value):
    data = yaml.safe_load(NATIVE)
    data.setdefault("contract", {})
    data["maintenance"] = [{"start": "2026-12-01T02:00:00Z", "duration": "2h"}]
    directory = tmp_path_factory.mktemp("fuzz")
    text = yaml.safe_dump(_replaced(data, place, value), allow_unicode=True)
    (directory / "any.yaml").write_text(text, encoding="utf-8")
    assert_located(load_contracts([directory], KINDS), directory)
