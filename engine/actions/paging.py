"""Pages of rows: the limit and offset checks every listing action shares, and the result type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import SqliteDatabase

from engine.actions.errors import Invalid
from engine.timeutil import to_db

Row = dict[str, Any]

MAX_LIMIT = 1000
MAX_OFFSET = 2**62


@dataclass(frozen=True)
class Page:
    """One page of a listing, newest first, with the total count of what matched."""

    items: tuple[Any, ...]
    total: int
    limit: int
    offset: int

    def to_dict(self) -> Row:
        items = [i.to_dict() if hasattr(i, "to_dict") else i for i in self.items]
        return {"items": items, "total": self.total, "limit": self.limit, "offset": self.offset}


def check_window(limit: int, offset: int) -> None:
    """Invalid unless 1 <= limit <= MAX_LIMIT and 0 <= offset <= MAX_OFFSET."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise Invalid(f"offset must be from 0 to {MAX_OFFSET}, not {offset}")


def since_until(column: str, since: datetime | None, until: datetime | None,
                where: list[str], params: list[Any]) -> None:
    """Add ``since <= column < until`` (each when given) to ``where``."""
    if since is not None:
        where.append(f"{column} >= ?")
        params.append(to_db(since))
    if until is not None:
        where.append(f"{column} < ?")
        params.append(to_db(until))


def rows(db: SqliteDatabase, sql: str, params: Sequence[Any], cols: Sequence[str]) -> list[Row]:
    return [dict(zip(cols, r, strict=True)) for r in db.execute_sql(sql, params).fetchall()]


def select_page(db: SqliteDatabase, cols: Sequence[str], source: str, where: list[str], params: list[Any],
                order: str, limit: int, offset: int, convert: Callable[[Row], Row] | None = None) -> Page:
    """One page of ``SELECT cols FROM source WHERE … ORDER BY order`` with the total count."""
    check_window(limit, offset)
    sql_where = (" WHERE " + " AND ".join(where)) if where else ""
    total = db.execute_sql(f"SELECT count(*) FROM {source}{sql_where}", params).fetchone()[0]
    items = rows(db, f"SELECT {', '.join(cols)} FROM {source}{sql_where} ORDER BY {order} LIMIT ? OFFSET ?",
                 [*params, limit, offset], [c.split(" AS ")[-1].split(".")[-1].strip('"') for c in cols])
    if convert is not None:
        items = [convert(i) for i in items]
    return Page(tuple(items), int(total), limit, offset)
