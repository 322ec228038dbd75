"""What a hostile contract file gets (issue 15): one located problem each — `file:line: field:
message` — and the file refused, while the other files of the folder still load. Never a
traceback, never a read of something that is not a regular file."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.loading import KINDS
from monitor.contracts import load_contracts
from monitor.values.durations import parse_duration
from monitor.values.limits import NAME_LENGTH
from monitor.values.targets import parse_target

GOOD = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: shop, name: basket}
owner: {team: shop, contact: shop@contoso.example}
ports:
  - name: api
    type: http
    url: http://127.0.0.1:9/basket
    interval: 1m
objectives:
  - {name: api-availability, port: api, indicator: availability, target: 99.9%}
"""
NEIGHBOUR = GOOD.replace("name: basket", "name: till")  # another product, always valid
ODCS = """\
apiVersion: v3.1.0
kind: DataContract
id: shop-basket
domain: shop
dataProduct: basket
slaProperties:
  - {property: availability, value: 99.5, unit: percent}
  - {property: frequency, value: 15, unit: m}
servers:
  - {server: db, type: postgres, host: db.example, database: shop}
"""


def problems_of(tmp_path: Path, content: str | bytes, name: str = "bad.yaml") -> list[str]:
    """Load a folder holding `content` as `name` beside a valid product; the problems, with
    paths relative to the folder. The neighbour must still load."""
    (tmp_path / "neighbour.yaml").write_text(NEIGHBOUR, encoding="utf-8")
    (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    registry = load_contracts([tmp_path], KINDS)
    assert "shop/till" in registry.products
    return [str(problem).removeprefix(f"{tmp_path}/") for problem in registry.problems]


# --- characters and encodings -------------------------------------------------------------------

def test_a_nul_byte_in_the_text_is_refused_at_its_line_and_column(tmp_path):
    assert problems_of(tmp_path, GOOD.replace("team: shop", "team: sh\0op")) == [
        "bad.yaml:4: (file): U+0000 (NUL) in column 17 is not allowed in a contract file "
        "(remove it) (a UTF-16 file needs a byte-order mark; UTF-8 is best)"]


@pytest.mark.parametrize(("char", "shown"), [("\x07", "U+0007"), ("\x1b", "U+001B"),
                                             ("\x7f", "U+007F"), ("\x9f", "U+009F")])
def test_a_control_character_in_the_text_is_refused_at_its_line(tmp_path, char, shown):
    assert problems_of(tmp_path, GOOD.replace("url: http", f"url: {char}http")) == [
        f"bad.yaml:8: (file): {shown} (a control character) in column 10 is not allowed in a "
        f"contract file (remove it)"]


def test_a_control_character_written_as_an_escape_is_refused_at_its_field(tmp_path):
    assert problems_of(tmp_path, GOOD.replace("team: shop", 'team: "sh\\x1bop"')) == [
        "bad.yaml:4: owner.team: U+001B (a control character) is not allowed in a value"]


def test_a_file_that_is_not_utf8_is_refused_at_the_line_of_the_first_bad_byte(tmp_path):
    latin1 = GOOD.replace("shop@", "shöp@").encode("latin-1")
    assert problems_of(tmp_path, latin1) == [
        "bad.yaml:4: (file): not UTF-8 text: byte 0xf6 cannot be read (save the file as UTF-8)"]


def test_utf16_and_utf32_with_a_byte_order_mark_are_read_as_yaml_allows(tmp_path):
    for encoding in ("utf-16", "utf-32", "utf-8-sig"):
        (tmp_path / "shop.yaml").write_bytes(GOOD.encode(encoding))
        registry = load_contracts([tmp_path], KINDS)
        assert registry.problems == [] and list(registry.products) == ["shop/basket"], encoding


def test_utf16_without_a_byte_order_mark_is_refused_with_a_hint(tmp_path):
    assert problems_of(tmp_path, GOOD.encode("utf-16-le")) == [
        "bad.yaml:1: (file): U+0000 (NUL) in column 2 is not allowed in a contract file "
        "(remove it) (a UTF-16 file needs a byte-order mark; UTF-8 is best)"]


@pytest.mark.parametrize("content", ["", "# only a comment\n", "- a\n- b\n", "hello\n", "42\n"])
def test_a_file_that_is_empty_a_list_or_a_scalar_is_not_a_contract(tmp_path, content):
    assert problems_of(tmp_path, content) == [
        "bad.yaml:1: (file): not a contract: expected apiVersion: meshwatch/v1, an ODCS v3 "
        "DataContract or a dataContractSpecification file"]


# --- values YAML cannot construct ---------------------------------------------------------------

@pytest.mark.parametrize(("written", "message"), [
    ("2026-02-30", "'2026-02-30' is not a date or time (day is out of range for month)"),
    ("2026-13-01", "'2026-13-01' is not a date or time (month must be in 1..12)"),
    ("!!timestamp x", "'x' is not a date or time"),
])
def test_an_impossible_date_is_refused_at_its_field(tmp_path, written, message):
    bad = GOOD.replace("ports:", f"contract: {{start: {written}}}\nports:")
    assert problems_of(tmp_path, bad) == [f"bad.yaml:5: contract.start: {message}"]


@pytest.mark.parametrize(("written", "field", "line", "message"), [
    ("target: !!float abc", "objectives[0].target", 11,
     "'abc' is not a number (could not convert string to float: 'abc')"),
    ("interval: !!int 1.5", "ports[0].interval", 9,
     "'1.5' is not an integer (invalid literal for int() with base 10: '1.5')"),
    ("team: !!bool maybe", "owner.team", 4, "'maybe' is not a boolean"),
    ("team: !!binary AA==", "owner.team", 4, "binary values are not allowed in a contract"),
    ("team: !!python/object:os.system x", "owner.team", 4,
     "unknown tag '!!python/object:os.system' (a contract uses plain values)"),
    ("team: !custom x", "owner.team", 4, "unknown tag '!custom' (a contract uses plain values)"),
])
def test_a_bad_tag_is_refused_at_its_field(tmp_path, written, field, line, message):
    key = written.split(":")[0]
    original = {"target": "target: 99.9%", "interval": "interval: 1m", "team": "team: shop"}[key]
    assert problems_of(tmp_path, GOOD.replace(original, written, 1)) == [
        f"bad.yaml:{line}: {field}: {message}"]


def test_a_recursive_alias_is_refused_where_it_recurses(tmp_path):
    bad = GOOD.replace("ports:", "contract: {terms: &a [*a]}\nports:")
    assert problems_of(tmp_path, bad) == [
        "bad.yaml:5: contract.terms[0]: a recursive alias: this value contains itself"]


def test_an_alias_bomb_stops_at_the_limit_of_values(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(7))
    (problem,) = problems_of(tmp_path, GOOD + bomb)
    assert problem.endswith("more than 100000 values once aliases are expanded")


def test_nesting_deeper_than_the_limit_is_refused(tmp_path):
    assert problems_of(tmp_path, GOOD + "x: " + "[" * 150 + "]" * 150 + "\n") == [
        "bad.yaml:12: x[0][0]: nested more than 100 levels deep"]
    assert problems_of(tmp_path, "[" * 10000 + "]" * 10000) == [
        "bad.yaml:1: (file): not valid YAML: exceeded maximum nesting depth"]


def test_a_huge_integer_or_a_boolean_where_text_is_expected_is_a_field_problem(tmp_path):
    assert problems_of(tmp_path, GOOD.replace("target: 99.9%", "target: " + "9" * 400)) == [
        "bad.yaml:11: objectives[0].target: 9999999999999999999999999999999999999999… "
        "(400 characters) must be above 0 % and below 100 %"]
    assert problems_of(tmp_path, GOOD.replace("team: shop", "team: true")) == [
        "bad.yaml:4: owner.team: Input should be a valid string"]
    assert problems_of(tmp_path, GOOD.replace("target: 99.9%", "target: " + "9" * 5000)) == [
        f"bad.yaml:11: objectives[0].target: '{'9' * 40}…' is not an integer"]


# --- numbers: NaN, infinity, overflow ----------------------------------------------------------

@pytest.mark.parametrize(("written", "shown"), [
    (".nan", "nan"), ("NaN", "'NaN'"), (".inf", "inf"), ("-.inf", "-inf"), ("Infinity", "'Infinity'")])
def test_a_target_that_is_not_a_finite_number_is_refused(tmp_path, written, shown):
    assert problems_of(tmp_path, GOOD.replace("target: 99.9%", f"target: {written}")) == [
        f"bad.yaml:11: objectives[0].target: target must be a number between 0 and 100, not {shown}"]


def test_an_interval_or_window_that_overflows_is_refused_as_too_long(tmp_path):
    assert problems_of(tmp_path, GOOD.replace("interval: 1m", "interval: 99999999999999999d")) == [
        "bad.yaml:9: ports[0].interval: duration 99999999999999999d is too long "
        "(at most 36500d, 100 years)"]
    windowed = GOOD.replace("target: 99.9%}", "target: 99.9%, window: 99999999999999999d}")
    assert problems_of(tmp_path, windowed) == [
        "bad.yaml:11: objectives[0].window: duration 99999999999999999d is too long "
        "(at most 36500d, 100 years)"]


@pytest.mark.parametrize(("written", "message"), [
    ("1e309", "duration 1e309 m is too long (at most 36500d, 100 years)"),
    ("99999999999999999999", "duration 99999999999999999999 m is too long (at most 36500d, 100 years)"),
    (".inf", "'inf' is not a duration (a finite number is needed)"),
    (".nan", "'nan' is not a duration (a finite number is needed)"),
    ("-15", "duration -15 is negative"),
])
def test_an_odcs_duration_that_overflows_or_is_not_finite_is_refused_at_its_value(
        tmp_path, written, message):
    assert problems_of(tmp_path, ODCS.replace("value: 15", f"value: {written}"), "bad.odcs.yaml") == [
        f"bad.odcs.yaml:8: slaProperties[1].value: {message}"]


def test_an_odcs_availability_of_nan_is_refused_at_its_value(tmp_path):
    assert problems_of(tmp_path, ODCS.replace("value: 99.5", "value: .nan"), "bad.odcs.yaml") == [
        "bad.odcs.yaml:7: slaProperties[0].value: target must be a number between 0 and 100, not nan"]


@pytest.mark.parametrize("value", ["99999999999999999d", "PT99999999999999999H", "P99999999999Y",
                                   "9" * 5000 + "s", "1e999999999"])
def test_the_duration_parser_raises_only_value_errors(value):
    with pytest.raises(ValueError, match="too long"):
        parse_duration(value, "s" if value.startswith("1e") else None)


@pytest.mark.parametrize("value", [float("nan"), "nan", "sNaN", float("inf"), "-Infinity",
                                   "1e999999999", "1e-999999999", [1], {"a": 1}])
def test_the_target_parser_raises_only_value_errors(value):
    with pytest.raises(ValueError):
        parse_target(value)


def test_a_maintenance_start_whose_occurrences_would_overflow_is_refused(tmp_path):
    bad = GOOD + "maintenance:\n  - {start: \"9999-12-31T23:00:00Z\", duration: 2h}\n"
    assert problems_of(tmp_path, bad) == [
        "bad.yaml:13: maintenance[0].start: start must be in the years 1970 to 9000 "
        "(got 9999-12-31T23:00:00+00:00)"]


# --- contract.source -----------------------------------------------------------------------------

@pytest.fixture
def binding(tmp_path):
    """A native file binding `contract.source: SOURCE`; returns its problems."""
    def problems(source: str) -> list[str]:
        text = GOOD.replace("ports:", f"contract: {{source: {source}}}\nports:")
        return problems_of(tmp_path, text)
    return problems


def test_a_missing_source_is_refused(binding):
    assert binding("nowhere.odcs.yaml") == [
        "bad.yaml:5: contract.source: no such file: nowhere.odcs.yaml"]


def test_a_source_that_is_a_directory_is_refused(binding, tmp_path):
    (tmp_path / "standards").mkdir()
    assert binding("standards") == [
        "bad.yaml:5: contract.source: standards is a directory, not a contract file: skipped "
        "without reading it"]


def test_a_source_that_is_a_fifo_is_refused_without_opening_it(binding, tmp_path):
    os.mkfifo(tmp_path / "pipe.odcs")
    assert binding("pipe.odcs") == [
        "bad.yaml:5: contract.source: pipe.odcs is a FIFO (named pipe), not a contract file: "
        "skipped without reading it"]


def test_a_source_with_a_nul_byte_is_refused(binding):
    assert binding('"a\\0b.yaml"') == [
        "bad.yaml:5: contract.source: U+0000 (NUL) is not allowed in a value"]


def test_a_source_outside_the_binding_files_folder_is_refused(binding, tmp_path):
    (tmp_path.parent / f"{tmp_path.name}-outside.odcs.yaml").write_text(ODCS)
    assert binding(f"../{tmp_path.name}-outside.odcs.yaml") == [
        f"bad.yaml:5: contract.source: ../{tmp_path.name}-outside.odcs.yaml is outside "
        f"{tmp_path.resolve()}: a bound contract must lie in the folder of the file that binds it, "
        f"or below it"]
    assert binding("/etc/passwd") == [
        f"bad.yaml:5: contract.source: /etc/passwd is outside {tmp_path.resolve()}: a bound "
        f"contract must lie in the folder of the file that binds it, or below it"]


def test_an_absurdly_long_source_is_refused(binding):
    assert binding("a" * 5000) == [
        "bad.yaml:5: contract.source: a path of 5000 characters is too long (at most 1024, 255 "
        "for one name)"]


def test_a_source_in_a_subfolder_is_bound(tmp_path):
    (tmp_path / "standards").mkdir()
    (tmp_path / "standards" / "basket.odcs.yaml").write_text(ODCS)
    text = GOOD.replace("ports:", "contract: {source: standards/basket.odcs.yaml}\nports:")
    (tmp_path / "basket.yaml").write_text(text)
    registry = load_contracts([tmp_path], KINDS)
    assert registry.problems == []
    assert registry.products["shop/basket"].format == "meshwatch/v1 + odcs/v3.1.0"


# --- files that are not regular files ------------------------------------------------------------

def test_a_fifo_in_the_contracts_folder_is_refused_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "x.yaml")  # opening it for reading would block until a writer comes
    assert problems_of(tmp_path, GOOD) == [
        "x.yaml:1: (file): a FIFO (named pipe), not a regular file: skipped without reading it"]


