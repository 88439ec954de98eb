"""One page of typed rows from a life table, with the total count of matching rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from peewee import SqliteDatabase

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """``items`` (at most ``limit``, after skipping ``offset``) out of ``total`` matching rows."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class Filter:
    """WHERE terms (joined with AND) and their parameters, built up one condition at a time."""

    terms: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()

    def where(self, term: str, *params: Any) -> Filter:
        return Filter((*self.terms, term), (*self.params, *params))

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.terms)) if self.terms else ""


def like_part(text: str) -> str:
    """A LIKE pattern (with ``ESCAPE '\\'``) matching ``text`` anywhere, its wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def page(db: SqliteDatabase, columns: Sequence[str], source: str, where: Filter, order: str, limit: int,
         offset: int, make: Callable[..., T]) -> Page[T]:
    """``SELECT columns FROM source WHERE … ORDER BY order`` paged; each row becomes ``make(*row)``."""
    total = db.execute_sql(f"SELECT count(*) FROM {source}{where.sql()}", where.params).fetchone()[0]
    rows = db.execute_sql(f"SELECT {', '.join(columns)} FROM {source}{where.sql()} ORDER BY {order}"
                          " LIMIT ? OFFSET ?", (*where.params, limit, offset)).fetchall()
    return Page(tuple(make(*r) for r in rows), int(total), limit, offset)
