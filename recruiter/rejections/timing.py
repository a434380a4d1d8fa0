"""When a scheduled rejection goes out, and why then. Pure functions over plain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(frozen=True)
class Rules:
    """The timing settings, read once from the app's configuration."""

    undo: timedelta
    after_applying: timedelta
    business_hours: bool
    start: time
    end: time
    days: frozenset[int]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Rules:
        start, end = parse_hours(str(config["BUSINESS_HOURS"]))
        return cls(
            undo=timedelta(minutes=float(config["REJECTION_UNDO_MINUTES"])),
            after_applying=timedelta(hours=float(config["REJECTION_MIN_HOURS_AFTER_APPLYING"])),
            business_hours=as_bool(config["BUSINESS_HOURS_ENABLED"]),
            start=start,
            end=end,
            days=parse_days(str(config["BUSINESS_DAYS"])),
        )


@dataclass(frozen=True)
class Schedule:
    """A send time and the reasons it is that time, in words."""

    send_at: datetime
    undo_until: datetime
    reasons: tuple[str, ...]


def as_bool(value: Any) -> bool:
    """``false``, ``0``, ``no`` and ``off`` (any case) are False, for environment variables."""
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off", "")
    return bool(value)


def parse_hours(text: str) -> tuple[time, time]:
    """``"09:00-17:00"`` -> (09:00, 17:00)."""
    start, _, end = text.partition("-")
    first, last = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    if last <= first:
        raise ValueError(f"BUSINESS_HOURS must be like 09:00-17:00, not {text!r}")
    return first, last


def parse_days(text: str) -> frozenset[int]:
    """``"Mon-Fri"`` or ``"Mon,Wed,Fri"`` -> weekday numbers (Monday is 0)."""
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        a = DAY_NAMES.index(first.strip()[:3].capitalize())
        b = DAY_NAMES.index(last.strip()[:3].capitalize()) if last else a
        days.update(range(a, b + 1))
    if not days:
        raise ValueError(f"BUSINESS_DAYS must name at least one day, not {text!r}")
    return frozenset(days)


def zone(name: str | None) -> ZoneInfo:
    """The IANA time zone, UTC when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def into_business_hours(moment: datetime, tz: ZoneInfo, rules: Rules) -> datetime:
    """The first moment at or after ``moment`` inside business hours in ``tz``."""
    local = moment.astimezone(tz)
    for _ in range(8):
        opens = datetime.combine(local.date(), rules.start, tzinfo=tz)
        closes = datetime.combine(local.date(), rules.end, tzinfo=tz)
        if local.weekday() in rules.days and local < closes:
            return max(local, opens).astimezone(UTC)
        local = datetime.combine(local.date() + timedelta(days=1), rules.start, tzinfo=tz)
    raise ValueError("no business day in a week")  # parse_days guarantees one


def schedule(now: datetime, applied_at: datetime, timezone: str | None, rules: Rules) -> Schedule:
    """When the note goes out: after the undo window, a while after applying, in office hours."""
    undo_until = now + rules.undo
    send_at, reasons = undo_until, [f"the {minutes(rules.undo)} undo window"]
    if applied_at + rules.after_applying > send_at:
        send_at = applied_at + rules.after_applying
        hours = rules.after_applying.total_seconds() / 3600
        reasons = [f"not sooner than {hours:g} hours after applying"]
    if rules.business_hours:
        moved = into_business_hours(send_at, zone(timezone), rules)
        if moved != send_at:
            send_at = moved
            reasons.append("within the candidate's business hours")
    return Schedule(send_at=send_at, undo_until=send_at, reasons=tuple(reasons))


def minutes(span: timedelta) -> str:
    """``10-minute`` or ``30-second``, for the undo window."""
    seconds = span.total_seconds()
    return f"{seconds / 60:g}-minute" if seconds >= 60 else f"{seconds:g}-second"


def local_label(moment: datetime, timezone: str | None, now: datetime | None = None) -> str:
    """``Tue 09:00`` in the zone; with the date when it is not within the coming week."""
    local = moment.astimezone(zone(timezone))
    if now is not None and abs(moment - now) > timedelta(days=6):
        return local.strftime("%a %d %b %H:%M")
    return local.strftime("%a %H:%M")


def describe(
    schedule_: Schedule, candidate_tz: str | None, team_tz: str, now: datetime, why: bool = True
) -> str:
    """ "Sends Tue 09:00 candidate's time (Europe/Berlin), undo until then (why)"."""
    cand = zone(candidate_tz).key
    text = f"Sends {local_label(schedule_.send_at, cand, now)} candidate's time ({cand})"
    if zone(team_tz).key != cand:
        text += f", {local_label(schedule_.send_at, team_tz, now)} your time ({zone(team_tz).key})"
    text += ", undo until then"
    if why and schedule_.reasons:
        text += f" ({'; '.join(schedule_.reasons)})"
    return text
