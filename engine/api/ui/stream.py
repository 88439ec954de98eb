"""``GET /ui/events``: the dashboard's live updates as server-sent events (fastapi.sse).

Each stream subscribes to the engine's snapshots; the engine's threads hand every snapshot to the
stream's event loop through ``loop.call_soon_threadsafe`` into an ``asyncio.Queue``; the stream
renders the fragments of FRAGMENTS for the newest one (older queued snapshots are skipped) and
sends each as an event whose name htmx-ext-sse swaps (``sse-swap="status"``), plus a ``checks``
event only when a check run or the alerts changed (what the costly check rows depend on). No polling: the
generator only wakes for a snapshot, for fastapi's keep-alive comment (every 15 s) or for the
app-level stop event ``Ui.closing`` (set when the API server closes), which ends it at once so
Quit never waits for an open tab. static/app.js closes the stream while the tab is hidden."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import anyio
from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, ServerSentEvent

from engine.api.ui.context import Ui, UiDep

if TYPE_CHECKING:
    from engine.snapshot import Snapshot

# event name -> how to render its fragment for a snapshot (pages register theirs at import)
FRAGMENTS: dict[str, Callable[[Ui, Snapshot], str]] = {}

router = APIRouter()


CHECKS_EVENT = "checks"  # no fragment: pages re-fetch what depends on check runs (hx-trigger="sse:checks")


def runs_key(snapshot: Snapshot) -> tuple[object, ...]:
    """What a snapshot can change in the check rows: each job's last run and whether it runs, and the
    alert counts (a heartbeat's snapshot changes none of them)."""
    return (tuple((j.name, j.last_finished, j.last_outcome, j.running) for j in snapshot.jobs), snapshot.alerts)


@router.get("/ui/events", response_class=EventSourceResponse)
async def events(ui: UiDep) -> AsyncIterator[ServerSentEvent]:
    """One event per fragment whenever the engine publishes a new snapshot (the first at once)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Snapshot | None] = asyncio.Queue()

    def on_snapshot(snapshot: Snapshot) -> None:  # engine threads
        try:
            loop.call_soon_threadsafe(queue.put_nowait, snapshot)
        except RuntimeError:
            pass  # the loop is closed: the server is gone

    stopper = asyncio.ensure_future(ui.closing.wait())
    stopper.add_done_callback(lambda _: queue.put_nowait(None))
    try:
        if ui.closing.is_set():
            return
        await anyio.to_thread.run_sync(ui.engine.subscribe, on_snapshot)  # reads the database once
        last_runs: tuple[object, ...] | None = None
        while True:
            snapshot = await queue.get()
            while snapshot is not None and not queue.empty():
                snapshot = queue.get_nowait()  # only the newest counts
            if snapshot is None:
                return
            for name, render in FRAGMENTS.items():
                yield ServerSentEvent(event=name, raw_data=render(ui, snapshot))
            key = runs_key(snapshot)
            if key != last_runs:  # the check rows are costly to redraw: only when a run or an alert changed
                last_runs = key
                yield ServerSentEvent(event=CHECKS_EVENT, raw_data="changed")
    finally:
        stopper.cancel()
        ui.engine.unsubscribe(on_snapshot)
