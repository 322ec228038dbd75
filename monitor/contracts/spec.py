"""What a native `meshwatch/v1` contract file says, validated field by field (pydantic)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.contracts.maintenance import rule_of, zone_named
from monitor.contracts.model import Indicator, name_refusal
from monitor.contracts.schedule import Schedule, parse_schedule
from monitor.contracts.severity import Severity
from monitor.values.durations import Window, format_duration, parse_duration, parse_window
from monitor.values.targets import parse_target
from monitor.values.volumes import Amount, parse_amount

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
WindowValue = Annotated[Window, BeforeValidator(parse_window)]  # a duration or a calendar period
MAINTENANCE_YEARS = (1970, 9000)  # a start outside them overflows its occurrences and their text
Target = Annotated[Decimal, BeforeValidator(parse_target)]
ScheduleValue = Annotated[Schedule, BeforeValidator(parse_schedule)]  # crontab text
AmountValue = Annotated[Amount, BeforeValidator(parse_amount)]  # `1000`, `1.5k rows`, `10GB`


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


HOLD_OPTION = "inhibit_when_upstream"  # hold pages here while an upstream alert fires
DESTINATION_OPTIONS = (HOLD_OPTION,)  # flags beside a destination's KIND: VALUE pair


class NotifySpec(RootModel[dict[str, str | bool]]):
    """One destination, `{KIND: VALUE}`: `{channel: NAME}` or an inline kind such as
    `{email: ADDRESS}`, with options beside it (`inhibit_when_upstream: true`). Which kinds
    exist is checked against the notifier kinds."""

    @model_validator(mode="after")
    def _one_pair(self) -> NotifySpec:
        pairs = {k: v for k, v in self.root.items() if k not in DESTINATION_OPTIONS}
        if len(pairs) != 1 or not isinstance(value := next(iter(pairs.values())), str) or not value:
            raise ValueError("a destination is one KIND: VALUE pair, e.g. {channel: NAME} or "
                             "{email: team@example.com}, with options beside it "
                             f"({', '.join(DESTINATION_OPTIONS)}: true)")
        for option in DESTINATION_OPTIONS:
            if option in self.root and not isinstance(self.root[option], bool):
                raise ValueError(f"{option} is true or false (got {self.root[option]!r})")
        return self

    def as_destination(self) -> dict[str, str]:
        """The KIND: VALUE pair first, then each option that is on as `"true"` (the model keeps
        destinations as text; `monitor.alerting.routing` reads the options)."""
        pairs = {k: str(v) for k, v in self.root.items() if k not in DESTINATION_OPTIONS}
        return {**pairs, **{option: "true" for option in DESTINATION_OPTIONS
                            if self.root.get(option) is True}}


def _storable(what: str):
    """A validator refusing a name the store cannot hold (see `model.name_refusal`)."""
    def check(name: str) -> str:
        refusal = name_refusal(name, what)
        if refusal is not None:
            raise ValueError(refusal)
        return name
    return check


class MetadataSpec(Strict):
    domain: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _storable_id(cls, name: str, info: ValidationInfo) -> str:
        domain = info.data.get("domain")  # absent when it failed its own check
        _storable("the product id (domain/name)")(f"{domain}/{name}" if domain else name)
        return name


class OwnerSpec(Strict):
    team: str
    contact: str | None = None
    notify: list[NotifySpec] = []


class LineageSpec(Strict):
    upstream: list[str] = []

    @field_validator("upstream")
    @classmethod
    def _product_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if item.count("/") != 1:
                raise ValueError(f"{item!r} is not a product id (domain/name)")
        return value


class InForce(Strict):
    """An agreement's validity: in force on days in [start, end)."""

    start: date | None = None
    end: date | None = None

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")  # reported on `end`, the line to fix
        if start and end and end <= start:
            raise ValueError(f"end {end} is not after start {start}")
        return end


class TermsSpec(BaseModel):
    """A contract's terms: any key is kept and shown; these two are monitored.

    `query_interval`: consumers may query the product this often, so a port that samples it
    (monitor.contracts.terms) must be probed at least as often to show what they would see.
    `max_daily_volume`: the most a day may bring, the `max` of a volume objective that gives
    none on a port counting per day."""

    model_config = ConfigDict(extra="allow")
    query_interval: Duration | None = None
    max_daily_volume: AmountValue | None = None

    @field_validator("query_interval")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("query_interval must be positive")
        return value


class ContractSpec(InForce):
    version: str | None = None
    source: str | None = None
    terms: TermsSpec = TermsSpec()
    lineage: LineageSpec = LineageSpec()


class PortSpec(BaseModel):
    """Common port fields; the kind's own settings stay as extra fields for its probe to check."""

    model_config = ConfigDict(extra="allow")
    name: Annotated[str, AfterValidator(_storable("a port name"))] = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    type: str  # a probe kind; checked against them (`contracts.kinds.Kinds.ports`)
    interval: Duration = timedelta(minutes=1)
    timeout: Duration = timedelta(seconds=10)

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> PortSpec:
        if self.interval <= timedelta(0):
            raise ValueError("interval must be positive")
        if "timeout" not in self.model_fields_set:  # the default never outlasts the interval
            self.timeout = min(self.timeout, self.interval)
        if not timedelta(0) < self.timeout <= self.interval:
            raise ValueError("timeout must be positive and not longer than the interval")
        return self


