"""The runner's exit watchdog: a main loop stuck after a stop request never leaves a zombie."""

from __future__ import annotations

import threading

from engine.runner import _start_exit_watchdog


class FakeEngine:
    def __init__(self) -> None:
        self.stop_requested = threading.Event()
        self.stop_reason = "watchkeeper stop"
        self.stopped_with: list[str] = []

    def stop(self, reason: str) -> None:
        self.stopped_with.append(reason)


def test_stuck_loop_after_a_stop_request_is_ended_with_a_clean_stop():
    engine, exits = FakeEngine(), []
    watchdog = _start_exit_watchdog(engine, threading.Event(), grace=0.1, exit=exits.append)  # type: ignore[arg-type]
    engine.stop_requested.set()
    watchdog.join(10)
    assert engine.stopped_with == ["watchkeeper stop"] and exits == [0]


def test_loop_that_ends_in_time_is_left_alone():
    engine, exits, done = FakeEngine(), [], threading.Event()
    watchdog = _start_exit_watchdog(engine, done, grace=10, exit=exits.append)  # type: ignore[arg-type]
    done.set()
    engine.stop_requested.set()
    watchdog.join(10)
    assert engine.stopped_with == [] and exits == []
