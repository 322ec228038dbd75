"""Open Data Contract Standard v3.x → StandardContract, using the standard's pydantic model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

from open_data_contract_standard.model import OpenDataContractStandard

from monitor.contracts.declared import (
    ACCESS_NOT_CHECKED,
    CADENCE_ONLY,
    DRIVER,
    NOT_MEASURED,
    SCHEDULE_ELSEWHERE,
    SCHEDULER_NOT_CRON,
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
    Delivery,
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
SCHEDULED = FRESHNESS_PROPERTIES | {"frequency"}  # where a cron schedule is read
QUALIFIERS = (("driver", DRIVER),
              ("valueExt", "declared; meshwatch judges the property's value, not valueExt"))
SCHEDULE_FIELDS = ("schedule", "scheduler")


@dataclass
class _Scheduling:
    """The SLA properties' cron schedules, read before any property is mapped (a `frequency`
    may come after the freshness promises it judges): `own` by property index; `delivery`, the
    first `frequency` with one, and whether it is an objective of its own (`standalone`: no
    freshness promise without a schedule of its own is on its column)."""

    own: dict[int, Schedule] = field(default_factory=dict)
    delivery: Delivery | None = None
    delivery_index: int | None = None
    standalone: bool = False

    def of(self, index: int, element: str | None) -> tuple[Schedule | None, str | None]:
        """The schedule and its zone for the freshness promise at `index` on `element`."""
        if index in self.own:
            return self.own[index], None
        if self.delivery is not None and self.delivery.judges(element):
            return self.delivery.schedule, self.delivery.timezone
        return None, None

    def reads(self, index: int) -> bool:
        return index in self.own


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
    scheduling = _scheduling(document, spec, problems)
    for index, sla in enumerate(spec.slaProperties or []):
        location = ("slaProperties", index)
        objectives = len(contract.objectives)
        try:
            _apply_sla(contract, sla, index, spec.slaDefaultElement, scheduling)
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
    contract.tables = _tables(spec)
    contract.add_servers(servers)
    contract.unmonitored += _declared_elsewhere(spec, contract.schema_checked)
    return contract, problems


def _tables(spec: OpenDataContractStandard) -> list[DeclaredTable]:
    """The schema objects as tables: a column by its physicalName, its type the physicalType
    (compared by family, or by name when of no known family) else the logicalType; in a JSON
    payload a field by its name, its type the logicalType."""
    tables = []
    for index, obj in enumerate(spec.schema_ or []):
        properties = [p for p in obj.properties or [] if p.physicalName or p.name]
        tables.append(DeclaredTable(
            obj.name or obj.physicalName or f"schema[{index}]",
            obj.physicalName or obj.name or f"schema[{index}]",
            {str(p.physicalName or p.name): p.physicalType or p.logicalType for p in properties},
            {str(p.name or p.physicalName): _json_type(p.logicalType, p.physicalType)
             for p in properties}))
    return tables


def _json_type(*candidates: str | None) -> str | None:
    return next((c for c in candidates if c and family_of(c) is not None), None)


def _key(sla) -> str:
    return (sla.property or "").strip().lower()


def _scheduling(document: YamlDocument, spec: OpenDataContractStandard, problems: list[Problem]
                ) -> _Scheduling:
    """Every cron `schedule` of a latency, freshness or frequency property (`scheduler: cron`
    or none), each problem at its line; the delivery's `timezone` custom property too."""
    slas = spec.slaProperties or []
    scheduling = _Scheduling()
    for index, sla in enumerate(slas):
        if sla.schedule is None or _key(sla) not in SCHEDULED or not _cron(sla):
            continue
        try:
            scheduling.own[index] = parse_schedule(sla.schedule)
        except ValueError as error:
            problems.append(problem_at(document, ("slaProperties", index, "schedule"), str(error)))
    delivering = next((i for i in scheduling.own if _key(slas[i]) == "frequency"), None)
    if delivering is None:
        return scheduling
    index = delivering
    sla = slas[index]
    zone = _custom_property(sla, ("slaProperties", index), "timezone")
    timezone = None
    if zone is not None:
        try:
            timezone = zone_named(str(zone[1])).key
        except ValueError as error:
            problems.append(problem_at(document, zone[0], str(error)))
    element = sla.element or spec.slaDefaultElement
    scheduling.delivery = Delivery(scheduling.own.pop(index), element, timezone)
    scheduling.delivery_index = index
    scheduling.standalone = not any(
        _key(other) in FRESHNESS_PROPERTIES and i not in scheduling.own
        and scheduling.delivery.judges(other.element or spec.slaDefaultElement)
        for i, other in enumerate(slas))
    return scheduling


