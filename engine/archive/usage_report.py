"""The priced usage report: engine.archive.usage's tokens per group and model, priced with a PriceTable.

Unpriced models are listed and left out of every cost, never guessed; ``<synthetic>`` is never listed. The
report's ``to_dict()`` is the JSON of ``watchkeeper usage --json`` and ``GET /usage``. It lives in the archive
unit so that the weekly digest (engine.modules) and the actions (engine.actions.usage, which validates the
request first) build the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, tzinfo
from typing import TYPE_CHECKING, Any

from engine.archive import usage
from engine.archive.prices import PriceTable

if TYPE_CHECKING:
    from engine.archive.usage import Database

TIME_GROUPS = ("day", "week", "month")


@dataclass(frozen=True)
class UsageTotals:
    """Tokens summed over every row; ``cost_usd`` over the priced models only (None when none is priced)."""

    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    cost_usd: float | None

    @property
    def total(self) -> int:
        """All four counts summed."""
        return self.input_tokens + self.output_tokens + self.cache_creation_tokens + self.cache_read_tokens


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

    @property
    def total(self) -> int:
        """All four counts summed."""
        return self.input_tokens + self.output_tokens + self.cache_creation_tokens + self.cache_read_tokens


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


def build_report(
    db: Database, *, zone: tzinfo, zone_name: str, prices: PriceTable, group_by: str = "day",
    since: date | None = None, until: date | None = None, agent: str | None = None,
) -> UsageReport:
    """The archive's usage grouped by ``group_by`` (one of usage.GROUPS), priced with ``prices``; the
    arguments are assumed valid (engine.actions.usage checks a user's request first)."""
    parts = usage.usage_parts(db, by=group_by, zone=zone, since=since, until=until, agent=agent)
    rows = _rows(parts, prices, group_by)
    priced = [r.cost_usd for r in rows if r.cost_usd is not None]
    totals = UsageTotals(
        sum(r.input_tokens for r in rows), sum(r.output_tokens for r in rows),
        sum(r.cache_creation_tokens for r in rows), sum(r.cache_read_tokens for r in rows),
        round(sum(priced), 10) if priced else None)
    unpriced = tuple(sorted({m for r in rows for m in r.unpriced}))
    return UsageReport(totals, rows, group_by, since.isoformat() if since else None,
                       until.isoformat() if until else None, agent, zone_name, prices.as_of, prices.source, unpriced)


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
    if group_by in TIME_GROUPS:
        rows.sort(key=lambda r: r.key)
    else:
        rows.sort(key=lambda r: (-r.total, r.key))
    return tuple(rows)


@dataclass(frozen=True)
class UsageOverview:
    """One period's usage three ways: per day (``days``; its totals are the period's), per project, per model."""

    days: UsageReport
    projects: UsageReport
    models: UsageReport

    def top_projects(self, n: int) -> tuple[UsageRow, ...]:
        """The ``n`` projects with the most tokens (none with no tokens)."""
        return tuple(r for r in self.projects.rows if r.total)[:n]

    def top_models(self, n: int) -> tuple[UsageRow, ...]:
        """The ``n`` models with the most tokens (``<synthetic>`` and those with no tokens left out)."""
        return tuple(r for r in self.models.rows if r.total and r.key != usage.SYNTHETIC)[:n]


def build_overview(
    db: Database, *, zone: tzinfo, zone_name: str, prices: PriceTable, since: date, until: date,
    agent: str | None = None,
) -> UsageOverview:
    """The usage from ``since`` to ``until`` (local dates, both included) per day, project and model."""
    days, projects, models = (
        build_report(db, zone=zone, zone_name=zone_name, prices=prices, group_by=by, since=since, until=until,
                     agent=agent)
        for by in ("day", "project", "model"))
    return UsageOverview(days, projects, models)
