"""`meshwatch/v1` DataProduct files → DataProduct, optionally binding a standard contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from monitor.contracts.kinds import Kinds
from monitor.contracts.maintenance import zone_named
from monitor.contracts.model import (
    Consumer,
    DataProduct,
    DeclaredProperty,
    Indicator,
    MaintenanceWindow,
    Objective,
    Owner,
    Port,
)
from monitor.contracts.problems import Problem, problem_at, problems_from_validation
from monitor.contracts.spec import DESTINATION_OPTIONS, DataProductSpec, MaintenanceSpec, PortSpec
from monitor.contracts.standard import StandardContract, bind_to_ports
from monitor.contracts.yamlsource import Location, YamlDocument, control_character, kind_of_file
from monitor.values.durations import format_duration
from monitor.values.extras import MissingExtra
from monitor.values.secrets import missing_variables
from monitor.values.volumes import VolumeUnit, parse_amount

MAX_PATH = 1024  # characters of a contract.source path (Linux allows 4096, and 255 per name)
MAX_PATH_PART = 255
StandardLoader = Callable[[Path], tuple[StandardContract | None, list[Problem]]]


def is_native(data: object) -> bool:
    return isinstance(data, dict) and data.get("apiVersion") == "meshwatch/v1"


def load_native(document: YamlDocument, load_standard: StandardLoader, kinds: Kinds
                ) -> tuple[DataProduct | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        spec = DataProductSpec.model_validate(document.data)
    except ValidationError as error:
        spec = None  # go on: references are checked on the raw data, so every problem shows now
        problems += problems_from_validation(document, error)
    standard = None
    source = _source(document.data)
    if source is not None:
        path, refusal = source_path(document.path, source)
        if path is None:
            problems.append(problem_at(document, ("contract", "source"), refusal))
        else:
            standard, standard_problems = load_standard(path)
            problems += standard_problems
    problems += _cross_check(document, standard) + _kind_problems(document, kinds)
    if spec is None or problems:
        return None, problems
    return _product(spec, standard, document), problems


def _source(data: dict) -> str | None:
    contract = data.get("contract")
    source = contract.get("source") if isinstance(contract, dict) else None
    return source if isinstance(source, str) and source else None


def bound_source(document: YamlDocument) -> Path | None:
    """The standard file a native document binds, when it names a usable one."""
    source = _source(document.data) if is_native(document.data) else None
    return source_path(document.path, source)[0] if source is not None else None


def source_path(native: Path, source: str) -> tuple[Path | None, str]:
    """The file `contract.source` names (relative to the native file `native`), resolved; or None
    and why it cannot be read: no such file, a directory, a FIFO or other file that is not a
    regular one (never opened), a path that is not one, or a file outside the native file's folder."""
    if control_character(source):
        return None, f"{source!r} is not a path: it holds a control character"
    if len(source) > MAX_PATH or any(len(part) > MAX_PATH_PART for part in Path(source).parts):
        return None, (f"a path of {len(source)} characters is too long (at most {MAX_PATH}, "
                      f"{MAX_PATH_PART} for one name)")
    folder = native.parent.resolve()
    try:
        path = (folder / source).resolve()
    except (OSError, RuntimeError, ValueError) as error:
        return None, f"{source!r} cannot be resolved: {error}"
    if not path.is_relative_to(folder):
        return None, (f"{source} is outside {folder}: a bound contract must lie in the folder of "
                      f"the file that binds it, or below it")
    try:
        kind = kind_of_file(path.stat().st_mode)
    except FileNotFoundError:
        return None, f"no such file: {source}"
    except OSError as error:
        return None, f"cannot read {source}: {error.strerror or error}"
    if kind is not None:
        return None, f"{source} is {kind}, not a contract file: skipped without reading it"
    return path, ""


