"""One page of typed rows from a life table, with the total count of matching rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

from peewee import SqliteDatabase


class Record:
    """A stored row as a frozen dataclass; ``to_dict()`` is its JSON form (field name to value)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]  # every subclass is a dataclass


R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class Page(Generic[R]):
    """``items`` (at most ``limit``, after skipping ``offset``) out of ``total`` matching rows."""

    items: tuple[R, ...]
    total: int
    limit: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        """``{"items": [row, …], "total": …, "limit": …, "offset": …}``."""
        return {"items": [i.to_dict() for i in self.items], "total": self.total, "limit": self.limit,
                "offset": self.offset}


@dataclass(frozen=True)
class Filter:
    """WHERE terms (joined with AND) and their parameters, built up one condition at a time."""

    terms: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()

    def where(self, term: str, *params: Any) -> Filter:
        return Filter((*self.terms, term), (*self.params, *params))

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.terms)) if self.terms else ""


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_part(text: str) -> str:
    """A LIKE pattern (with ``ESCAPE '\\'``) matching ``text`` anywhere, its wildcards taken literally."""
    return "%" + _like_literal(text) + "%"


def like_prefix(text: str) -> str:
    """A LIKE pattern (with ``ESCAPE '\\'``) matching what starts with ``text``, its wildcards taken literally."""
    return _like_literal(text) + "%"


def page(db: SqliteDatabase, columns: Sequence[str], source: str, where: Filter, order: str, limit: int,
         offset: int, make: Callable[..., R]) -> Page[R]:
    """``SELECT columns FROM source WHERE … ORDER BY order`` paged; each row becomes ``make(*row)``."""
    total = db.execute_sql(f"SELECT count(*) FROM {source}{where.sql()}", where.params).fetchone()[0]
    rows = db.execute_sql(f"SELECT {', '.join(columns)} FROM {source}{where.sql()} ORDER BY {order}"
                          " LIMIT ? OFFSET ?", (*where.params, limit, offset)).fetchall()
    return Page(tuple(make(*r) for r in rows), int(total), limit, offset)
