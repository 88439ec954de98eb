"""Token usage and its estimated cost, from the archive alone (no running instance needed; the logs may be gone).

`usage_report` validates the request; engine.archive.usage_report builds the priced report (the tokens per
group and model from engine.archive.usage, priced with the bundled table engine/archive/prices.json or the
user's ``[archive] usage_prices`` file). Unpriced models are listed and left out of every cost, never guessed.
The result's ``to_dict()`` is the JSON of ``watchkeeper usage --json`` and ``GET /usage``; the dashboard uses
the same result and the weekly digest the same builder.
Refusals: Invalid (a bad date, since after until, an unknown grouping or agent, an unusable price file).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from engine.actions.errors import Invalid
from engine.archive import usage
from engine.archive.prices import PriceError, PriceTable, load_prices
from engine.archive.usage_report import UsageOverview, UsageReport, UsageRow, UsageTotals, build_overview, build_report
from engine.config import Config
from engine.timeutil import resolve_timezone

if TYPE_CHECKING:
    from engine.archive.usage import Database

GROUPS = usage.GROUPS
AGENTS = usage.AGENTS
RANGES = (7, 30, 90)  # the dashboard's choice of days
__all__ = ["AGENTS", "GROUPS", "RANGES", "UsageOverview", "UsageReport", "UsageRow", "UsageTotals", "parse_day",
           "prices_for", "usage_for", "usage_overview", "usage_report", "zone_of"]


def parse_day(text: str | None, name: str) -> date | None:
    """A ``YYYY-MM-DD`` option value as a date (None for none); Invalid naming the option and value."""
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else date.fromisoformat("bad")
    except ValueError:
        raise Invalid(f"{name}: {text!r} is not a date (use YYYY-MM-DD)") from None


def prices_for(path: str) -> PriceTable:
    """The bundled prices with the user's file ``path`` (``[archive] usage_prices``; "" for none) applied."""
    try:
        return load_prices(path or None)
    except PriceError as exc:
        raise Invalid(f"[archive] usage_prices: {exc}") from None


def usage_report(
    db: Database, *, zone: tzinfo, zone_name: str, prices: PriceTable, group_by: str = "day",
    since: str | None = None, until: str | None = None, agent: str | None = None,
) -> UsageReport:
    """Token usage and estimated cost from the archive, grouped by ``group_by`` (one of GROUPS)."""
    if group_by not in GROUPS:
        raise Invalid(f"--by: {group_by!r} is not one of {', '.join(GROUPS)}")
    if agent is not None and agent not in AGENTS:
        raise Invalid(f"--agent: {agent!r} is not one of {', '.join(AGENTS)}")
    start, end = parse_day(since, "--since"), parse_day(until, "--until")
    if start and end and start > end:
        raise Invalid(f"--since {start.isoformat()} is after --until {end.isoformat()}")
    return build_report(db, zone=zone, zone_name=zone_name, prices=prices, group_by=group_by, since=start,
                        until=end, agent=agent)


def zone_of(name: str) -> tuple[tzinfo, str]:
    """The zone ``[general] timezone`` names (the machine's when empty) and the name the report shows."""
    zone = resolve_timezone(name)
    shown = name or getattr(zone, "key", None) or datetime.now(zone).tzname() or "local"
    return zone, shown


def usage_for(db: Database, config: Config, **request: Any) -> UsageReport:
    """:func:`usage_report` in the configured zone with the configured prices (the front ends' entry point)."""
    zone, name = zone_of(config.general.timezone)
    return usage_report(db, zone=zone, zone_name=name, prices=prices_for(config.archive.usage_prices), **request)


def usage_overview(db: Database, config: Config, *, today: date, days: int = 30,
                   agent: str | None = None) -> UsageOverview:
    """The ``days`` days ending ``today`` (a local date; ``days`` one of RANGES) per day, project and model, for
    ``agent`` (None: both), in the configured zone with the configured prices (the dashboard's usage panel)."""
    if days not in RANGES:
        raise Invalid(f"days: {days!r} is not one of {', '.join(map(str, RANGES))}")
    if agent is not None and agent not in AGENTS:
        raise Invalid(f"agent: {agent!r} is not one of {', '.join(AGENTS)}")
    zone, name = zone_of(config.general.timezone)
    return build_overview(db, zone=zone, zone_name=name, prices=prices_for(config.archive.usage_prices),
                          since=today - timedelta(days=days - 1), until=today, agent=agent)
