"""Data Contract Specification 1.x → StandardContract, using the specification's pydantic model."""

from __future__ import annotations

from datacontract_specification.model import DataContractSpecification, ServiceLevel

from monitor.contracts.declared import (
    CADENCE_ONLY,
    DELIVERY_KIND,
    NOT_MEASURED,
    QUALITY_NOT_CHECKED,
    SCHEDULE_WITHOUT_PROMISE,
    listed,
    schema_objects,
)
from monitor.contracts.maintenance import zone_named
from monitor.contracts.model import DeclaredProperty, Indicator, Objective, Owner, name_refusal
from monitor.contracts.problems import Problem, problem_at, validate_every_field
from monitor.contracts.schedule import Schedule, parse_schedule
from monitor.contracts.schema import family_of
from monitor.contracts.standard import (
    DEFAULT_FRESHNESS_TARGET,
    DELIVERY_OBJECTIVE,
    DeclaredServer,
    DeclaredTable,
    StandardContract,
    product_id_problems,
    slug,
    windowed,
)
from monitor.contracts.yamlsource import YamlDocument
from monitor.values.durations import parse_duration
from monitor.values.targets import parse_target

INTERVAL_WORDS = {"hourly": "1h", "daily": "1d", "weekly": "7d"}
UNMONITORED_LEVELS = ("retention", "support", "backup")
WINDOW_KEYS = {"window", "timezone"}  # meshwatch's own keys beside a service level (`_windowed`)
UNKNOWN_FIELD = "not a field of DCS 1.x servicelevels: not read"


def is_dcs(data: object) -> bool:
    return isinstance(data, dict) and "dataContractSpecification" in data


def load_dcs(document: YamlDocument) -> tuple[StandardContract | None, list[Problem]]:
    spec, problems = validate_every_field(DataContractSpecification, document)  # then map what is left
    if spec is None:
        return None, problems
    info = spec.info
    contact = info.contact if info else None
    reach = (contact.email or contact.url or contact.name) if contact is not None else None
    contract = StandardContract(
        format=f"dcs/{spec.dataContractSpecification}",
        domain="default",
        name=slug(spec.id or document.path.stem),
        owner=Owner(team=(info.owner if info and info.owner else "unknown"),
                    contact=reach),
        description=(info.description or info.title) if info else None,
        version=info.version if info else None,
        terms=spec.terms.model_dump(exclude_none=True) if spec.terms else {},
    )
    levels = spec.servicelevels
    if levels is not None:
        _apply_service_levels(document, contract, levels, problems)
    problems += product_id_problems(document, contract, ("id",) if spec.id else ())
    servers = []
    for name, server in spec.servers.items():
        refusal = name_refusal(name, "a server name (a port's)")
        if refusal is not None:
            problems.append(problem_at(document, ("servers", name), refusal))
            continue
        servers.append(DeclaredServer(
            name, server.type or "", host=server.host, port=server.port, database=server.database,
            schema=server.schema_, location=server.location, environment=server.environment))
    contract.tables = [DeclaredTable(name, name, {field: f.type for field, f in model.fields.items()},
                                     {field: f.type if f.type and family_of(f.type) else None
                                      for field, f in model.fields.items()})
                       for name, model in spec.models.items()]
    contract.add_servers(servers)
    contract.unmonitored += _declared_elsewhere(spec, document, contract.schema_checked)
    return contract, problems


def _apply_service_levels(document, contract, levels, problems) -> None:

    def reading(location, read):
        try:
            return read()
        except ValueError as error:
            problems.append(problem_at(document, ("servicelevels", *location), str(error)))
            return None

    if levels.availability and levels.availability.percentage is not None:
        target = reading(("availability", "percentage"),
                         lambda: parse_target(levels.availability.percentage))
        if target is not None:
            contract.objectives.append(_windowed(document, problems, "availability", Objective(
                name="availability", indicator=Indicator.AVAILABILITY, target=target,
                description=levels.availability.description)))
    frequency = levels.frequency
    cron = frequency.cron if frequency is not None else None
    # the delivery schedule judges every freshness promise (DCS names no column for it)
    schedule: Schedule | None = reading(("frequency", "cron"), lambda: parse_schedule(cron)) \
        if cron is not None else None
    zone = _delivery_zone(document, problems) if schedule is not None else None
    for key, level, field in (("freshness", levels.freshness, "timestampField"),
                              ("latency", levels.latency, "sourceTimestampField")):
        if level is None or level.threshold is None:
            continue
        threshold = reading((key, "threshold"), lambda level=level: parse_duration(level.threshold))
        if threshold is not None:
            contract.objectives.append(_windowed(document, problems, key, Objective(
                name=key, indicator=Indicator.FRESHNESS, threshold=threshold,
                target=parse_target(DEFAULT_FRESHNESS_TARGET), description=level.description,
                schedule=schedule, timezone=zone)))
            contract.measured_on[key] = getattr(level, field)
    if frequency is not None:
        interval = frequency.interval
        if interval:
            contract.update_frequency = reading(
                ("frequency", "interval"),
                lambda: parse_duration(INTERVAL_WORDS.get(interval.lower(), interval)))
        contract.unmonitored += _frequency(document, problems, contract, schedule, zone)
    if levels.latency is not None and levels.latency.processedTimestampField:
        contract.unmonitored.append(listed(
            "latency.processedTimestampField", levels.latency.processedTimestampField,
            "declared; latency is judged on sourceTimestampField alone"))
    for key in UNMONITORED_LEVELS:
        level = getattr(levels, key)
        if level is not None:
            summary = "; ".join(f"{name}={value}" for name, value in
                                level.model_dump(exclude_none=True).items())
            contract.unmonitored.append(DeclaredProperty(key, summary, NOT_MEASURED))
    contract.unmonitored += _unknown_levels(document)


