"""The demo, headless for a short time: its products are measured, an alert fires and its
notification reaches the demo's mail server and webhook receiver."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from monitor.demo.run import DemoOptions, DemoPorts, run_demo
from monitor.demo.standins import StandInPorts
from monitor.store import open_store
from monitor.store.tables import AlertRecord as Alert
from monitor.store.tables import NotificationRecord as Notification
from monitor.store.tables import ProbeRecord
from tests.support.ports import free_port
from tests.support.repository import ROOT


def fast_copy_of_the_example_config(target):
    """config/ with every port probed every 5 s, so the scripted outage shows within seconds."""
    shutil.copytree(ROOT / "config", target)
    for path in (target / "contracts").glob("*.yaml"):
        text = re.sub(r"interval: (1m|5m|15m)", "interval: 5s", path.read_text())
        path.write_text(re.sub(r"timeout: (5s|10s|3s)", "timeout: 2s", text))
    return target


async def test_the_demo_measures_alerts_and_delivers_within_a_minute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ports = DemoPorts(StandInPorts(free_port(), free_port(), free_port(), free_port()),
                      azurite=free_port(), webhook=free_port(), smtp=free_port(),
                      daemon=free_port(), dashboard=free_port())
    options = DemoOptions(config_dir=fast_copy_of_the_example_config(tmp_path / "config"),
                          data_dir=tmp_path / "demo-data", history=timedelta(hours=6),
                          ports=ports, dashboard=False, run_for=timedelta(seconds=70),
                          evaluation_interval=timedelta(seconds=3),
                          script_offset=timedelta(seconds=55))  # the outage begins at 5 s
    started = datetime.now(UTC)
    outcome = await run_demo(options)

    engine = open_store(outcome.database_url)
    with engine.connect() as connection:
        live = connection.execute(select(func.count()).select_from(ProbeRecord)
                                  .where(ProbeRecord.started_at >= started)).scalar()
        alerts = connection.execute(select(Alert.product, Alert.objective, Alert.condition)).all()
        delivered = connection.execute(select(func.count()).select_from(Notification)
                                       .where(Notification.status == "sent")).scalar()
    engine.dispose()
    assert live >= 7, "every port was probed live"
    assert ("checkout/orders", "api-availability", "fast_burn") in alerts
    assert delivered >= 1
    assert any(m.channel == "email" and "checkout/orders" in m.summary for m in outcome.delivered)
