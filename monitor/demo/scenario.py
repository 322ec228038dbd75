"""What the simulated products do at any moment: a pure, deterministic timeline.

History (before the demo starts) has sporadic incidents chosen by a hash of the hour; the live
part opens with a short script so that something visible happens within minutes:
  +1 min .. +4 min   Checkout's orders API answers 503 (an outage: pages the owner and consumers)
  +3 min .. +45 min  Cart's pipeline stalls: no new event files, its runs report failure
  +6 min .. +12 min  Marketing's features API fails 8 % of its requests (an error burst)
  every 7th minute   Checkout's API is slow (450 ms against a 300 ms threshold)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Behaviour:
    checkout_api_down: bool = False
    checkout_api_latency: timedelta = timedelta(milliseconds=40)
    checkout_stalled: bool = False
    cart_stalled: bool = False
    marketing_api_down: bool = False
    marketing_error_fraction: float = 0.004


def _chance(label: str, moment: datetime, unit: timedelta) -> float:
    """A number in [0, 1) fixed for (label, the unit of time containing moment)."""
    slot = int(moment.timestamp() // unit.total_seconds())
    digest = hashlib.blake2b(f"{label}:{slot}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _in(moment: datetime, start: datetime, minutes_from: float, minutes_to: float) -> bool:
    return start + timedelta(minutes=minutes_from) <= moment < start + timedelta(minutes=minutes_to)


def behaviour_at(moment: datetime, live_start: datetime) -> Behaviour:
    if moment >= live_start:
        return Behaviour(
            checkout_api_down=_in(moment, live_start, 1, 4),
            checkout_api_latency=timedelta(milliseconds=450 if moment.minute % 7 == 0 else 40),
            cart_stalled=_in(moment, live_start, 3, 45),
            marketing_error_fraction=0.08 if _in(moment, live_start, 6, 12) else 0.004,
        )
    hour = timedelta(hours=1)
    minute_in_hour = moment.minute
    outage = _chance("checkout-outage", moment, hour) < 0.01 and minute_in_hour < 4
    slow = _chance("checkout-slow", moment, timedelta(minutes=1)) < 0.006
    return Behaviour(
        checkout_api_down=outage,
        checkout_api_latency=timedelta(milliseconds=480 if slow else 40),
        checkout_stalled=_chance("checkout-stall", moment, timedelta(days=1)) < 0.1
        and 2 <= moment.hour < 5,
        cart_stalled=_chance("cart-stall", moment, timedelta(days=1)) < 0.1
        and 10 <= moment.hour < 12,
        marketing_api_down=_chance("marketing-outage", moment, hour) < 0.01
        and minute_in_hour < 10,
        marketing_error_fraction=0.05 if _chance("marketing-burst", moment, hour) < 0.02 else 0.004,
    )


def _newest(moment: datetime, live_start: datetime, every: timedelta, stalled) -> datetime:
    """The last time at or before `moment`, on an `every` grid, when the pipeline was not stalled."""
    step = every.total_seconds()
    slot = datetime.fromtimestamp(moment.timestamp() // step * step, tz=moment.tzinfo)
    for _ in range(2000):
        if not stalled(behaviour_at(slot, live_start)):
            return slot
        slot -= every
    return slot


def newest_orders(moment: datetime, live_start: datetime) -> datetime:
    """Checkout writes orders every minute (into SQL, the API and, every 5 minutes, the lake)."""
    return _newest(moment, live_start, timedelta(minutes=1), lambda b: b.checkout_stalled)


ORDERS_FILE_EVERY = timedelta(minutes=5)
ORDERS_FILE_BYTES = 50  # about what the stand-in writes: {"landed_for": "<ISO time>"}


def orders_landed_bytes(per: timedelta) -> int:
    """What Checkout's lake receives in `per`: a file of about 50 bytes every 5 minutes."""
    return per // ORDERS_FILE_EVERY * ORDERS_FILE_BYTES


def newest_orders_file(moment: datetime, live_start: datetime) -> datetime:
    return _newest(moment, live_start, ORDERS_FILE_EVERY, lambda b: b.checkout_stalled)


def newest_cart_file(moment: datetime, live_start: datetime) -> datetime:
    """Cart's pipeline lands a file of events every 5 minutes."""
    return _newest(moment, live_start, timedelta(minutes=5), lambda b: b.cart_stalled)


def newest_cart_message(moment: datetime) -> datetime:
    """The shop front publishes cart events to the Event Hub every minute, whatever the batch
    pipeline does; Azure Monitor reports a minute's count once the minute is over, so the newest
    grain with messages is the last whole minute."""
    return datetime.fromtimestamp(moment.timestamp() // 60 * 60, tz=moment.tzinfo) - timedelta(minutes=1)


def cart_messages_in(minute: datetime) -> int:
    """How many cart events reached the hub in the `minute` (a fixed, plausible count)."""
    return 150 + int(_chance("cart-messages", minute, timedelta(minutes=1)) * 100)


def newest_features(moment: datetime, live_start: datetime) -> datetime:
    """Marketing recomputes its features every hour."""
    return _newest(moment, live_start, timedelta(hours=1), lambda b: b.marketing_api_down)
