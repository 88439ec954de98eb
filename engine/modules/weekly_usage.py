"""The weekly digest's token-usage block: the seven full local days before the digest's day, from the archive.

Tokens by kind and the estimated cost (priced as ``watchkeeper usage`` prices: engine.archive.usage_report),
the busiest day, the top projects and models. Nothing when the archive holds no usage that week.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

from peewee import SqliteDatabase

from engine.archive.prices import PriceTable
from engine.archive.usage_report import UsageOverview, UsageRow, build_overview

DAYS = 7
TOP = 3


def week_before(today: date) -> tuple[date, date]:
    """The first and last of the DAYS full days before ``today`` (both included). Pure."""
    return today - timedelta(days=DAYS), today - timedelta(days=1)


def compact(n: int) -> str:
    """A token count in a few characters: 950, 12.3k, 4.5M, 1.2B. Pure."""
    for size, unit in ((10**9, "B"), (10**6, "M"), (10**3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(n)


def cost_text(cost: float | None, unpriced: tuple[str, ...]) -> str:
    """``$1.23`` (with the unpriced models named), or "cost unknown" when nothing is priced. Pure."""
    text = "cost unknown" if cost is None else f"${cost:,.2f}"
    return text + (f" (unpriced: {', '.join(unpriced)})" if unpriced else "")


def _ranked(rows: tuple[UsageRow, ...], priced: bool) -> str:
    """The rows as ``key (tokens[, $cost])``, comma-separated."""
    def one(r: UsageRow) -> str:
        cost = f", ${r.cost_usd:,.2f}" if priced and r.cost_usd is not None else ""
        return f"{r.key} ({compact(r.total)}{cost})"

    return ", ".join(one(r) for r in rows)


def usage_block(week: UsageOverview) -> str | None:
    """The block's text from the week's usage by day, project and model; None when no token was used. Pure."""
    days = week.days
    t = days.totals
    if not days.rows or t.total == 0:
        return None
    first, last = date.fromisoformat(days.since or ""), date.fromisoformat(days.until or "")
    busiest = max(days.rows, key=lambda r: r.total)
    lines = [
        f"Token usage {first:%d %b} – {last:%d %b}: {compact(t.input_tokens)} input, {compact(t.output_tokens)} "
        f"output, {compact(t.cache_creation_tokens)} cache write, {compact(t.cache_read_tokens)} cache read; "
        f"estimated {cost_text(t.cost_usd, days.unpriced)} (prices of {days.prices_as_of})",
        f"Busiest day: {date.fromisoformat(busiest.key):%a %d %b} ({compact(busiest.total)} tokens)",
        f"Top projects: {_ranked(week.top_projects(TOP), priced=False)}",
        f"Top models: {_ranked(week.top_models(TOP), priced=True)}",
    ]
    return "\n".join(lines)


def weekly_usage(db: SqliteDatabase, today: date, *, zone: tzinfo, zone_name: str, prices: PriceTable) -> str | None:
    """The usage block for the week before ``today`` (a local date in ``zone``), or None for an idle week."""
    first, last = week_before(today)
    return usage_block(build_overview(db, zone=zone, zone_name=zone_name, prices=prices, since=first, until=last))
