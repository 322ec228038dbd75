"""A configuration directory: settings plus contracts, loaded and validated once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from monitor.alerting.routing import DESTINATION_KINDS
from monitor.config.settings import Settings, load_settings
from monitor.contracts import Problem, Registry, load_contracts
from monitor.contracts.kinds import Kinds
from monitor.contracts.lineage import lineage_problems
from monitor.contracts.loader import SETTINGS_FILE
from monitor.contracts.terms import terms_problems
from monitor.probes import PORT_KINDS, probe_class

KINDS = Kinds(ports=PORT_KINDS, destinations=DESTINATION_KINDS)  # what contracts may name


@dataclass
class Config:
    directory: Path
    settings: Settings
    registry: Registry
    problems: list[Problem]

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def settings_problems(self) -> list[Problem]:
        """The problems that make the settings unusable: `meshwatch.yaml` (or a MESHWATCH_*
        variable, reported against it) does not validate, or the directory is missing. A daemon
        does not start on, or reload to, such a configuration."""
        return [p for p in self.problems
                if Path(p.file).name == SETTINGS_FILE or p.field == "(directory)"]


def load_config(directory: Path, contract_paths: Sequence[Path] = ()) -> Config:
    """Load `directory` (settings and contracts), or only `contract_paths` when given."""
    problems: list[Problem] = []
    if not contract_paths and not directory.is_dir():
        problems.append(Problem(str(directory), 1, "(directory)",
                                "no such configuration directory (use --config DIR or "
                                "MESHWATCH_CONFIG)"))
    settings, settings_problems = load_settings(directory)
    # a missing path is reported once, below, rather than again by the loader
    unusable = {p: why for p in contract_paths if (why := _unusable(p)) is not None}
    # the settings' channels too, so `{channel: NAME}` is checked in the same pass as the rest
    kinds = replace(KINDS, channels=tuple(settings.channels))
    registry = load_contracts([p for p in contract_paths if p not in unusable] if contract_paths
                              else [directory], kinds)
    missing = [Problem(str(p), 1, "(file)", why) for p, why in unusable.items()]
    problems += settings_problems + missing + registry.problems
    # reported, not refused: the product is monitored, its lineage drawn without what is wrong
    problems += lineage_problems(registry.products.values())
    problems += terms_problems(registry.products.values(), lambda kind: probe_class(kind).samples)
    return Config(directory, settings, registry, sorted(problems))


def _unusable(path: Path) -> str | None:
    """Why a path given on the command line cannot be read (missing, a name too long), or None."""
    try:
        return None if path.exists() else "no such file or directory"
    except (OSError, ValueError) as error:
        return f"not a usable path: {getattr(error, 'strerror', None) or error}"