def test_a_socket_or_a_directory_named_like_a_contract_is_refused(tmp_path):
    short = Path(os.environ.get("TMPDIR", "/tmp"))  # a socket path must be short
    folder = short / f"meshwatch-sock-{os.getpid()}"
    folder.mkdir()
    try:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(folder / "s.yaml"))
            (folder / "d.yaml").mkdir()
            registry = load_contracts([folder], KINDS)
    finally:
        for child in folder.iterdir():
            child.rmdir() if child.is_dir() else child.unlink()
        folder.rmdir()
    assert [f"{Path(p.file).name}: {p.message}" for p in registry.problems] == [
        "d.yaml: a directory, not a regular file: skipped without reading it",
        "s.yaml: a socket, not a regular file: skipped without reading it"]


def test_a_device_given_as_a_contract_is_refused_without_being_read(tmp_path):
    registry = load_contracts([Path("/dev/zero")], KINDS)
    assert registry.problems == []  # not a YAML name: not a contract file at all
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")  # reading it would never end
    (problem,) = load_contracts([link], KINDS).problems
    assert problem.message == "a character device, not a regular file: skipped without reading it"


# --- names the store cannot hold -----------------------------------------------------------------

def test_a_product_id_longer_than_the_store_holds_is_refused_at_the_name(tmp_path):
    name = "b" * (NAME_LENGTH - len("shop/") + 1)
    assert problems_of(tmp_path, GOOD.replace("name: basket", f"name: {name}")) == [
        f"bad.yaml:3: metadata.name: the product id (domain/name) is {NAME_LENGTH + 1} characters "
        f"long; the store holds at most {NAME_LENGTH} (shop/{'b' * 25}…)"]
    fits = GOOD.replace("name: basket", f"name: {'b' * (NAME_LENGTH - len('shop/'))}")
    (tmp_path / "bad.yaml").write_text(fits)
    assert load_contracts([tmp_path], KINDS).problems == []


