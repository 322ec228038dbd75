"""Open Data Contract Standard v3.x → StandardContract, using the standard's pydantic model."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from open_data_contract_standard.model import OpenDataContractStandard
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

FRESHNESS_PROPERTIES = {"latency", "freshness"}
UNMONITORED_REASON = "declared by the contract; meshwatch does not measure it"


def is_odcs(data: object) -> bool:
    return (isinstance(data, dict) and data.get("kind") == "DataContract"
            and str(data.get("apiVersion", "")).startswith("v3"))


def load_odcs(document: YamlDocument) -> tuple[StandardContract | None, list[Problem]]:
    try:
        spec = OpenDataContractStandard.model_validate(document.data)
    except ValidationError as error:
        return None, problems_from_validation(document, error)
    problems: list[Problem] = []
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
    if key not in {"availability", "errorrate", "latency", "freshness", "frequency"}:
        value = f"{sla.value}{' ' + sla.unit if sla.unit else ''}"
        if sla.element:
            value += f" on {sla.element}"
        reason = UNMONITORED_REASON
        if key in {"generalavailability", "endofsupport"}:
            reason = "used as the contract's validity"
        contract.unmonitored.append(DeclaredProperty(name or f"slaProperties[{index}]", value, reason))


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

