"""Event actions: the discovered events (check errors, new findings, alerts opened ...)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from engine.actions.paging import Page, Row, select_page, since_until
from engine.actions.target import Target, connected


def _event(row: Row) -> Row:
    if row["detail"]:
        try:
            row["detail"] = json.loads(row["detail"])
        except ValueError:
            pass
    return row


def events(target: Target, *, source: str | None = None, kind: str | None = None,
           severity: str | None = None, since: datetime | None = None, until: datetime | None = None,
           limit: int = 100, offset: int = 0) -> Page:
    """discovered_events, newest first."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("source", source), ("kind", kind), ("severity", severity)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    since_until("ts", since, until, where, params)
    with connected(target) as db:
        return select_page(db, ("id", "ts", "source", "kind", "subject", "severity", "detail"), "discovered_events",
                           where, params, "id DESC", limit, offset, _event)