def test_a_port_or_objective_name_longer_than_the_store_holds_is_refused(tmp_path):
    long = "p" * (NAME_LENGTH + 1)
    bad = GOOD.replace("name: api\n", f"name: {long}\n").replace("port: api", f"port: {long}")
    assert problems_of(tmp_path, bad) == [
        f"bad.yaml:6: ports[0].name: a port name is {NAME_LENGTH + 1} characters long; the store "
        f"holds at most {NAME_LENGTH} ({'p' * 30}…)"]
    bad = GOOD.replace("name: api-availability", f"name: {'o' * (NAME_LENGTH + 1)}")
    assert problems_of(tmp_path, bad) == [
        f"bad.yaml:11: objectives[0].name: an objective name is {NAME_LENGTH + 1} characters "
        f"long; the store holds at most {NAME_LENGTH} ({'o' * 30}…)"]
    fits = GOOD.replace("name: api-availability", f"name: {'o' * NAME_LENGTH}")
    (tmp_path / "bad.yaml").write_text(fits)
    assert load_contracts([tmp_path], KINDS).problems == []


def test_standard_contracts_with_names_the_store_cannot_hold_are_refused(tmp_path):
    folders = iter(tmp_path / str(n) for n in range(3))
    for folder in (tmp_path / str(n) for n in range(3)):
        folder.mkdir()
    odcs = ODCS.replace("dataProduct: basket", f"dataProduct: {'b' * NAME_LENGTH}")
    assert problems_of(next(folders), odcs, "bad.odcs.yaml") == [
        f"bad.odcs.yaml:5: dataProduct: the product id (domain/name) is {NAME_LENGTH + 5} "
        f"characters long; the store holds at most {NAME_LENGTH} (shop/{'b' * 25}…)"]
    odcs = ODCS.replace("server: db", f"server: {'s' * (NAME_LENGTH + 1)}")
    assert problems_of(next(folders), odcs, "bad.odcs.yaml") == [
        f"bad.odcs.yaml:10: servers[0].server: a server name (a port's) is {NAME_LENGTH + 1} "
        f"characters long; the store holds at most {NAME_LENGTH} ({'s' * 30}…)"]
    dcs = (f"dataContractSpecification: 1.1.0\nid: {'d' * NAME_LENGTH}\ninfo: {{title: x, "
           f"version: 1.0.0}}\n")
    assert problems_of(next(folders), dcs, "bad.dcs.yaml") == [
        f"bad.dcs.yaml:2: id: the product id (domain/name) is {NAME_LENGTH + 8} characters long; "
        f"the store holds at most {NAME_LENGTH} (default/{'d' * 22}…)"]