def _product(spec: DataProductSpec, standard: StandardContract | None,
             document: YamlDocument) -> DataProduct:
    declared = {port.name: port for port in (standard.ports if standard else [])}
    ports = dict(declared)
    for port in spec.ports:
        options = dict(port.model_extra or {})
        server = declared.get(port.name)
        if server is not None and server.type == port.type and "schema" in server.options:
            # a binding gives the server's connection details; the standard's schema stays
            options.setdefault("schema", server.options["schema"])
        ports[port.name] = Port(port.name, port.type, port.interval, port.timeout, options)
    # the standard's promises stay on their own ports; a native objective of the same name
    # replaces one, port and all
    objectives = {objective.name: objective
                  for objective in (bind_to_ports(standard, ports.values()) if standard else [])}
    contract = spec.contract
    daily = contract.terms.max_daily_volume
    for objective in spec.objectives:
        unbounded = objective.indicator is Indicator.VOLUME and not (objective.minimum or
                                                                    objective.maximum)
        objectives[objective.name] = Objective(
            name=objective.name, indicator=objective.indicator, target=objective.target,
            window=objective.window.length, threshold=objective.threshold, port=objective.port,
            description=objective.description, calendar=objective.window.calendar,
            timezone=objective.timezone, schedule=objective.schedule,
            minimum=objective.minimum, maximum=daily if unbounded else objective.maximum)
    raw_terms = document.data.get("contract", {}).get("terms") or {}
    unused_daily = daily is not None and not any(
        o.indicator is Indicator.VOLUME and o.maximum is daily for o in objectives.values())
    return DataProduct(
        domain=spec.metadata.domain,
        name=spec.metadata.name,
        description=spec.metadata.description or (standard.description if standard else None),
        owner=Owner(spec.owner.team, spec.owner.contact,
                    tuple(n.as_destination() for n in spec.owner.notify)),
        version=contract.version or (standard.version if standard else None),
        start=contract.start or (standard.start if standard else None),
        end=contract.end or (standard.end if standard else None),
        terms={**(standard.terms if standard else {}), **raw_terms},
        query_interval=contract.terms.query_interval,
        upstream=tuple(contract.lineage.upstream),
        ports=tuple(ports.values()),
        objectives=tuple(objectives.values()),
        consumers=tuple(
            Consumer(team=c.team, contact=c.contact, purpose=c.purpose, start=c.start, end=c.end,
                     notify=tuple(n.as_destination() for n in c.notify),
                     objectives=tuple(c.objectives) if c.objectives is not None else None,
                     min_severity=c.severity)
            for c in spec.consumers),
        maintenance=tuple(_maintenance_window(m) for m in spec.maintenance),
        maintenance_counts_in_slo=spec.maintenance_in_slo == "counted",
        update_frequency=standard.update_frequency if standard else None,
        unmonitored=tuple(declared for declared in (standard.unmonitored if standard else ())
                          if declared.name not in {f"server {name}" for name in ports})  # bound
        + ((DeclaredProperty("terms.max_daily_volume", str(raw_terms.get("max_daily_volume")),
                             "no volume objective takes it: add {indicator: volume, port: …} "
                             "on a port that counts a day's volume"),) if unused_daily else ()),
        source=str(document.path),
        format="meshwatch/v1" + (f" + {standard.format}" if standard else ""),
    )


def _maintenance_window(spec: MaintenanceSpec) -> MaintenanceWindow:
    """A naive start is wall time in the window's zone (fold=0 in a DST gap or overlap)."""
    zone = spec.timezone or "UTC"
    start = spec.start if spec.start.tzinfo else spec.start.replace(tzinfo=zone_named(zone))
    return MaintenanceWindow(start, spec.duration, spec.every, timezone=zone, rrule=spec.rrule)


def _cross_check(document: YamlDocument, standard: StandardContract | None) -> list[Problem]:
    """What pydantic cannot see from one field: references between ports, objectives, consumers.

    Read from the raw data, so that a file with field errors gets these in the same pass."""
    problems: list[Problem] = []
    ports, objectives, consumers = (_entries(document.data, key)
                                    for key in ("ports", "objectives", "consumers"))
    port_names = {port.name for port in (standard.ports if standard else [])} | {
        port["name"] for _, port in ports if isinstance(port.get("name"), str)}
    objective_names = {objective.name for objective in (standard.objectives if standard else [])} | {
        objective["name"] for _, objective in objectives if isinstance(objective.get("name"), str)}
    for kind, entries in (("ports", ports), ("objectives", objectives)):
        seen: set[str] = set()
        for index, entry in entries:
            name = entry.get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                problems.append(problem_at(document, (kind, index, "name"),
                                           f"duplicate name {name!r}"))
            seen.add(name)
    for index, objective in objectives:
        port = objective.get("port")
        if isinstance(port, str) and port not in port_names:
            problems.append(problem_at(document, ("objectives", index, "port"),
                                       f"no port named {port!r} "
                                       f"(ports: {', '.join(sorted(port_names)) or 'none'})"))
    for index, consumer in consumers:
        agreed = consumer.get("objectives")
        for position, name in enumerate(agreed if isinstance(agreed, list) else []):
            if isinstance(name, str) and name not in objective_names:
                problems.append(problem_at(document, ("consumers", index, "objectives", position),
                                           f"no objective named {name!r}"))
    for index, port in ports:
        for key, value in port.items():
            if key in PortSpec.model_fields:
                continue  # common fields are pydantic's; placeholders live in the kind's own
            for name in missing_variables(value):
                problems.append(problem_at(document, ("ports", index, key),
                                           f"environment variable {name} is not set "
                                           f"(or give a default: ${{{name}:-value}})"))
    return problems


