"""Is a dataset on time? Judged against a given day (the day the page is served), never frozen
at build time: a dataset that was on time yesterday can be late today.

The rule (documented in docs/quality-score.md): a dataset promising an update every `period`
is *due* `period` after its last modification and *late* once `today` is past the due date plus
a grace period (publication takes time). `irregular` and `never` have no due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

# frequency → (period, grace), in days
PERIODS: dict[str, tuple[int, int]] = {
    "daily": (1, 2),
    "weekly": (7, 3),
    "monthly": (31, 7),
    "quarterly": (92, 14),
    "annual": (366, 31),
}
NO_SCHEDULE = ("irregular", "never")


@dataclass(frozen=True)
class Timeliness:
    status: str  # "on_time" | "late" | "no_schedule" | "unknown"
    modified: date | None = None
    due: date | None = None  # the next update is expected by this day (grace included)
    days_late: int = 0
    period_days: int | None = None

    @property
    def on_time(self) -> bool:
        return self.status in ("on_time", "no_schedule")


def parse_day(value) -> date | None:
    """A date from an ISO date or datetime string (or a date); None when unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def judge(frequency: str | None, modified, today: date) -> Timeliness:
    """The timeliness of a dataset with this frequency, last modified `modified`, on `today`."""
    last = parse_day(modified)
    if frequency in NO_SCHEDULE:
        return Timeliness("no_schedule", modified=last)
    if frequency not in PERIODS or last is None:
        return Timeliness("unknown", modified=last)
    period, grace = PERIODS[frequency]
    due = last + timedelta(days=period + grace)
    late = (today - due).days
    if late > 0:
        return Timeliness("late", modified=last, due=due, days_late=late, period_days=period)
    return Timeliness("on_time", modified=last, due=due, period_days=period)
