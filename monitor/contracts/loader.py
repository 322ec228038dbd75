"""Load every contract of a configuration directory, reporting every problem in one pass."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from monitor.contracts.dcs import is_dcs, load_dcs
from monitor.contracts.kinds import Kinds
from monitor.contracts.model import DataProduct
from monitor.contracts.native import bound_source, is_native, load_native
from monitor.contracts.odcs import is_odcs, load_odcs
from monitor.contracts.problems import Problem, field_name
from monitor.contracts.standard import StandardContract
from monitor.contracts.yamlsource import YamlDocument, YamlError, load_yaml

SETTINGS_FILE = "meshwatch.yaml"
YAML_SUFFIXES = {".yaml", ".yml"}
log = logging.getLogger(__name__)


@dataclass
class Registry:
    """The products that loaded, and the problems of the files that did not."""

    products: dict[str, DataProduct] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def refused_files(self) -> set[str]:
        return {problem.file for problem in self.problems}


def contract_files(paths: Iterable[Path]) -> list[Path]:
    """YAML files under `paths` (files or directories), without the settings file. Anything with
    a YAML name is listed, a FIFO or a directory named `x.yaml` too: loading refuses what is not
    a regular file without opening it.

    Symlinked folders are followed (a Kubernetes ConfigMap mounts `x.yaml -> ..data/x.yaml` and
    `..data -> ..2026_12_03_10_00/`), each real folder once, so a link loop ends; hidden names
    (`.git`, `..data`) are not entered, and a file reached through two links is listed once."""
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    for path in paths:
        if _is_dir(path):
            candidates = _files_below(path)
        elif path.suffix in YAML_SUFFIXES and path.name != SETTINGS_FILE:
            candidates = [path]
        else:
            continue
        for candidate in candidates:
            identity = _identity(candidate)
            if identity is not None and identity in seen:
                continue  # the same file through another link
            if identity is not None:
                seen.add(identity)
            found.append(candidate)
    return found


def _files_below(root: Path) -> list[Path]:
    """The YAML files below `root`, sorted, through symlinked folders, each real folder once."""
    files: list[Path] = []
    visited: set[tuple[int, int]] = set()
    for folder, folders, names in os.walk(root, followlinks=True):
        identity = _identity(Path(folder))
        if identity is None or identity in visited:
            folders[:] = []  # a link back to a folder already walked
            continue
        visited.add(identity)
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        files += (Path(folder) / name for name in [*names, *folders]  # a folder `x.yaml` is refused
                  if not name.startswith(".") and Path(name).suffix in YAML_SUFFIXES
                  and name != SETTINGS_FILE)
    return sorted(files)


def _identity(path: Path) -> tuple[int, int] | None:
    """What `path` is on disk, links followed (device, inode); None when it cannot be read."""
    try:
        status = path.stat()
    except (OSError, ValueError):  # a link to nothing: loading the path reports it
        return None
    return status.st_dev, status.st_ino


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name too long, say: loading the path reports it
        return False


def load_contracts(paths: Iterable[Path], kinds: Kinds) -> Registry:
    """Every product under `paths`, its ports and destinations checked against `kinds`. Never
    raises: whatever a file holds, it loads or it is refused with located problems."""
    registry = Registry()
    documents: list[YamlDocument] = []
    for path in contract_files(paths):
        try:
            documents.append(load_yaml(path))
        except YamlError as error:
            registry.problems.append(yaml_problem(path, error))
    bound = {source for document in documents if (source := bound_source(document)) is not None}
    for document in documents:
        if not is_native(document.data) and document.path.resolve() in bound:
            continue  # read through the native file that binds it
        product, problems = _load_guarded(document, kinds)
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


def yaml_problem(path: Path, error: YamlError) -> Problem:
    return Problem(str(path), error.line, field_name(error.location), error.message)


def _load_guarded(document: YamlDocument, kinds: Kinds) -> tuple[DataProduct | None, list[Problem]]:
    """`load_document`, with a bug of meshwatch's own on one file refusing that file only."""
    try:
        return load_document(document, kinds)
    except Exception as error:  # noqa: BLE001 - the other files still load; the bug is logged
        log.exception("loading %s failed", document.path)
        return None, [Problem(str(document.path), 1, "(file)",
                              f"could not be loaded: internal error ({type(error).__name__}: "
                              f"{str(error)[:200]}); please report it")]


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
    except YamlError as error:
        return None, [yaml_problem(path, error)]
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
