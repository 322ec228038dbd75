"""What a reload may change while the daemon runs, and what only a restart can."""

from __future__ import annotations

from monitor.config.settings import Settings

RESTART_ONLY = {"database_url": "database_url (the store)", "daemon.listen": "daemon.listen",
                "telemetry": "telemetry (exporters)"}


def keep_restart_only(running: Settings, loaded: Settings) -> tuple[Settings, list[str]]:
    """`loaded` with the running values of what a restart alone can change (the store, the
    listening address, the telemetry exporters), and the names of those that differ."""
    changed = [shown for name, shown in RESTART_ONLY.items()
               if _dotted(running, name) != _dotted(loaded, name)]
    if not changed:
        return loaded, []
    kept = loaded.model_copy(update={
        "database_url": running.database_url, "telemetry": running.telemetry,
        "daemon": loaded.daemon.model_copy(update={"listen": running.daemon.listen})})
    return kept, changed


def _dotted(settings: Settings, name: str):
    value = settings
    for part in name.split("."):
        value = getattr(value, part)
    return value
