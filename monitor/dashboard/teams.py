"""What one team has in the mesh: the products it owns, its agreements as a consumer, the alerts it
hears. Pure: no Streamlit, no store — the team page and the alerts page both ask here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.alerting.routing import listeners
from monitor.contracts.model import Consumer, DataProduct, Objective

Products = Mapping[str, DataProduct]


@dataclass(frozen=True)
class Agreement:
    """One team's agreement on one product: the contract's consumer entry."""

    product: DataProduct
    consumer: Consumer

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """The objectives agreed: those named, else every objective of the product."""
        names = self.consumer.objectives
        return tuple(o for o in self.product.objectives if names is None or o.name in names)

    def state(self, at: datetime) -> str:
        """in force, not started yet, or ended — by the agreement's dates (UTC days)."""
        day = at.date()
        if self.consumer.start is not None and day < self.consumer.start:
            return "not started"
        if self.consumer.end is not None and day >= self.consumer.end:
            return "ended"
        return "in force"


def teams(products: Products) -> list[str]:
    """Every team the contracts name, as owner or consumer."""
    return sorted({p.owner.team for p in products.values()}
                  | {c.team for p in products.values() for c in p.consumers})


def owned(products: Products, team: str) -> list[DataProduct]:
    return sorted((p for p in products.values() if p.owner.team == team), key=lambda p: p.id)


def agreements(products: Products, team: str) -> list[Agreement]:
    return [Agreement(p, c) for p in sorted(products.values(), key=lambda p: p.id)
            for c in p.consumers if c.team == team]


def hears(products: Products, team: str, alert: Mapping, at: datetime) -> bool:
    """Whether `team` hears `alert` (an alert as `meshwatch alerts --json` shows it): as the owner,
    every alert of its products; as a consumer, those its agreement covers (alerting.routing)."""
    product = products.get(alert["product"])
    if product is None:
        return False
    return any(listener.team == team
               for listener in listeners(product, alert["objective"], alert["severity"], at))
