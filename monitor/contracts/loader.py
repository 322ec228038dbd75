"""Load every contract of a configuration directory, reporting every problem in one pass."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from monitor.contracts.dcs import is_dcs, load_dcs
from monitor.contracts.kinds import Kinds
from monitor.contracts.model import DataProduct
from monitor.contracts.native import is_native, load_native
from monitor.contracts.odcs import is_odcs, load_odcs
from monitor.contracts.problems import Problem
from monitor.contracts.standard import StandardContract
from monitor.contracts.yamlsource import YamlDocument, YamlError, load_yaml

SETTINGS_FILE = "meshwatch.yaml"
YAML_SUFFIXES = {".yaml", ".yml"}


@dataclass
class Registry:
    """The products that loaded, and the problems of the files that did not."""

    products: dict[str, DataProduct] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def refused_files(self) -> set[str]:
        return {problem.file for problem in self.problems}


def contract_files(paths: Iterable[Path]) -> list[Path]:
    """YAML files under `paths` (files or directories), without the settings file."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES
                            and p.name != SETTINGS_FILE and not _hidden(p, path))
        elif path.suffix in YAML_SUFFIXES and path.name != SETTINGS_FILE:
            found.append(path)
    return found


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def load_contracts(paths: Iterable[Path], kinds: Kinds) -> Registry:
    """Every product under `paths`, its ports and destinations checked against `kinds`."""
    registry = Registry()
    documents: list[YamlDocument] = []
    for path in contract_files(paths):
        try:
            documents.append(load_yaml(path))
        except (YamlError, OSError, UnicodeDecodeError) as error:
            registry.problems.append(Problem(str(path), getattr(error, "line", 1), "(file)",
                                             getattr(error, "message", str(error))))
    bound = {(d.path.parent / d.data["contract"]["source"]).resolve() for d in documents
             if is_native(d.data) and isinstance(d.data.get("contract"), dict)
             and isinstance(d.data["contract"].get("source"), str)}
    for document in documents:
        if document.path.resolve() in bound:
            continue  # read through the native file that binds it
        product, problems = load_document(document, kinds)
        registry.problems += problems
        if product is None:
            continue
        if product.id in registry.products:
            other = registry.products[product.id].source
            registry.problems.append(Problem(str(document.path), 1, "metadata",
                                             f"product {product.id} is already defined in {other}"))
            continue
        registry.products[product.id] = product
    registry.problems.sort()
    return registry


def load_document(document: YamlDocument, kinds: Kinds) -> tuple[DataProduct | None, list[Problem]]:
    data = document.data
    if is_native(data):
        return load_native(document, _load_standard_file, kinds)
    if is_odcs(data) or is_dcs(data):
        standard, problems = _load_standard(document)
        if standard is None or problems:
            return None, problems
        return product_from_standard(standard, document), []
    return None, [Problem(str(document.path), 1, "(file)",
                          "not a contract: expected apiVersion: meshwatch/v1, an ODCS v3 "
                          "DataContract or a dataContractSpecification file")]


def _load_standard(document: YamlDocument) -> tuple[StandardContract | None, list[Problem]]:
    return load_odcs(document) if is_odcs(document.data) else load_dcs(document)


def _load_standard_file(path: Path) -> tuple[StandardContract | None, list[Problem]]:
    try:
        document = load_yaml(path)
    except (YamlError, OSError) as error:
        return None, [Problem(str(path), getattr(error, "line", 1), "(file)", str(error))]
    if not (is_odcs(document.data) or is_dcs(document.data)):
        return None, [Problem(str(path), 1, "(file)",
                              "contract.source must be an ODCS v3 or DCS 1.x contract")]
    return _load_standard(document)


def product_from_standard(standard: StandardContract, document: YamlDocument) -> DataProduct:
    return DataProduct(
        domain=standard.domain, name=standard.name, owner=standard.owner,
        description=standard.description, version=standard.version, start=standard.start,
        end=standard.end, terms=standard.terms, ports=tuple(standard.ports),
        objectives=tuple(standard.objectives), update_frequency=standard.update_frequency,
        unmonitored=tuple(standard.unmonitored), source=str(document.path),
        format=standard.format)
