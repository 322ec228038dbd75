"""Pages per incident: a month of a mixed mesh replayed through the real alerting, before and after.

A mesh of N products (default 100) — each with an availability objective on its `api` port
(99.9 %/30 d or 99 %/7 d; probed every 1 min or every 5 min) and some with a freshness objective
on a `table` port (probed every 5 min, data published hourly, threshold 2 h) — lives 30 days of
all-good history, then D replayed days (default 30) with outages placed at known times: steady
outages of 10 min, 1 h and 3 h, a 90 s blip, a flapping target (every other probe bad for 1 h),
a slow leak (every 25th probe bad, 4 %, for 4 h), stale data (no publication for 4 h) and
products with no incident at all.

The replay writes the probes' events (`record_events`, and `record_probe_results` for the
freshness ports, whose port state carries the data's age) as the clock passes them — probes at
second :20 of their interval — and runs one alerting round at each time of the schedule:
`evaluate_mesh(connection, products, at, policy, monitoring_since)` then
`process_evaluations(engine, reports, at, settings)`, default settings (for 0 s, repeat 4 h;
keep_firing_for 10 min where it exists). The schedule, the same for both runs: every 30 s (at :05
and :35, so some rounds run before the minute's probe) from 10 min before each incident to 70 min
after its end, every 150 s (:05 and :35 in turn) from there to 6 h after its end, every 30 min
(:05) elsewhere — coarser than a daemon's 30 s so that a full run stays under 10 minutes on
2 cores (one round of 100 products costs ~0.1 s). Incidents come in slots (day 1, 11, 21 at
10:00, each product 0–4 min later), so most rounds serve many incidents. The history before the
replay is written one event per series and hour while older than the longest alert window (3 d):
only the objective windows reach there, and they only sum it. Nothing is sent: the outbox
(`notification` rows not muted) is counted, each row one message to one destination (each owner
has one webhook).

"before" is the same replay against commit 1a9df3c (the last commit with one alert per
condition), in a worktree at /tmp/meshwatch-before, in a subprocess with PYTHONPATH pointing at it;
"after" is the working tree, in a subprocess too; both run at once, one per core. Only APIs both
versions have are used. Targets: 1 page per incident per destination, 0 after recovery.

Per incident (start s, end e, the product's next incident n or the end of the replay):
  pages            firing messages holding a page alert that is not a reminder, in [s, e + 1 h)
  after recovery   firing messages holding a page alert (reminders too), in [e + 1 h, n)
  resolutions, tickets (firing, no page: ticket alerts, not reminders), reminders (firing,
  reminders only) and messages in [s, n); false messages: any message of a product with no
  incident, or of any product before its first incident.

Run:  .venv/bin/python benchmarks/alert_noise.py [--products 100] [--days 30]
      (a full run, the defaults, writes benchmarks/results/alert_noise.txt)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parent.parent
RESULTS = HERE.parent / "results" / "alert_noise.txt"
BEFORE_COMMIT = "1a9df3c"
BEFORE_TREE = Path("/tmp/meshwatch-before")
PYTHON = REPO / ".venv" / "bin" / "python"

START = datetime(2026, 11, 2, tzinfo=UTC)  # the replay starts here; history before it is all good
HISTORY = timedelta(days=30)  # every window (30 d the longest) is full when the replay starts
LONGEST_ALERT_WINDOW = timedelta(days=3)
PROBE_OFFSET = timedelta(seconds=20)  # probes at :20 of their interval
ROUND_OFFSET = timedelta(seconds=5)  # every round time is START + :05 + a multiple of 30 s
# (cadence, from incident start −, to incident end +): the tiers of the schedule around incidents
TIERS = ((timedelta(seconds=30), timedelta(minutes=10), timedelta(minutes=70)),  # :05 and :35
         (timedelta(seconds=150), timedelta(minutes=10), timedelta(hours=6)))  # :05/:35 in turn
COARSE = timedelta(minutes=30)  # rounds at hh:00:05 and hh:30:05 elsewhere
RECOVERED = timedelta(hours=1)  # after e + 1 h every page condition has cleared, keep-firing too
SLOT_EVERY = timedelta(days=10)  # incident slots: day 1, 11, 21 at 10:00 (+0…4 min)
FRESHNESS_INTERVAL = timedelta(minutes=5)
FRESHNESS_THRESHOLD = timedelta(hours=2)
PUBLISH_EVERY = timedelta(hours=1)
LEAK_EVERY = 25  # every 25th probe of a leak fails: 4 %
MINUTE = timedelta(minutes=1)

# shape: (duration, what it does)
SHAPES = {
    "none": (None, "no incident"),
    "outage_10m": (timedelta(minutes=10), "every probe fails for 10 min"),
    "outage_1h": (timedelta(hours=1), "every probe fails for 1 h"),
    "outage_3h": (timedelta(hours=3), "every probe fails for 3 h"),
    "blip_90s": (timedelta(seconds=90), "every probe fails for 90 s"),
    "flapping_1h": (timedelta(hours=1), "every other probe fails for 1 h"),
    "leak_4h": (timedelta(hours=4), "every 25th probe fails (4 %) for 4 h"),
    "stale_4h": (timedelta(hours=4), "freshness: no data published for 4 h (threshold 2 h)"),
}
SHAPE_NAMES = list(SHAPES)
# (target, window, api port interval)
CONFIGS = [
    ("99.9%/30d, 1m", Decimal("0.999"), timedelta(days=30), timedelta(minutes=1)),
    ("99.9%/30d, 5m", Decimal("0.999"), timedelta(days=30), timedelta(minutes=5)),
    ("99%/7d, 1m", Decimal("0.99"), timedelta(days=7), timedelta(minutes=1)),
    ("99%/7d, 5m", Decimal("0.99"), timedelta(days=7), timedelta(minutes=5)),
]


@dataclass(frozen=True)
class Incident:
    product: str
    shape: str
    config: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Plan:
    """Which product has which objectives and which incidents: the same in both runs."""

    shapes: dict[str, str]  # product id → shape
    configs: dict[str, str]  # product id → config label
    intervals: dict[str, timedelta]  # product id → api port interval
    objectives: dict[str, tuple[Decimal, timedelta, bool]]  # target, window, has freshness
    incidents: dict[str, list[Incident]]  # product id → incidents, in time order
    slots: list[datetime]
    end: datetime


def plan(count: int, days: int) -> Plan:
    """Product i: shape i % 8, configuration (i // 8) % 4, a freshness objective for the stale
    shape and for every third product; one incident per slot (every 10 days from day 1)."""
    end = START + timedelta(days=days)
    slots = [START + timedelta(days=1, hours=10) + k * SLOT_EVERY
             for k in range(days) if START + timedelta(days=2) + k * SLOT_EVERY <= end]
    shapes, configs, intervals, objectives, incidents = {}, {}, {}, {}, {}
    for i in range(count):
        product = f"noise/p{i:03d}"
        shape = SHAPE_NAMES[i % len(SHAPE_NAMES)]
        label, target, window, interval = CONFIGS[(i // len(SHAPE_NAMES)) % len(CONFIGS)]
        shapes[product], configs[product], intervals[product] = shape, label, interval
        objectives[product] = (target, window, shape == "stale_4h" or i % 3 == 0)
        duration = SHAPES[shape][0]
        incidents[product] = [] if duration is None else [
            Incident(product, shape, label, start, start + duration)
            for k, slot in enumerate(slots)
            for start in [slot + ((i + k) % 5) * MINUTE]]
    return Plan(shapes, configs, intervals, objectives, incidents, slots, end)


def schedule(layout: Plan) -> list[datetime]:
    """Round times: every 30 s (:05, :35) from 10 min before each incident to 70 min after its
    end (recovery, keep-firing and the start of "after recovery"), every 150 s (:05 and :35 in
    turn) from there to 6 h after its end, every 30 min (:05) elsewhere."""
    return sorted(set().union(*tiers(layout).values()))


def tiers(layout: Plan) -> dict[timedelta, set[datetime]]:
    """The round times of each cadence (a time on several grids counts for the finest)."""
    found = {COARSE: set(_grid(START, layout.end, COARSE))}
    for step, before, after in TIERS:
        spans = sorted((i.start - before, i.end + after)
                       for incidents in layout.incidents.values() for i in incidents)
        merged: list[list[datetime]] = []
        for low, high in spans:
            if merged and low <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        found[step] = {at for low, high in merged
                       for at in _grid(low, min(high, layout.end - MINUTE), step)}
    finer: set[datetime] = set()
    for step in sorted(found):
        found[step] -= finer
        finer |= found[step]
    return found


def _grid(low: datetime, high: datetime, step: timedelta) -> list[datetime]:
    """START + :05 + k × step, in [low, high]."""
    at = _ceil(low - ROUND_OFFSET, step) + ROUND_OFFSET
    found = []
    while at <= high:
        found.append(at)
        at += step
    return found


def _ceil(at: datetime, step: timedelta) -> datetime:
    since = at - START
    return START + -(-since // step) * step


def probes(interval: timedelta, after: datetime, until: datetime) -> list[datetime]:
    """Probe times in (after, until]: :20 into every interval."""
    first = _ceil(after - PROBE_OFFSET + timedelta(microseconds=1), interval) + PROBE_OFFSET
    found = []
    while first <= until:
        found.append(first)
        first += interval
    return found


def api_ok(layout: Plan, product: str, at: datetime) -> bool:
    for incident in layout.incidents[product]:
        if incident.shape == "stale_4h" or not incident.start <= at < incident.end:
            continue
        if incident.shape in ("flapping_1h", "leak_4h"):
            interval = layout.intervals[product]
            first = probes(interval, incident.start - timedelta(microseconds=1), incident.end)[0]
            index = (at - first) // interval
            return index % (2 if incident.shape == "flapping_1h" else LEAK_EVERY) != 0
        return False
    return True


def newest_data(layout: Plan, product: str, at: datetime) -> datetime:
    """The newest data at `at`: published every hour on the hour; a stale incident publishes
    nothing from its start and catches up at its end."""
    published = START + ((at - START) // PUBLISH_EVERY) * PUBLISH_EVERY
    for incident in layout.incidents[product]:
        if incident.shape != "stale_4h":
            continue
        if incident.start <= published < incident.end:  # suppressed
            published = incident.end if at >= incident.end else START + (
                (incident.start - START - timedelta(microseconds=1)) // PUBLISH_EVERY
            ) * PUBLISH_EVERY
        elif published < incident.end <= at:  # the catch-up is newer than the last hourly run
            published = incident.end
    return published


# --- the replay (runs inside a subprocess, against either version of `monitor`) ----------------

def _moved(module: str, old_module: str, name: str):
    """`name` from `module`, or from where it lived before the restructuring."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError:
        return getattr(importlib.import_module(old_module), name)


def replay(count: int, days: int) -> dict:
    from sqlalchemy import text

    import monitor
    from monitor.alerting import process_evaluations
    from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
    from monitor.store import Event, open_store, record_events, series_ids
    from monitor.store.measurements import record_probe_results

    # the package layout of 1a9df3c (before issue 14) or of today
    Settings = _moved("monitor.config.settings", "monitor.settings", "Settings")
    ProbeResult = _moved("monitor.contracts.results", "monitor.probes.base", "ProbeResult")
    evaluate_mesh = _moved("monitor.evaluation.mesh", "monitor.evaluation", "evaluate_mesh")

    layout = plan(count, days)
    products = []
    for product_id, (target, window, freshness) in layout.objectives.items():
        ports = [Port("api", "http", interval=layout.intervals[product_id])]
        objectives = [Objective("availability", Indicator.AVAILABILITY, target, window, port="api")]
        if freshness:
            ports.append(Port("table", "sql", interval=FRESHNESS_INTERVAL))
            objectives.append(Objective("freshness", Indicator.FRESHNESS, target, window,
                                        threshold=FRESHNESS_THRESHOLD, port="table"))
        domain, name = product_id.split("/")
        products.append(DataProduct(
            domain=domain, name=name,
            owner=Owner(name, notify=({"webhook": f"http://127.0.0.1:9/{product_id}"},)),
            ports=tuple(ports), objectives=tuple(objectives)))

    def measure(after: datetime, until: datetime, with_state: bool):
        events, results = [], []
        for product in products:
            pid = product.id
            for at in probes(layout.intervals[pid], after, until):
                events.append(Event(pid, "availability", at, int(api_ok(layout, pid, at)), 1))
            if len(product.objectives) > 1:
                for at in probes(FRESHNESS_INTERVAL, after, until):
                    newest = newest_data(layout, pid, at)
                    events.append(Event(pid, "freshness", at,
                                        int(at - newest <= FRESHNESS_THRESHOLD), 1))
                    if with_state:
                        results.append(ProbeResult(pid, "table", "sql", at, True,
                                                   newest_data_at=newest))
        return events, results

    figures: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'noise.db'}"
        engine = open_store(url)
        settings = Settings(database_url=url)
        policy = settings.slo.policy()
        monitoring_since = START - HISTORY
        began = time.perf_counter()
        with engine.begin() as connection:
            ids = series_ids(connection, [(p.id, o.name) for p in products for o in p.objectives])
        # good history: one event per series and hour until the longest alert window (3 d)
        # before START — only objective windows (30 d, 7 d) reach there, and they sum it — then
        # one event per probe
        hour = monitoring_since
        while hour < START - LONGEST_ALERT_WINDOW:
            events = []
            for _ in range(24):
                later = hour + timedelta(hours=1)
                for product in products:
                    for objective, interval in (("availability", layout.intervals[product.id]),
                                                ("freshness", FRESHNESS_INTERVAL)
                                                )[:len(product.objectives)]:
                        count = len(probes(interval, hour, later))
                        events.append(Event(product.id, objective, hour + timedelta(minutes=30),
                                            count, count))
                hour = later
            with engine.begin() as connection:
                record_events(connection, events, ids)
        while hour < START:
            events, _ = measure(hour - timedelta(microseconds=1),
                                min(hour + timedelta(days=1), START) - timedelta(microseconds=1),
                                False)
            with engine.begin() as connection:
                record_events(connection, events, ids)
            hour += timedelta(days=1)
        _, last = measure(START - FRESHNESS_INTERVAL, START, True)
        with engine.begin() as connection:
            record_probe_results(connection, last)
        figures["history"] = time.perf_counter() - began
        times = schedule(layout)
        previous = START
        for at in times:
            tick = time.perf_counter()
            events, results = measure(previous, at, True)
            previous = at
            with engine.begin() as connection:
                record_events(connection, events, ids)
                record_probe_results(connection, results)
            evaluated = time.perf_counter()
            with engine.connect() as connection:
                reports = evaluate_mesh(connection, products, at, policy, monitoring_since)
            processed = time.perf_counter()
            process_evaluations(engine, reports, at, settings)
            done = time.perf_counter()
            figures["write"] += evaluated - tick
            figures["evaluate"] += processed - evaluated
            figures["process"] += done - processed
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT product, destination, payload FROM notification "
                "WHERE status != 'muted' ORDER BY created_at, id")).all()
        engine.dispose()
    messages = []
    for product, destination, payload in rows:
        payload = json.loads(payload) if isinstance(payload, str) else payload
        messages.append({"at": payload["at"], "product": product, "destination": destination,
                         "status": payload["status"],
                         "alerts": [{"objective": a["objective"], "severity": a["severity"],
                                     "condition": a["condition"],
                                     "conditions": a.get("conditions") or [a["condition"]],
                                     "reminder": bool(a.get("reminder"))}
                                    for a in payload["alerts"]]})
    return {"monitor": str(Path(monitor.__file__).parent), "rounds": len(times),
            "seconds": dict(figures), "messages": messages}