def _cron(sla) -> bool:
    return sla.scheduler is None or sla.scheduler.strip().lower() == "cron"


def _apply_sla(contract: StandardContract, sla, index: int, default_element: str | None,
               scheduling: _Scheduling) -> None:
    """Map one SLA property; a freshness promise remembers the column it is about and takes its
    own schedule, else the delivery's on its column."""
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
        schedule, zone = scheduling.of(index, sla.element or default_element)
        contract.objectives.append(Objective(
            name=key, indicator=Indicator.FRESHNESS, threshold=threshold,
            target=parse_target(DEFAULT_FRESHNESS_TARGET), description=sla.description,
            schedule=schedule, timezone=zone))
        contract.measured_on[key] = sla.element or default_element
    elif key == "frequency":
        contract.update_frequency = parse_duration(sla.value, sla.unit)
        delivery = scheduling.delivery
        if index == scheduling.delivery_index and scheduling.standalone and delivery is not None:
            # no freshness promise to judge: the delivery is one, a new one every `frequency`
            contract.objectives.append(Objective(
                name=DELIVERY_OBJECTIVE, indicator=Indicator.FRESHNESS,
                threshold=contract.update_frequency, target=parse_target(DEFAULT_FRESHNESS_TARGET),
                description=sla.description, schedule=delivery.schedule,
                timezone=delivery.timezone))
            contract.measured_on[DELIVERY_OBJECTIVE] = delivery.element
    elif key == "generalavailability":
        contract.start = _date(sla.value)
    elif key == "endofsupport":
        contract.end = _date(sla.value)
    label = name or f"slaProperties[{index}]"
    value = f"{sla.value}{' ' + sla.unit if sla.unit else ''}"
    if sla.element:
        value += f" on {sla.element}"
    delivers = index == scheduling.delivery_index
    if key == "frequency" and not delivers:
        contract.unmonitored.append(DeclaredProperty(label, value, CADENCE_ONLY))
    elif key not in MAPPED and key != "frequency":
        reason = UNMONITORED_REASON
        if key in {"generalavailability", "endofsupport"}:
            reason = "used as the contract's validity"
        contract.unmonitored.append(DeclaredProperty(label, value, reason))
    read: set[str] = set()
    if key in MAPPED or (delivers and scheduling.standalone):
        read = OBJECTIVE_CUSTOM_PROPERTIES
    elif delivers:
        read = {"timezone"}  # the delivery's clock, for the promises it judges
    contract.unmonitored += _qualifiers(label, sla, read, scheduled=delivers
                                        or scheduling.reads(index))


def _qualifiers(label: str, sla, read: set[str], scheduled: bool) -> list[DeclaredProperty]:
    """What an SLA property says beside its value: `driver`, `valueExt`, a `schedule` /
    `scheduler` that is not read (`scheduled`: it is), and custom properties other than those
    `read` (an objective's window and timezone)."""
    found = [listed(f"{label}.{field}", getattr(sla, field), reason)
             for field, reason in QUALIFIERS if getattr(sla, field) is not None]
    if not scheduled:
        reason = SCHEDULE_ELSEWHERE if _cron(sla) else SCHEDULER_NOT_CRON
        found += [listed(f"{label}.{field}", getattr(sla, field), reason)
                  for field in SCHEDULE_FIELDS if getattr(sla, field) is not None]
    found += [listed(f"{label}.{custom.property}", custom.value, UNMONITORED_REASON)
              for custom in sla.customProperties or []
              if (custom.property or "").strip().lower() not in read]
    return found


def _declared_elsewhere(spec: OpenDataContractStandard, checked: set[str]) -> list[DeclaredProperty]:
    """The schema objects not compared on a port (one entry each; quality rules counted for
    all), price and roles."""
    found = schema_objects("properties", (
        (obj.name or obj.physicalName or f"schema[{index}]", obj.physicalType,
         [prop.name for prop in obj.properties or []], _rules(obj))
        for index, obj in enumerate(spec.schema_ or [])), checked)
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

