"""The runner's exit watchdog: a main loop stuck after a stop request never leaves a zombie."""

from __future__ import annotations

import threading

from engine.process.runner import _start_exit_watchdog, end_process


class FakeLock:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def release_at_exit(self) -> None:
        self.calls.append("pid file removed, lock left to the OS")


class FakeEngine:
    def __init__(self) -> None:
        self.stop_requested = threading.Event()
        self.stop_reason = "watchkeeper stop"
        self.stopped_with: list[str] = []
        self.calls: list[str] = []
        self.lock = FakeLock(self.calls)

    def stop(self, reason: str, *, release_lock: bool = True) -> None:
        self.stopped_with.append(reason)
        self.calls.append(f"stop (release_lock={release_lock})")


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


def test_end_process_stops_keeping_the_lock_then_exits_with_the_lock_left_to_the_os():
    engine = FakeEngine()
    end_process(engine, "watchkeeper stop", 0, exit=lambda code: engine.calls.append(f"exit {code}"))  # type: ignore[arg-type]
    assert engine.calls == ["stop (release_lock=False)", "pid file removed, lock left to the OS", "exit 0"]


def test_end_process_exits_even_when_a_non_daemon_thread_still_runs():
    engine, release = FakeEngine(), threading.Event()
    worker = threading.Thread(target=release.wait, args=(30,), name="stuck-job")
    worker.start()
    try:
        end_process(engine, "x", 0, exit=lambda code: engine.calls.append(f"exit {code}"))  # type: ignore[arg-type]
    finally:
        release.set()
        worker.join(10)
    assert engine.calls[-1] == "exit 0"