# --- the comparison (the parent process) --------------------------------------------------------

def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def is_page(message: dict) -> bool:
    return message["status"] == "firing" and any(
        a["severity"] == "page" and not a["reminder"] for a in message["alerts"])


def holds_page(message: dict) -> bool:
    return message["status"] == "firing" and any(a["severity"] == "page" for a in message["alerts"])


def describe_message(message: dict, origin: datetime) -> str:
    at = parse_time(message["at"])
    offset = (at - origin).total_seconds()
    sign = "-" if offset < 0 else "+"
    offset = abs(offset)
    clock = f"{sign}{int(offset // 3600)}:{int(offset % 3600 // 60):02d}:{int(offset % 60):02d}"
    items = ", ".join(f"{a['objective']} {a['severity']} {'+'.join(a['conditions'])}"
                      + (" (reminder)" if a["reminder"] else "") for a in message["alerts"])
    return f"{at:%m-%d %H:%M:%S} ({clock}) {message['status']:8} {items}"


def score(layout: Plan, messages: list[dict]) -> dict:
    by_product: dict[str, list[dict]] = defaultdict(list)
    for message in messages:
        by_product[message["product"]].append(message)
    per_incident = []
    false_messages, false_pages, false_examples = 0, 0, []
    for product, found in layout.incidents.items():
        mine = sorted(by_product.get(product, []), key=lambda m: m["at"])
        first = found[0].start if found else layout.end
        early = [m for m in mine if parse_time(m["at"]) < first]
        false_messages += len(early)
        false_pages += sum(holds_page(m) for m in early)
        false_examples += [(product, m) for m in early]
        for number, incident in enumerate(found):
            following = found[number + 1].start if number + 1 < len(found) else layout.end
            inside = [m for m in mine if incident.start <= parse_time(m["at"]) < following]
            recovered = incident.end + RECOVERED
            per_incident.append({
                "incident": incident,
                "pages": sum(is_page(m) for m in inside if parse_time(m["at"]) < recovered),
                "after": sum(holds_page(m) for m in inside if parse_time(m["at"]) >= recovered),
                "resolutions": sum(m["status"] == "resolved" for m in inside),
                "tickets": sum(m["status"] == "firing" and not holds_page(m)
                               and not all(a["reminder"] for a in m["alerts"]) for m in inside),
                "reminders": sum(m["status"] == "firing" and all(a["reminder"]
                                                                 for a in m["alerts"])
                                 for m in inside),
                "messages": len(inside),
                "sequence": inside})
    return {"incidents": per_incident, "false_messages": false_messages,
            "false_pages": false_pages, "false_examples": false_examples}