def _kind_problems(document: YamlDocument, kinds: Kinds) -> list[Problem]:
    """Each port's type is a known kind that checks its own settings (`${ENV}` placeholders are
    still text here), and each destination names a known kind."""
    problems: list[Problem] = []
    counted: dict[str, VolumeCount | None] = {}  # port name → its `volume:` block, when it counts
    for index, port in _entries(document.data, "ports"):
        kind = port.get("type")
        if not isinstance(kind, str):
            continue  # PortSpec reports it
        try:
            options_model = kinds.port_options(kind)
        except MissingExtra as error:
            problems.append(problem_at(document, ("ports", index, "type"), str(error)))
            continue
        if options_model is None:
            known = ", ".join(map(repr, kinds.ports))
            problems.append(problem_at(document, ("ports", index, "type"),
                                       f"unknown port type {kind!r} (types: {known})"))
            continue
        options = {key: value for key, value in port.items() if key not in PortSpec.model_fields}
        try:
            checked = options_model.model_validate(options)
        except ValidationError as error:
            problems += problems_from_validation(document, error, prefix=("ports", index))
            continue
        if isinstance(port.get("name"), str):
            counted[port["name"]] = getattr(checked, "volume", None)
    problems += _volume_problems(document, counted)
    for where, entry in _destinations(document.data):
        pairs = [key for key in entry if key not in DESTINATION_OPTIONS]  # the KIND: VALUE pair
        if len(pairs) == 1 and pairs[0] not in kinds.destinations:
            problems.append(problem_at(document, where,
                                       f"unknown destination kind {pairs[0]!r} "
                                       f"(kinds: {', '.join(map(repr, kinds.destinations))})"))
        channel = entry.get("channel")
        if kinds.channels is not None and isinstance(channel, str) and channel not in kinds.channels:
            names = ", ".join(sorted(kinds.channels)) or "none are configured"
            problems.append(problem_at(document, (*where, "channel"),
                                       f"no channel named {channel!r} (channels in meshwatch.yaml: "
                                       f"{names})"))
    return problems


class VolumeCount(Protocol):
    """What a kind's `volume:` block says (monitor.probes.base.VolumeOptions and its kinds')."""

    per: timedelta
    unit: str


def _volume_problems(document: YamlDocument, counted: dict[str, VolumeCount | None]
                     ) -> list[Problem]:
    """Each volume objective bounds a port that counts volume, in its unit; with neither min nor
    max, the terms' max_daily_volume is its max, which needs a port counting per day."""
    problems = []
    contract = document.data.get("contract")
    terms = contract.get("terms") if isinstance(contract, dict) else None
    daily = terms.get("max_daily_volume") if isinstance(terms, dict) else None
    for index, objective in _entries(document.data, "objectives"):
        port = objective.get("port")
        if objective.get("indicator") != Indicator.VOLUME.value or not isinstance(port, str):
            continue
        if port not in counted:
            continue  # no such port, or its settings are wrong: reported where they are
        volume = counted[port]
        if volume is None:
            problems.append(problem_at(document, ("objectives", index, "port"),
                                       f"port {port!r} counts no volume: give it a `volume:` "
                                       f"block (docs/contracts.md, Volume)"))
            continue
        bounds = [(key, objective[key]) for key in ("min", "max") if key in objective]
        if not bounds and daily is None:
            problems.append(problem_at(document, ("objectives", index, "indicator"),
                                       "a volume objective needs min or max (or the contract's "
                                       "terms.max_daily_volume)"))
        elif not bounds and volume.per != timedelta(days=1):
            problems.append(problem_at(document, ("objectives", index, "indicator"),
                                       f"terms.max_daily_volume is a day's volume, and port "
                                       f"{port!r} counts per {format_duration(volume.per)}: "
                                       f"give max"))
        for key, value in bounds or [("indicator", daily)]:
            unit = _unit_of(value)
            if unit is not None and unit.value != volume.unit:
                problems.append(problem_at(document, ("objectives", index, key),
                                           f"{value} is {unit.value}, and port {port!r} counts "
                                           f"{volume.unit}"))
    return problems


def _unit_of(value: object) -> VolumeUnit | None:
    try:
        return parse_amount(value).unit
    except ValueError:
        return None  # reported by the field's own check


def _destinations(data: dict) -> list[tuple[Location, dict]]:
    """Every `notify:` entry of the owner and the consumers, with its place in the file."""
    owner = data.get("owner")
    places: list[tuple[Location, object]] = []
    if isinstance(owner, dict):
        places.append((("owner", "notify"), owner.get("notify")))
    places += [(("consumers", index, "notify"), consumer.get("notify"))
               for index, consumer in _entries(data, "consumers")]
    return [((*where, position), entry) for where, entries in places
            if isinstance(entries, list)
            for position, entry in enumerate(entries) if isinstance(entry, dict)]


def _entries(data: dict, key: str) -> list[tuple[int, dict]]:
    """The mappings of the list `data[key]`, with their positions; nothing when it is no list."""
    items = data.get(key)
    if not isinstance(items, list):
        return []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, dict)]