def test_a_name_with_a_control_character_is_refused(tmp_path):
    assert problems_of(tmp_path, GOOD.replace("name: api\n", 'name: "api\\x07"\n')) == [
        "bad.yaml:6: ports[0].name: U+0007 (a control character) is not allowed in a value"]
    assert problems_of(tmp_path, GOOD.replace("name: basket", 'name: "basket\\n"')) == [
        "bad.yaml:3: metadata.name: String should match pattern '^[a-z0-9][a-z0-9_-]*$'"]


# --- the command -------------------------------------------------------------------------------

def test_validate_on_a_folder_with_a_fifo_and_a_broken_file_exits_1_without_a_traceback(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "broken.yaml").write_text(GOOD.replace("ports:", "contract: {start: 2026-02-30}\n"
                                                                 "ports:"))
    os.mkfifo(tmp_path / "x.yaml")
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--config", str(tmp_path)])
    assert result.exit_code == 1, result.output  # the validation exit code (docs/contracts.md)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{tmp_path}/broken.yaml:5: contract.start: '2026-02-30' is not a date or time " \
           f"(day is out of range for month)" in result.output
    assert f"{tmp_path}/x.yaml:1: (file): a FIFO (named pipe), not a regular file: skipped " \
           f"without reading it" in result.output
    assert "2 problem(s); 1 product(s) valid" in result.output