def run_child(label: str, tree: Path, count: int, days: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.Popen([str(PYTHON), str(HERE), "--child", "--products", str(count),
                             "--days", str(days)], env=env, cwd=str(tree),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ensure_before_tree() -> None:
    if (BEFORE_TREE / "monitor" / "evaluation.py").exists():
        return
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", str(BEFORE_TREE), BEFORE_COMMIT],
                   check=True, stdout=subprocess.DEVNULL)


def bad_probes(layout: Plan, incident: Incident) -> int:
    """How many probes saw the incident (a 90 s blip can fall between two 5-minute probes)."""
    if incident.shape == "stale_4h":
        return sum(at - newest_data(layout, incident.product, at) > FRESHNESS_THRESHOLD
                   for at in probes(FRESHNESS_INTERVAL, incident.start, incident.end))
    return sum(not api_ok(layout, incident.product, at)
               for at in probes(layout.intervals[incident.product], incident.start, incident.end))


def table(layout: Plan, before: dict, after: dict) -> list[str]:
    def group(scored: dict, key) -> dict:
        groups: dict = defaultdict(list)
        for item in scored["incidents"]:
            groups[key(item["incident"])].append(item)
        return groups

    def pages(items: list[dict]) -> str:
        values = [i["pages"] for i in items]
        return f"{statistics.mean(values):6.2f} {max(values):3d}"

    def mean(items: list[dict], field: str) -> str:
        return f"{statistics.mean(i[field] for i in items):6.2f}"

    def total(items: list[dict], field: str) -> str:
        return f"{sum(i[field] for i in items):6d}"

    old, new = group(before, lambda i: i.shape), group(after, lambda i: i.shape)
    lines = [
        f"{'':<12} {'':>3} {'':>6}  {'pages per incident':^21}  {'paged':>5}  "
        f"{'pages after':^13}  {'resolutions':^13}  {'tickets':^13}  {'reminders':^13}  "
        f"{'messages':^13}",
        f"{'shape':<12} {'n':>3} {'unseen':>6}  {'before':^10} {'after':^10}  {'now':>5}  "
        f"{'recovery':^13}  {'per incident':^13}  {'per incident':^13}  {'per incident':^13}  "
        f"{'per incident':^13}",
        f"{'':<12} {'':>3} {'':>6}  {'mean max':>10} {'mean max':>10}  {'':>5}  "
        + "  ".join([f"{'before':>6} {'after':>6}"] * 5)]
    for shape in SHAPE_NAMES[1:]:
        if shape not in new:
            continue
        o, n = old[shape], new[shape]
        unseen = sum(bad_probes(layout, i["incident"]) == 0 for i in n)
        paged = sum(i["pages"] > 0 for i in n)
        lines.append(
            f"{shape:<12} {len(n):>3} {unseen:>6}  {pages(o)} {pages(n)}  {paged:>5}  "
            f"{total(o, 'after')} {total(n, 'after')}  "
            + "  ".join(f"{mean(o, f)} {mean(n, f)}"
                        for f in ("resolutions", "tickets", "reminders", "messages")))
    all_old, all_new = before["incidents"], after["incidents"]
    lines.append(
        f"{'all':<12} {len(all_new):>3} "
        f"{sum(bad_probes(layout, i['incident']) == 0 for i in all_new):>6}  "
        f"{pages(all_old)} {pages(all_new)}  {sum(i['pages'] > 0 for i in all_new):>5}  "
        f"{total(all_old, 'after')} {total(all_new, 'after')}  "
        + "  ".join(f"{total(all_old, f)} {total(all_new, f)}"
                    for f in ("resolutions", "tickets", "reminders", "messages"))
        + "  (totals)")
    lines += [
        "(unseen: incidents no probe saw; paged now: incidents with at least one page, current "
        "code; pages after recovery: totals)",
        f"pages in all: before {sum(i['pages'] + i['after'] for i in all_old)}, after "
        f"{sum(i['pages'] + i['after'] for i in all_new)}, for {len(all_new)} incidents (target: "
        f"one per incident that pages at all, none after recovery)",
        f"false messages (the {sum(s == 'none' for s in layout.shapes.values())} products without "
        f"incident, and any product before its first incident): before "
        f"{before['false_messages']} ({before['false_pages']} pages), after "
        f"{after['false_messages']} ({after['false_pages']} pages)",
        "", "pages per incident by configuration (mean max), before → after (stale_4h: its "
        "freshness port is probed every 5 min in every configuration):"]
    old_c = group(before, lambda i: (i.shape, i.config))
    new_c = group(after, lambda i: (i.shape, i.config))
    labels = [c[0] for c in CONFIGS]
    lines.append(f"{'shape':<12}" + "".join(f"{label:>26}" for label in labels))
    for shape in SHAPE_NAMES[1:]:
        if shape not in new:
            continue
        row = f"{shape:<12}"
        for label in labels:
            key = (shape, label)
            row += (f"{pages(old_c[key])} → {pages(new_c[key])}".rjust(26)
                    if key in new_c else f"{'-':>26}")
        lines.append(row)
    return lines


def anomalies(layout: Plan, scored: dict, limit: int = 2) -> list[str]:
    """Incidents of the current code off target — more than 1 page, or pages after recovery —
    grouped by shape and configuration, with the message sequence of the first few; and the
    incidents that did not page at all (with how many probes saw them)."""
    groups: dict = defaultdict(list)
    silent: dict = defaultdict(list)
    for item in scored["incidents"]:
        key = (item["incident"].shape, item["incident"].config)
        if item["pages"] > 1 or item["after"]:
            groups[key].append(item)
        elif item["pages"] == 0:
            silent[key].append(bad_probes(layout, item["incident"]))
    lines = []
    for (shape, config), items in sorted(groups.items(), key=lambda g: SHAPE_NAMES.index(g[0][0])):
        counts = sorted({(i["pages"], i["after"]) for i in items})
        lines.append(f"{shape}, {config}: {len(items)} incident(s) off target "
                     f"(pages, pages after recovery: {'; '.join(f'{p}, {a}' for p, a in counts)})")
        for item in items[:limit]:
            incident = item["incident"]
            lines.append(f"  {incident.product}, incident {incident.start:%m-%d %H:%M:%S} → "
                         f"{incident.end:%H:%M:%S}, {bad_probes(layout, incident)} failed probes "
                         f"(+h:mm:ss from its start):")
            lines += [f"    {describe_message(m, incident.start)}" for m in item["sequence"]]
    lines.append("not paged at all:" if silent else "not paged at all: none")
    for (shape, config), seen in sorted(silent.items(), key=lambda g: SHAPE_NAMES.index(g[0][0])):
        lines.append(f"  {shape}, {config}: {len(seen)} incident(s), failed probes in each: "
                     f"{', '.join(map(str, sorted(set(seen))))}")
    for product, message in scored["false_examples"][:5]:
        lines.append(f"false: {product} {describe_message(message, START)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.days < 2:
        parser.error("--days must be at least 2 (the first incidents are on day 1)")
    if args.child:
        json.dump(replay(args.products, args.days), sys.stdout)
        return
    ensure_before_tree()
    began = time.perf_counter()
    load = os.getloadavg()[0]
    children = {"before": run_child("before", BEFORE_TREE, args.products, args.days),
                "after": run_child("after", REPO, args.products, args.days)}
    results = {}
    for label, child in children.items():
        out, err = child.communicate()
        if child.returncode:
            sys.exit(f"{label} run failed:\n{err}")
        results[label] = json.loads(out)
    wall = time.perf_counter() - began
    layout = plan(args.products, args.days)
    before, after = (score(layout, results[k]["messages"]) for k in ("before", "after"))
    times = schedule(layout)
    cadences = tiers(layout)
    incidents = sum(map(len, layout.incidents.values()))
    freshness = sum(1 for _, _, f in layout.objectives.values() if f)
    lines = [
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores (load average "
        f"{load:.1f} at start); .venv/bin/python benchmarks/alert_noise.py --products "
        f"{args.products} --days {args.days}",
        f"mesh: {args.products} products, {args.products + freshness} objectives "
        f"(availability on each: {', '.join(c[0] for c in CONFIGS)} in turn; freshness 2 h on "
        f"{freshness}, port every 5 min, data hourly); 30 d of good history, then {args.days} d "
        f"replayed; {incidents} incidents in {len(layout.slots)} slots (day "
        f"{', '.join(str((s - START).days) for s in layout.slots)} at 10:00 + 0…4 min), "
        f"probes at :20",
        f"schedule: {len(times):,} rounds, the same for both runs — every 30 s (:05, :35) from "
        f"10 min before each incident to 70 min after its end, every 150 s (:05 and :35 in turn) "
        f"to 6 h after its end, every 30 min (:05) elsewhere (rounds: "
        f"{', '.join(f'{len(cadences[g]):,} at {int(g.total_seconds())} s' for g in sorted(cadences))})",
        f"before: commit {BEFORE_COMMIT} (one alert per condition), {results['before']['monitor']}"
        f"; after: working tree at {git_head()}, {results['after']['monitor']}",
    ]
    for label in ("before", "after"):
        s = results[label]["seconds"]
        lines.append(f"{label:>6}: {sum(s.values()):6.1f} s (history {s['history']:.1f}, writes "
                     f"{s['write']:.1f}, evaluate_mesh {s['evaluate']:.1f}, process_evaluations "
                     f"{s['process']:.1f}), {len(results[label]['messages']):,} messages")
    lines += [f"wall time, both runs at once: {wall:.0f} s", ""]
    lines += table(layout, before, after)
    lines += ["", "reminder messages by alert (severity, conditions holding), before | after:"]
    for label in ("before", "after"):
        found = Counter(", ".join(sorted({f"{a['severity']} {'+'.join(a['conditions'])}"
                                           for a in m["alerts"]}))
                        for m in results[label]["messages"]
                        if m["status"] == "firing" and all(a["reminder"] for a in m["alerts"]))
        lines.append(f"  {label}: " + "; ".join(f"{key} {n:,}" for key, n in found.most_common(4)))
    lines += ["", "after (current code), incidents off target:"]
    lines += anomalies(layout, after)
    report = "\n".join(lines)
    print(report)
    if (args.products, args.days) == (100, 30):
        RESULTS.write_text(report + "\n")


def git_head() -> str:
    found = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True)
    return found.stdout.strip() or "?"


if __name__ == "__main__":
    main()
