"""Data Contract Specification 1.x → StandardContract, using the specification's pydantic model."""

from __future__ import annotations

from datacontract_specification.model import DataContractSpecification
from pydantic import ValidationError

from monitor.contracts.model import DeclaredProperty, Indicator, Objective, Owner, name_refusal
from monitor.contracts.problems import Problem, problem_at, problems_from_validation
from monitor.contracts.standard import (
    DEFAULT_FRESHNESS_TARGET,
    DeclaredServer,
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


def is_dcs(data: object) -> bool:
    return isinstance(data, dict) and "dataContractSpecification" in data


def load_dcs(document: YamlDocument) -> tuple[StandardContract | None, list[Problem]]:
    try:
        spec = DataContractSpecification.model_validate(document.data)
    except ValidationError as error:
        return None, problems_from_validation(document, error)
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
    problems: list[Problem] = []
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
    contract.add_servers(servers)
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
    for key, level, field in (("freshness", levels.freshness, "timestampField"),
                              ("latency", levels.latency, "sourceTimestampField")):
        if level is None or level.threshold is None:
            continue
        threshold = reading((key, "threshold"), lambda level=level: parse_duration(level.threshold))
        if threshold is not None:
            contract.objectives.append(_windowed(document, problems, key, Objective(
                name=key, indicator=Indicator.FRESHNESS, threshold=threshold,
                target=parse_target(DEFAULT_FRESHNESS_TARGET), description=level.description)))
            contract.measured_on[key] = getattr(level, field)
    if levels.frequency is not None:
        interval = levels.frequency.interval
        if interval:
            contract.update_frequency = reading(
                ("frequency", "interval"),
                lambda: parse_duration(INTERVAL_WORDS.get(interval.lower(), interval)))
        if levels.frequency.cron:
            contract.unmonitored.append(DeclaredProperty(
                "frequency.cron", levels.frequency.cron, "a delivery schedule, not measured"))
    for key in UNMONITORED_LEVELS:
        level = getattr(levels, key)
        if level is not None:
            summary = "; ".join(f"{name}={value}" for name, value in
                                level.model_dump(exclude_none=True).items())
            contract.unmonitored.append(DeclaredProperty(
                key, summary, "declared by the contract; meshwatch does not measure it"))


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