class ObjectiveSpec(Strict):
    name: Annotated[str, AfterValidator(_storable("an objective name"))] = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    indicator: Indicator
    target: Target
    window: WindowValue = Window(timedelta(days=30))
    schedule: ScheduleValue | None = None  # freshness: deadlines by which a delivery lands
    timezone: str | None = None  # after `window` and `schedule`: the clock of either
    threshold: Duration | None = None
    minimum: AmountValue | None = Field(default=None, alias="min")  # volume: at least this much
    maximum: AmountValue | None = Field(default=None, alias="max")  # volume: at most this much
    port: str | None = None
    description: str | None = None

    @field_validator("window")
    @classmethod
    def _whole_minutes(cls, value: Window) -> Window:
        return objective_window(value)

    @field_validator("schedule")
    @classmethod
    def _schedule_of_freshness(cls, value: Schedule | None, info: ValidationInfo
                               ) -> Schedule | None:
        indicator = info.data.get("indicator")  # absent when it failed its own check
        if value is not None and indicator is not None and indicator is not Indicator.FRESHNESS:
            raise ValueError(f"a schedule judges freshness; a {indicator.value} objective "
                             "takes none")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone_of_a_calendar_window(cls, value: str | None, info: ValidationInfo) -> str | None:
        # the window is absent from info.data when it failed its own check
        return objective_zone(value, info.data.get("window"),
                              scheduled=info.data.get("schedule") is not None)

    @model_validator(mode="after")
    def _threshold_when_needed(self) -> ObjectiveSpec:
        needs = self.indicator in (Indicator.LATENCY, Indicator.FRESHNESS)
        if needs and self.threshold is None:
            raise ValueError(f"a {self.indicator.value} objective needs a threshold (e.g. 300ms, 1h)")
        if not needs and self.threshold is not None:
            raise ValueError(f"a {self.indicator.value} objective takes no threshold")
        bounded = self.minimum is not None or self.maximum is not None
        if bounded and self.indicator is not Indicator.VOLUME:
            raise ValueError(f"min and max bound a volume; this {self.indicator.value} "
                             "objective takes neither")
        if self.minimum and self.maximum and self.minimum.value > self.maximum.value:
            raise ValueError(f"min {self.minimum.value:,} is more than max {self.maximum.value:,}")
        if self.indicator is Indicator.VOLUME and self.port is None:
            raise ValueError("a volume objective names the port whose volume it bounds (port: …)")
        return self


def objective_window(value: object) -> Window:
    """An objective's window, for every contract format: whole minutes and at least an hour, or
    a calendar period; ValueError saying what to write."""
    window = parse_window(value)
    if window.length < timedelta(hours=1) or window.length % timedelta(minutes=1):
        raise ValueError("window must be whole minutes and at least 1h (or month, week, quarter)")
    return window


def objective_zone(value: str | None, window: Window | None, scheduled: bool = False
                   ) -> str | None:
    """An objective's time zone: a known IANA name, and only for a calendar window or a
    delivery schedule (the clock of both)."""
    if value is None:
        return value
    zone_named(value)
    if window is not None and window.calendar is None and not scheduled:
        raise ValueError(f"timezone is for calendar windows (month, week, quarter); a "
                         f"{format_duration(window.length)} window rolls in elapsed time")
    return value


class ConsumerSpec(InForce):
    team: str
    contact: str | None = None
    purpose: str | None = None
    notify: list[NotifySpec] = []
    objectives: list[str] | None = None
    severity: Severity | None = None


class MaintenanceSpec(Strict):
    """Fields are checked in this order, each seeing the ones before it (`info.data`), so every
    message lands on the line to fix."""

    timezone: str | None = None  # first: `start` is read in it
    start: datetime
    duration: Duration
    every: Duration | None = None
    rrule: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone_named(value)
        return value

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime, info: ValidationInfo) -> datetime:
        # a timezone that failed its own check is absent from info.data: one message is enough
        if value.tzinfo is None and "timezone" in info.data and info.data["timezone"] is None:
            raise ValueError("give a UTC offset (e.g. 2026-12-01T02:00:00Z) or a timezone field "
                             "(e.g. timezone: Europe/Amsterdam) to read it as local time")
        if not MAINTENANCE_YEARS[0] <= value.year <= MAINTENANCE_YEARS[1]:  # occurrences stay times
            raise ValueError(f"start must be in the years {MAINTENANCE_YEARS[0]} to "
                             f"{MAINTENANCE_YEARS[1]} (got {value.isoformat()})")
        return value

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("duration must be positive")
        return value

    @field_validator("every")
    @classmethod
    def _not_shorter_than_duration(cls, value: timedelta | None, info: ValidationInfo
                                   ) -> timedelta | None:
        duration = info.data.get("duration")
        if value is not None and value <= timedelta(0):
            raise ValueError("every must be positive")
        if value is not None and duration is not None and value < duration:
            raise ValueError(f"every {format_duration(value)} is shorter than the duration "
                             f"{format_duration(duration)}: occurrences would overlap")
        return value

    @field_validator("rrule")
    @classmethod
    def _one_rule(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("every") is not None:
            raise ValueError("give every or rrule, not both")
        rule_of(value, datetime(2000, 1, 1, tzinfo=UTC))  # syntax only: the zone is not known here
        return value


class DataProductSpec(Strict):
    api_version: Literal["meshwatch/v1"] = Field(alias="apiVersion")
    kind: Literal["DataProduct"]
    metadata: MetadataSpec
    owner: OwnerSpec
    contract: ContractSpec = ContractSpec()
    ports: list[PortSpec] = []
    objectives: list[ObjectiveSpec] = []
    consumers: list[ConsumerSpec] = []
    maintenance: list[MaintenanceSpec] = []
    maintenance_in_slo: Literal["counted", "excluded"] = "counted"
