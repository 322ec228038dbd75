"""`meshwatch/v1` DataProduct files → DataProduct, optionally binding a standard contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from monitor.contracts.model import (
    Consumer,
    DataProduct,
    MaintenanceWindow,
    Objective,
    Owner,
    Port,
)
from monitor.contracts.problems import Problem, problem_at, problems_from_validation
from monitor.contracts.spec import DataProductSpec
from monitor.contracts.standard import StandardContract
from monitor.contracts.yamlsource import YamlDocument
from monitor.secrets import missing_variables

StandardLoader = Callable[[Path], tuple[StandardContract | None, list[Problem]]]


def is_native(data: object) -> bool:
    return isinstance(data, dict) and data.get("apiVersion") == "meshwatch/v1"


def load_native(document: YamlDocument, load_standard: StandardLoader
                ) -> tuple[DataProduct | None, list[Problem]]:
    try:
        spec = DataProductSpec.model_validate(document.data)
    except ValidationError as error:
        return None, problems_from_validation(document, error)
    problems: list[Problem] = []
    standard = None
    if spec.contract.source:
        source = (document.path.parent / spec.contract.source).resolve()
        if not source.is_file():
            problems.append(problem_at(document, ("contract", "source"),
                                       f"no such file: {spec.contract.source}"))
        else:
            standard, standard_problems = load_standard(source)
            problems += standard_problems
    product = _product(spec, standard, document)
    problems += _cross_check(spec, product, document)
    return (None if problems else product), problems


def _product(spec: DataProductSpec, standard: StandardContract | None,
             document: YamlDocument) -> DataProduct:
    ports = {port.name: port for port in (standard.ports if standard else [])}
    for port in spec.ports:
        options = port.model_extra or {}
        ports[port.name] = Port(port.name, port.type, port.interval, port.timeout, dict(options))
    objectives = {objective.name: objective for objective in (standard.objectives if standard else [])}
    for objective in spec.objectives:
        objectives[objective.name] = Objective(
            name=objective.name, indicator=objective.indicator, target=objective.target,
            window=objective.window, threshold=objective.threshold, port=objective.port,
            description=objective.description)
    contract = spec.contract
    return DataProduct(
        domain=spec.metadata.domain,
        name=spec.metadata.name,
        description=spec.metadata.description or (standard.description if standard else None),
        owner=Owner(spec.owner.team, spec.owner.contact,
                    tuple(n.as_destination() for n in spec.owner.notify)),
        version=contract.version or (standard.version if standard else None),
        start=contract.start or (standard.start if standard else None),
        end=contract.end or (standard.end if standard else None),
        terms={**(standard.terms if standard else {}), **contract.terms},
        upstream=tuple(contract.lineage.upstream),
        ports=tuple(ports.values()),
        objectives=tuple(objectives.values()),
        consumers=tuple(
            Consumer(team=c.team, contact=c.contact, purpose=c.purpose, start=c.start, end=c.end,
                     notify=tuple(n.as_destination() for n in c.notify),
                     objectives=tuple(c.objectives) if c.objectives is not None else None,
                     min_severity=c.severity)
            for c in spec.consumers),
        maintenance=tuple(MaintenanceWindow(m.start, m.duration, m.every) for m in spec.maintenance),
        maintenance_counts_in_slo=spec.maintenance_in_slo == "counted",
        update_frequency=standard.update_frequency if standard else None,
        unmonitored=tuple(standard.unmonitored if standard else ()),
        source=str(document.path),
        format="meshwatch/v1" + (f" + {standard.format}" if standard else ""),
    )


def _cross_check(spec: DataProductSpec, product: DataProduct,
                 document: YamlDocument) -> list[Problem]:
    """What pydantic cannot see from one field: references between ports, objectives, consumers."""
    problems: list[Problem] = []
    port_names = {port.name for port in product.ports}
    objective_names = {objective.name for objective in product.objectives}
    for kind, names in (("ports", [p.name for p in spec.ports]),
                        ("objectives", [o.name for o in spec.objectives])):
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                problems.append(problem_at(document, (kind, index, "name"),
                                           f"duplicate name {name!r}"))
            seen.add(name)
    for index, objective in enumerate(spec.objectives):
        if objective.port is not None and objective.port not in port_names:
            problems.append(problem_at(document, ("objectives", index, "port"),
                                       f"no port named {objective.port!r} "
                                       f"(ports: {', '.join(sorted(port_names)) or 'none'})"))
    for index, consumer in enumerate(spec.consumers):
        for position, name in enumerate(consumer.objectives or []):
            if name not in objective_names:
                problems.append(problem_at(document, ("consumers", index, "objectives", position),
                                           f"no objective named {name!r}"))
    for index, port in enumerate(spec.ports):
        for name in missing_variables(port.model_extra or {}):
            problems.append(problem_at(document, ("ports", index),
                                       f"environment variable {name} is not set "
                                       f"(or give a default: ${{{name}:-value}})"))
    return problems
