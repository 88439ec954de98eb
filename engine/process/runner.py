"""Running an instance: logging, orphans, the lock, signals, the frontend (the UI it is given,
e.g. the tray) or the headless wait, and a clean exit whatever happens (a fatal error ends the
process so no thread keeps a zombie alive). The engine never imports its frontends."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from engine.compose import Units, ensure_config_file
from engine.config import Config
from engine.delivery.service import channel_secrets
from engine.logsetup import setup_logging
from engine.paths import Paths
from engine.platform import current as platform
from engine.process.control import ControlError, send_command
from engine.process.frozen import cleanup_in_background
from engine.process.lifecycle import (
    AlreadyRunning,
    InstanceLock,
    find_orphans,
    is_locked,
    kill_orphans,
    running_instance,
)
from engine.store.db import StoreError

log = logging.getLogger("watchkeeper")

WATCHDOG_GRACE = 5.0
LOCK_RELEASE_SECONDS = 5.0  # `stop`: after the process ended, how long the OS may take to drop its lock



class RunningEngine(Protocol):
    """What the runner needs of the engine (engine.engine.Engine; the runner is given how to make one)."""

    lock: InstanceLock
    stop_requested: threading.Event
    stop_reason: str

    def start(self) -> None: ...
    def stop(self, reason: str = ..., *, release_lock: bool = ...) -> None: ...
    def request_stop(self, reason: str) -> None: ...


Frontend = Callable[[], Callable[[Any], None] | None]
"""A UI for a running engine: called once the engine started, it returns the function that runs
the UI on the main thread until the app should exit (``run(engine)``), or None when it cannot be
shown here (no display): the instance then runs headless."""


def run_instance(paths: Paths, config: Config, units: Units, *,
                 make_engine: Callable[[Paths, Config, Units], RunningEngine], frontend: Frontend | None = None,
                 kill_orphans: bool = False) -> int:
    """Run the engine ``make_engine`` builds until stopped, showing ``frontend`` when it can be
    shown (else headless), then end the process (end_process); returns an exit code only when the
    instance did not start (3 when another instance runs, 1 for an unusable database)."""
    paths.ensure()
    ensure_config_file(paths.config_file, units)
    setup_logging(paths.log_file, config.general.log_level, secrets=channel_secrets(config, units.channels))
    cleanup_in_background()  # leftover _MEI folders of killed one-file runs (no-op from source)
    _handle_orphans(paths, kill_orphans)
    engine = make_engine(paths, config, units)
    _install_signal_handlers(engine)
    try:
        engine.start()
    except AlreadyRunning as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 3
    except StoreError as exc:
        log.error("cannot start: %s", exc)
        print(f"watchkeeper: cannot start: {exc}. The file was left as it is; 'watchkeeper doctor' "
              "explains, and the backups folder holds the weekly copies.", file=sys.stderr)
        return 1
    atexit.register(engine.stop, "atexit")
    loop_done = threading.Event()
    _start_exit_watchdog(engine, loop_done)
    try:
        ui = None if frontend is None else frontend()
        if ui is None:
            log.info("running headless%s", "" if frontend is None else ": no display or tray host available")
            engine.stop_requested.wait()
        else:
            ui(engine)
    except BaseException:
        log.exception("fatal error; shutting down")
        end_process(engine, "fatal error", 1)
    loop_done.set()
    return end_process(engine, engine.stop_reason, 0)


def report_start_error(paths: Paths, message: str, *, windowed: bool | None = None,
                       show: Callable[[str, str], object] | None = None) -> None:
    """An instance that cannot start says why where the user can find it: in the log file (its
    path does not depend on the config) and, in the windowed build (no console: Task Scheduler and
    the tray discard stderr), on screen through ``show(title, text)`` (default: the platform's
    message box or notification, best effort). The caller still prints ``message`` to stderr."""
    from engine.process.frozen import has_console

    try:
        setup_logging(paths.log_file, "INFO", stderr=False)
        log.error("cannot start: %s", message)
    except OSError as exc:  # an unwritable log folder must not hide the first problem
        print(f"watchkeeper: cannot write the log file {paths.log_file}: {exc}", file=sys.stderr)
    if windowed is None:
        windowed = not has_console()
    if windowed:
        try:
            (show or platform.show_error)("Watchkeeper cannot start",
                                          f"{message}\n\nDetails are in {paths.log_file}.")
        except Exception:
            log.exception("could not show the start-up error")


def end_process(engine: RunningEngine, reason: str, code: int, *, exit: Callable[[int], object] | None = None) -> int:
    """Stop the engine and end the process; the lock is the last thing to go.

    The engine stops with everything but the lock; then the PID file is removed and the process
    ends at once (logs flushed), and the OS drops the lock as the process goes. So no thread still
    running (a job past the shutdown grace, a hung library thread; the interpreter would join them)
    can keep this process alive after another instance could take the lock.
    """
    engine.stop(reason, release_lock=False)
    me = threading.current_thread()
    lingering = [t.name for t in threading.enumerate() if t is not me and not t.daemon and t.is_alive()]
    if lingering:
        log.warning("ending the process with threads still running: %s", ", ".join(lingering))
    engine.lock.release_at_exit()
    (exit or _hard_exit)(code)
    return code


def _start_exit_watchdog(engine: RunningEngine, loop_done: threading.Event, grace: float = WATCHDOG_GRACE,
                         exit: Callable[[int], object] | None = None) -> threading.Thread:
    """Once a stop is requested, the main thread has ``grace`` seconds to leave its loop (the tray's
    can hang inside a GUI toolkit); otherwise stop the engine from here and end the process, so a
    stuck loop never leaves a zombie holding the lock."""

    def watch() -> None:
        engine.stop_requested.wait()
        if loop_done.wait(grace):
            return
        log.error("the main loop did not end within %.0f s of the stop request; forcing exit", grace)
        end_process(engine, engine.stop_reason, 0, exit=exit)

    thread = threading.Thread(target=watch, name="exit-watchdog", daemon=True)
    thread.start()
    return thread


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:  # noqa: S110 - a broken handler must not stop the exit
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


def _hard_exit(code: int) -> None:
    """End the process now (non-daemon threads cannot keep it alive), logs flushed first."""
    _flush_logs()
    logging.shutdown()
    os._exit(code)


def _handle_orphans(paths: Paths, kill: bool) -> None:
    orphans = find_orphans(paths)
    if not orphans:
        return
    pids = ", ".join(str(o.pid) for o in orphans)
    if kill:
        ended = kill_orphans(orphans)
        log.warning("ended orphan watchkeeper processes: %s", ", ".join(map(str, ended)) or "none")
    else:
        log.warning("other watchkeeper processes for this data folder do not hold the lock: %s "
                    "(run with --kill-orphans to end them)", pids)


def _install_signal_handlers(engine: RunningEngine) -> None:
    def on_signal(signum: int, frame: object) -> None:
        log.info("received signal %d", signum)
        engine.request_stop(f"signal {signal.Signals(signum).name}")

    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGBREAK"):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                signal.signal(sig, on_signal)
            except (ValueError, OSError):  # not the main thread, or not supported here
                pass
    platform.install_console_handler(lambda: engine.request_stop("console close"))


def stop_instance(paths: Paths, timeout: float = 30.0) -> int:
    """Ask the running instance to stop and wait until its lock is released."""
    info = running_instance(paths)
    if info is None:
        print("watchkeeper is not running")
        return 0
    try:
        send_command(paths.control_file, "stop")
    except ControlError as exc:
        print(f"watchkeeper: could not ask PID {info.pid} to stop: {exc}", file=sys.stderr)
        return 1
    if not _wait_exit(info.pid, timeout):
        print(f"watchkeeper: PID {info.pid} did not stop within {timeout:.0f} s", file=sys.stderr)
        return 1
    if not _wait_unlocked(paths, LOCK_RELEASE_SECONDS):
        print("watchkeeper: the instance exited but the lock is still held", file=sys.stderr)
        return 1
    print(f"stopped (PID {info.pid})")
    return 0


def _wait_unlocked(paths: Paths, timeout: float) -> bool:
    """Wait for the lock to be free. The process shows as ended (a zombie) once its main thread
    exited, while its other threads may still be closing its files, the lock among them."""
    import time

    deadline = time.monotonic() + timeout
    while is_locked(paths):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _wait_exit(pid: int, timeout: float) -> bool:
    """Wait for ``pid`` to exit (a zombie awaiting its parent counts as exited)."""
    import time

    import psutil

    deadline = time.monotonic() + timeout
    try:
        proc = psutil.Process(pid)
        while True:
            try:
                proc.wait(0.1)
                return True
            except psutil.TimeoutExpired:
                if proc.status() == psutil.STATUS_ZOMBIE:
                    return True
                if time.monotonic() > deadline:
                    return False
    except psutil.NoSuchProcess:
        return True
