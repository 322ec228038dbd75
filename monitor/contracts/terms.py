"""A contract's terms checked against how its ports are probed. Pure.

`terms.query_interval` says how often consumers may query the product. A port that samples the
product (one look per probe, as a consumer's query is) and is probed less often than that cannot
show whether each of their queries would have been answered: a problem at the port's `interval`
(or the term's line, for a port the file does not write). Like lineage problems, it is reported,
not refused: the product is monitored as written. Kinds that hear every run or count every
request between probes (heartbeats, request logs) see each query whatever their interval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from monitor.contracts.model import DataProduct
from monitor.contracts.problems import Problem, field_name
from monitor.contracts.yamlsource import YamlDocument, reread
from monitor.values.durations import format_duration

QUERY_INTERVAL_FIELD = ("contract", "terms", "query_interval")


def terms_problems(products: Iterable[DataProduct], samples: Callable[[str], bool]
                   ) -> list[Problem]:
    """Ports probed less often than their contract's query_interval; `samples(kind)`: whether a
    port kind samples (monitor.probes.base.Probe.samples)."""
    problems = []
    for product in products:
        allowed = product.query_interval
        slow = [port for port in product.ports
                if allowed is not None and port.interval > allowed and _samples(samples, port.type)]
        if not slow:
            continue
        document = reread(product.source)
        for port in slow:
            assert allowed is not None
            location = _interval_of(document, port.name) or QUERY_INTERVAL_FIELD
            line = document.line_of(location) if document is not None else 1
            problems.append(Problem(product.source, line, field_name(location),
                                    f"port {port.name!r} is probed every "
                                    f"{format_duration(port.interval)}, and the terms let consumers "
                                    f"query every {format_duration(allowed)} (query_interval): "
                                    f"probe it at least as often to see what they would"))
    return sorted(problems)


def _samples(samples: Callable[[str], bool], kind: str) -> bool:
    try:
        return samples(kind)
    except (KeyError, ImportError):  # an unknown kind, or one not installed: reported where named
        return False


def _interval_of(document: YamlDocument | None, port: str) -> tuple[str | int, ...] | None:
    """Where the file sets `port`'s interval, if it does."""
    ports = document.data.get("ports") if document is not None and isinstance(
        document.data, dict) else None
    for index, entry in enumerate(ports if isinstance(ports, list) else []):
        if isinstance(entry, dict) and entry.get("name") == port and "interval" in entry:
            return ("ports", index, "interval")
    return None
