"""The delivery page: each channel's state and last error, the outbox counted per channel and
state, and the newest rows that failed for good."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.actions.delivery import channels
from engine.actions.errors import Invalid
from engine.actions.target import Target, connected
from engine.delivery.history import FailedRow, outbox_counts, recent_failed
from engine.snapshot import ChannelState

SHOWN_STATES = ("pending", "sending", "sent", "failed", "collapsed", "held", "skipped")


@dataclass(frozen=True)
class DeliveryOverview:
    """``outbox``: {channel: {state: rows}} with every state of SHOWN_STATES present (0 when none)."""

    channels: tuple[ChannelState, ...]
    outbox: dict[str, dict[str, int]]
    failed: tuple[FailedRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"channels": [c.to_dict() for c in self.channels], "outbox": self.outbox,
                "failed": [f.to_dict() for f in self.failed]}


def delivery_overview(target: Target, *, failed: int = 20) -> DeliveryOverview:
    """The channels (as `status` shows them), outbox counts, and the ``failed`` (1..200) newest failed rows."""
    if not 1 <= failed <= 200:
        raise Invalid(f"failed must be from 1 to 200, not {failed}")
    states = channels(target)
    with connected(target) as db:
        counts = outbox_counts(db)
        rows = recent_failed(db, failed)
    names = [c.name for c in states] + sorted(set(counts) - {c.name for c in states})
    table = {name: {s: counts.get(name, {}).get(s, 0) for s in SHOWN_STATES} for name in names}
    return DeliveryOverview(states, table, tuple(rows))
