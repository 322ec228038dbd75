"""Open Data Contract Standard v3.x → StandardContract, using the standard's pydantic model."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from open_data_contract_standard.model import OpenDataContractStandard

from monitor.contracts.declared import (
    ACCESS_NOT_CHECKED,
    DRIVER,
    NOT_MEASURED,
    SCHEDULE_NOT_CHECKED,
    listed,
    schema_objects,
)
from monitor.contracts.model import DeclaredProperty, Indicator, Objective, Owner, name_refusal
from monitor.contracts.problems import Problem, problem_at, validate_every_field
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

FRESHNESS_PROPERTIES = {"latency", "freshness"}
UNMONITORED_REASON = NOT_MEASURED
MAPPED = {"availability", "errorrate", "latency", "freshness"}
OBJECTIVE_CUSTOM_PROPERTIES = {"window", "timezone"}  # read by `windowed`
QUALIFIERS = (("driver", DRIVER), ("schedule", SCHEDULE_NOT_CHECKED),
              ("scheduler", SCHEDULE_NOT_CHECKED),
              ("valueExt", "declared; meshwatch judges the property's value, not valueExt"))


def is_odcs(data: object) -> bool:
    return (isinstance(data, dict) and data.get("kind") == "DataContract"
            and str(data.get("apiVersion", "")).startswith("v3"))


def load_odcs(document: YamlDocument) -> tuple[StandardContract | None, list[Problem]]:
    spec, problems = validate_every_field(OpenDataContractStandard, document)  # then map what is left
    if spec is None:
        return None, problems
    contract = StandardContract(
        format=f"odcs/{spec.apiVersion}",
        domain=slug(spec.domain or "default"),
        name=slug(spec.dataProduct or spec.name or spec.id or document.path.stem),
        owner=_owner(spec),
        description=_description(spec),
        version=spec.version,
    )
    for index, sla in enumerate(spec.slaProperties or []):
        location = ("slaProperties", index)
        objectives = len(contract.objectives)
        try:
            _apply_sla(contract, sla, index, spec.slaDefaultElement)
        except ValueError as error:
            problems.append(problem_at(document, (*location, "value"), str(error)))
            continue
        if len(contract.objectives) > objectives:  # this property made an objective
            contract.objectives[-1], window_problems = windowed(
                contract.objectives[-1], document, partial(_custom_property, sla, location))
            problems += window_problems
    problems += product_id_problems(document, contract, next(
        ((key,) for key in ("dataProduct", "name", "id") if getattr(spec, key)), ()))
    servers = []
    for index, server in enumerate(spec.servers or []):
        name = server.server or f"server{index}"
        refusal = name_refusal(name, "a server name (a port's)")
        if refusal is not None:
            problems.append(problem_at(document, ("servers", index, "server"), refusal))
            continue
        servers.append(DeclaredServer(
            name, server.type or "", host=server.host, port=server.port, database=server.database,
            schema=server.schema_, location=server.location, environment=server.environment))
    contract.add_servers(servers)
    contract.unmonitored += _declared_elsewhere(spec)
    return contract, problems


def _apply_sla(contract: StandardContract, sla, index: int, default_element: str | None) -> None:
    """Map one SLA property; a freshness promise remembers the column it is about."""
    name = (sla.property or "").strip()
    key = name.lower()
    if key == "availability":
        contract.objectives.append(Objective(
            name="availability", indicator=Indicator.AVAILABILITY,
            target=parse_target(sla.value, sla.unit), description=sla.description))
    elif key == "errorrate":
        allowed = parse_target(sla.value, sla.unit)
        contract.objectives.append(Objective(
            name="error-rate", indicator=Indicator.ERROR_RATE, target=1 - allowed,
            description=sla.description or f"at most {sla.value}{sla.unit or ''} errors"))
    elif key in FRESHNESS_PROPERTIES:
        threshold = parse_duration(sla.value, sla.unit)
        contract.objectives.append(Objective(
            name=key, indicator=Indicator.FRESHNESS, threshold=threshold,
            target=parse_target(DEFAULT_FRESHNESS_TARGET), description=sla.description))
        contract.measured_on[key] = sla.element or default_element
    elif key == "frequency":
        contract.update_frequency = parse_duration(sla.value, sla.unit)
    elif key == "generalavailability":
        contract.start = _date(sla.value)
    elif key == "endofsupport":
        contract.end = _date(sla.value)
    label = name or f"slaProperties[{index}]"
    value = f"{sla.value}{' ' + sla.unit if sla.unit else ''}"
    if sla.element:
        value += f" on {sla.element}"
    if key == "frequency":
        contract.unmonitored.append(DeclaredProperty(label, value, SCHEDULE_NOT_CHECKED))
    elif key not in MAPPED:
        reason = UNMONITORED_REASON
        if key in {"generalavailability", "endofsupport"}:
            reason = "used as the contract's validity"
        contract.unmonitored.append(DeclaredProperty(label, value, reason))
    contract.unmonitored += _qualifiers(label, sla, read=OBJECTIVE_CUSTOM_PROPERTIES
                                        if key in MAPPED else set())


def _qualifiers(label: str, sla, read: set[str]) -> list[DeclaredProperty]:
    """What an SLA property says beside its value: `driver`, `schedule` / `scheduler` (a cron
    delivery schedule), `valueExt`, and custom properties other than those `read` (an
    objective's window and timezone)."""
    found = [listed(f"{label}.{field}", getattr(sla, field), reason)
             for field, reason in QUALIFIERS if getattr(sla, field) is not None]
    found += [listed(f"{label}.{custom.property}", custom.value, UNMONITORED_REASON)
              for custom in sla.customProperties or []
              if (custom.property or "").strip().lower() not in read]
    return found


def _declared_elsewhere(spec: OpenDataContractStandard) -> list[DeclaredProperty]:
    """The schema (one entry per object, quality rules counted), price and roles."""
    found = schema_objects("properties", (
        (obj.name or obj.physicalName or f"schema[{index}]", obj.physicalType,
         [prop.name for prop in obj.properties or []], _rules(obj))
        for index, obj in enumerate(spec.schema_ or [])))
    if spec.price is not None:
        found.append(listed("price", spec.price.model_dump(exclude_none=True), ACCESS_NOT_CHECKED))
    for role in spec.roles or []:
        found.append(listed(f"role {role.role}", role.access or "", ACCESS_NOT_CHECKED))
    return found


def _rules(element) -> int:
    """The quality rules of a schema object or property and of every property inside it."""
    inner = [*(element.properties or []), *([element.items] if getattr(element, "items", None) else [])]
    return len(element.quality or []) + sum(_rules(child) for child in inner)


def _custom_property(sla, location: tuple, key: str) -> tuple[tuple, object] | None:
    """The value of the SLA property's custom property `key` (`window`, `timezone`), and where
    it is: ODCS has no field for an objective's window, its custom properties carry it."""
    for position, custom in enumerate(sla.customProperties or []):
        if (custom.property or "").strip().lower() == key:
            return (*location, "customProperties", position, "value"), custom.value
    return None


def _date(value: object) -> date:
    if isinstance(value, datetime | date):
        return value if not isinstance(value, datetime) else value.date()
    return datetime.fromisoformat(str(value)).date()


def _owner(spec: OpenDataContractStandard) -> Owner:
    team = spec.team.name if spec.team is not None and hasattr(spec.team, "name") else None
    contact = None
    for support in spec.support or []:
        if support.url and support.url.startswith("mailto:"):
            contact = support.url.removeprefix("mailto:")
            break
        contact = contact or support.channel
    return Owner(team=team or spec.domain or "unknown", contact=contact)


def _description(spec: OpenDataContractStandard) -> str | None:
    if spec.description is None:
        return None
    return spec.description.purpose or spec.description.usage

