"""The activity feed: notification decisions (SENT, SUPPRESSED, DEFERRED), recoveries (RECOVERY
decisions) and delivery attempts (sent, failed), newest first, with a cursor for live updates.

The cursor is ``"<decision id>.<attempt id>"``: the highest of each already shown. Both ids only
grow, so ``after=cursor`` returns exactly what was recorded since, whatever the clock did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.actions.errors import Invalid
from engine.actions.target import Target, connected
from engine.alerts.history import decisions_after, latest_decision_id
from engine.alerts.policy import DecisionAction
from engine.delivery.history import attempts_after, latest_attempt_id

MAX_FEED = 200
_CURSOR = re.compile(r"(\d{1,18})\.(\d{1,18})")


@dataclass(frozen=True)
class FeedItem:
    """One line of the feed: ``kind`` is decision, recovery or delivery; ``state`` the decision word
    or sent / failed; ``channel`` and ``error`` only for deliveries."""

    kind: str
    id: int
    ts: str
    check: str | None
    state: str
    text: str
    channel: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Feed:
    """Feed items newest first (by time, then recording order) and the cursor after them."""

    items: tuple[FeedItem, ...]
    cursor: str

    def to_dict(self) -> dict[str, Any]:
        return {"items": [i.to_dict() for i in self.items], "cursor": self.cursor}


def parse_cursor(cursor: str | None) -> tuple[int, int]:
    """(decision id, attempt id) of a cursor; (0, 0) for none; Invalid for anything else."""
    if cursor is None or cursor == "":
        return 0, 0
    match = _CURSOR.fullmatch(cursor) if isinstance(cursor, str) else None
    if match is None:
        raise Invalid(f"cursor must be two numbers joined by a dot (as a feed returned it), not {cursor!r}")
    return int(match.group(1)), int(match.group(2))


def feed(target: Target, *, after: str | None = None, limit: int = 50) -> Feed:
    """The newest ``limit`` events (1..MAX_FEED) recorded after the cursor ``after`` (all when None).

    The returned cursor covers what the database holds now, so polling with it never repeats an event."""
    if not 1 <= limit <= MAX_FEED:
        raise Invalid(f"limit must be from 1 to {MAX_FEED}, not {limit}")
    decision_after, attempt_after = parse_cursor(after)
    with connected(target) as db, db.atomic():
        top_decision, top_attempt = latest_decision_id(db), latest_attempt_id(db)
        decided = decisions_after(db, decision_after, limit)
        attempts = attempts_after(db, attempt_after, limit)
    items = [FeedItem("recovery" if d.decision == DecisionAction.RECOVERY else "decision", d.id, d.ts, d.check,
                      d.decision, d.reason) for d in decided]
    items += [FeedItem("delivery", a.id, a.ts, a.check, "sent" if a.ok else "failed", a.title or "", a.channel,
                       a.error) for a in attempts]
    items.sort(key=lambda i: (i.ts, i.kind == "delivery", i.id), reverse=True)
    cursor = f"{max(top_decision, decision_after)}.{max(top_attempt, attempt_after)}"
    return Feed(tuple(items[:limit]), cursor)