def _delivery_zone(document: YamlDocument, problems: list[Problem]) -> str | None:
    """`servicelevels.frequency.timezone`: the clock of the delivery schedule (meshwatch's own
    key beside the level, as `window` and `timezone` are beside the others)."""
    levels = document.data.get("servicelevels")
    frequency = levels.get("frequency") if isinstance(levels, dict) else None
    if not isinstance(frequency, dict) or "timezone" not in frequency:
        return None
    try:
        return zone_named(str(frequency["timezone"])).key
    except ValueError as error:
        problems.append(problem_at(document, ("servicelevels", "frequency", "timezone"), str(error)))
        return None


def _frequency(document: YamlDocument, problems: list[Problem], contract,
               schedule: Schedule | None, zone: str | None) -> list[DeclaredProperty]:
    """What `frequency` adds: with a cron and no freshness promise for it to judge, the
    delivery is an objective of its own (`frequency`, a new delivery every `interval`); what is
    not mapped is listed — the kind, an interval without a cron, a cron with nothing to judge."""
    frequency = document.data["servicelevels"]["frequency"]  # a mapping: the model read it
    judged = any(o.schedule is not None for o in contract.objectives)
    if schedule is not None and not judged and contract.update_frequency is not None:
        objective, found = windowed(Objective(
            name=DELIVERY_OBJECTIVE, indicator=Indicator.FRESHNESS,
            threshold=contract.update_frequency, target=parse_target(DEFAULT_FRESHNESS_TARGET),
            description=frequency.get("description"), schedule=schedule, timezone=zone),
            document, lambda name: (("servicelevels", "frequency", name), frequency[name])
            if name == "window" and name in frequency else None)  # its zone is read already
        contract.objectives.append(objective)
        problems += found
        judged = True
    listing = []
    if frequency.get("type") is not None:
        listing.append(listed("frequency.type", frequency["type"], DELIVERY_KIND))
    if frequency.get("interval") is not None and schedule is None:
        listing.append(listed("frequency.interval", frequency["interval"], CADENCE_ONLY))
    if schedule is not None and not judged:
        listing.append(listed("frequency.cron", frequency["cron"], SCHEDULE_WITHOUT_PROMISE))
    return listing


def _unknown_levels(document: YamlDocument) -> list[DeclaredProperty]:
    """Keys of `servicelevels` that DCS 1.x does not define (its model would drop them): a
    misspelt `freshnes` is shown, not lost. `window` and `timezone` are meshwatch's own."""
    levels = document.data.get("servicelevels")
    found = []
    for key, level in (levels.items() if isinstance(levels, dict) else ()):
        known = ServiceLevel.model_fields.get(key)
        if known is None:
            found.append(listed(f"servicelevels.{key}", level, UNKNOWN_FIELD))
            continue
        model = getattr(known.annotation, "__args__", (None,))[0]
        fields = getattr(model, "model_fields", {})
        for name, value in (level.items() if isinstance(level, dict) and fields else ()):
            if name not in fields and name not in WINDOW_KEYS:
                found.append(listed(f"servicelevels.{key}.{name}", value, UNKNOWN_FIELD))
    return found


def _declared_elsewhere(spec: DataContractSpecification, document: YamlDocument,
                        checked: set[str]) -> list[DeclaredProperty]:
    """The models not compared on a port (one schema entry each; quality rules counted for
    all) and top-level quality."""
    found = schema_objects("fields", (
        (name, model.type, list(model.fields), len(model.quality or []) + sum(
            len(field.quality or []) for field in model.fields.values()))
        for name, model in spec.models.items()), checked)
    quality = document.data.get("quality")  # deprecated in DCS 1.1: read as written, no warning
    if quality is not None:
        kind = quality.get("type") if isinstance(quality, dict) else None
        found.append(listed("quality", kind or "rules", QUALITY_NOT_CHECKED))
    return found


def _windowed(document: YamlDocument, problems: list[Problem], key: str, objective: Objective
              ) -> Objective:
    """The objective with the `window` / `timezone` written beside its service level
    (`servicelevels.availability.window: 1M`): DCS has no field for them, so they are read from
    the file as written (the specification's model drops unknown keys)."""
    levels = document.data.get("servicelevels")
    level = levels.get(key) if isinstance(levels, dict) else None

    def read(name: str) -> tuple[tuple, object] | None:
        if not isinstance(level, dict) or name not in level:
            return None
        return ("servicelevels", key, name), level[name]

    objective, found = windowed(objective, document, read)
    problems += found
    return objective
