"""Token usage and its estimated cost, from the archive alone (no running instance needed; the logs may be gone).

:func:`usage_report` validates the request, asks engine.archive.usage for the tokens per group and model,
and prices them with the bundled table (engine/archive/prices.json) or the user's ``[archive] usage_prices``
file. Unpriced models are listed and left out of every cost, never guessed. The result's ``to_dict()`` is the
JSON of ``watchkeeper usage --json`` and ``GET /usage``; the weekly digest and the dashboard use the same
result. Refusals: Invalid (a bad date, since after until, an unknown grouping or agent, an unusable price file).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from peewee import SqliteDatabase

from engine.actions.errors import Invalid
from engine.archive import usage
from engine.archive.prices import PriceError, PriceTable, load_prices
from engine.config import Config
from engine.timeutil import resolve_timezone

GROUPS = usage.GROUPS
AGENTS = usage.AGENTS
_TIME_GROUPS = ("day", "week", "month")


@dataclass(frozen=True)
class UsageTotals:
    """Tokens summed over every row; ``cost_usd`` over the priced models only (None when none is priced)."""

    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    cost_usd: float | None


@dataclass(frozen=True)
class UsageRow:
    """One group: ``key`` is a local date (day), the Monday of an ISO week (week), ``YYYY-MM`` (month), a
    session id, a project folder or a model id. ``models``: the models in it (empty when grouped by model);
    ``unpriced``: those without a price, whose tokens count but whose cost is not in ``cost_usd``
    (None when nothing in the row is priced)."""

    key: str
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    cost_usd: float | None
    models: tuple[str, ...]
    unpriced: tuple[str, ...]


@dataclass(frozen=True)
class UsageReport:
    """Token usage grouped by ``group_by``; ``since`` / ``until`` are local dates (ISO, both included, None:
    open) in ``timezone``; ``agent`` None means Claude Code and Codex together. Rows are in time order for
    day/week/month, else by total tokens, largest first."""

    totals: UsageTotals
    rows: tuple[UsageRow, ...]
    group_by: str
    since: str | None
    until: str | None
    agent: str | None
    timezone: str
    prices_as_of: str
    prices_source: str
    unpriced: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for row in d["rows"]:
            row["models"] = list(row["models"])
            row["unpriced"] = list(row["unpriced"])
        d["unpriced"] = list(self.unpriced)
        return d


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
    db: SqliteDatabase, *, zone: tzinfo, zone_name: str, prices: PriceTable, group_by: str = "day",
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
    parts = usage.usage_parts(db, by=group_by, zone=zone, since=start, until=end, agent=agent)
    rows = _rows(parts, prices, group_by)
    priced = [r.cost_usd for r in rows if r.cost_usd is not None]
    totals = UsageTotals(
        sum(r.input_tokens for r in rows), sum(r.output_tokens for r in rows),
        sum(r.cache_creation_tokens for r in rows), sum(r.cache_read_tokens for r in rows),
        round(sum(priced), 10) if priced else None)
    unpriced = tuple(sorted({m for r in rows for m in r.unpriced}))
    return UsageReport(totals, rows, group_by, start.isoformat() if start else None,
                       end.isoformat() if end else None, agent, zone_name, prices.as_of, prices.source, unpriced)


def _rows(parts: list[usage.Part], prices: PriceTable, group_by: str) -> tuple[UsageRow, ...]:
    by_key: dict[str, list[usage.Part]] = {}
    for p in parts:
        by_key.setdefault(p.key, []).append(p)
    rows = []
    for key, group in by_key.items():
        tokens = usage.Tokens()
        cost: float | None = None
        models: set[str] = set()
        unpriced: set[str] = set()
        for p in group:
            t = p.tokens
            tokens.add(t.input_tokens, t.output_tokens, t.cache_creation_tokens, t.cache_read_tokens)
            if p.model == usage.SYNTHETIC:
                continue  # Claude Code's own placeholder (API errors): no price, never listed
            models.add(p.model)
            price = prices.price_of(p.model)
            if price is None:
                unpriced.add(p.model)
                continue
            cost = (cost or 0.0) + price.cost(t.input_tokens, t.output_tokens, t.cache_creation_tokens,
                                              t.cache_read_tokens, t.cache_creation_1h_tokens)
        if cost is None and not unpriced:
            cost = 0.0  # nothing to price (only <synthetic> messages)
        rows.append(UsageRow(
            key, tokens.input_tokens, tokens.output_tokens, tokens.cache_creation_tokens, tokens.cache_read_tokens,
            round(cost, 10) if cost is not None else None,
            () if group_by == "model" else tuple(sorted(models)), tuple(sorted(unpriced))))
    if group_by in _TIME_GROUPS:
        rows.sort(key=lambda r: r.key)
    else:
        rows.sort(key=lambda r: (-(r.input_tokens + r.output_tokens + r.cache_creation_tokens
                                   + r.cache_read_tokens), r.key))
    return tuple(rows)


def zone_of(name: str) -> tuple[tzinfo, str]:
    """The zone ``[general] timezone`` names (the machine's when empty) and the name the report shows."""
    zone = resolve_timezone(name)
    shown = name or getattr(zone, "key", None) or datetime.now(zone).tzname() or "local"
    return zone, shown


def usage_for(db: SqliteDatabase, config: Config, **request: Any) -> UsageReport:
    """:func:`usage_report` in the configured zone with the configured prices (the front ends' entry point)."""
    zone, name = zone_of(config.general.timezone)
    return usage_report(db, zone=zone, zone_name=name, prices=prices_for(config.archive.usage_prices), **request)
