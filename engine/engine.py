"""The Engine facade: start(), stop(), snapshot(), subscribe(cb), run_now(name) and the live objects.

The tray and the headless runner know the engine only through this class; what a person asks of
it (run checks, acknowledge, pause ...) goes through ``engine.actions`` with the engine as target. It owns the
single-instance lock, the database, the scheduler with its jobs, the heartbeat and the control
channel, and publishes a Snapshot to subscribers whenever something they show changes. What it
runs (check kinds, scheduled modules, migrations, services) it is given: ``engine.units.UNITS``.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from peewee import SqliteDatabase

from engine import __version__, config_changes, runtime_state
from engine.actions import checks as check_actions
from engine.actions import dashboard as dashboard_actions
from engine.actions import instance as instance_actions
from engine.actions import reload as reload_actions
from engine.actions.errors import ActionError
from engine.alerts.store import Alert, AlertCounts, AlertState, list_alerts
from engine.archive import runs as archive_runs
from engine.checks.registry import build_definitions
from engine.checks.service import CheckService, build_service, quiet_hours
from engine.compose import Units, load_config
from engine.config import Config, ConfigError
from engine.config_changes import ConfigChanges
from engine.config_watch import ConfigWatcher
from engine.delivery.outbox import DELIVERING, ChannelHealth
from engine.delivery.service import DeliveryService, outbox_hook
from engine.health import HealthFacts, assess
from engine.heartbeat import Gap, Heartbeat
from engine.modules.base import ModuleContext, ScheduledModule
from engine.paths import Paths
from engine.platform.presence import read_presence
from engine.platform.processes import process_create_time
from engine.presence import PresenceTracker
from engine.process.control import ControlServer
from engine.process.lifecycle import InstanceLock
from engine.schedule_spec import ScheduleSpec, parse_schedule
from engine.scheduler import JobOutcome, JobSpec, Scheduler
from engine.snapshot import ChannelState, JobInfo, Snapshot
from engine.store.db import connection, open_database
from engine.store.diskwatch import DISK
from engine.timeutil import from_db, parse_duration, resolve_timezone, utcnow

log = logging.getLogger(__name__)

ABANDON_WAIT_SECONDS = 2.0  # after the grace: how long abandoned jobs get to record their end
CONTROL_REPLY_SECONDS = 2.0  # at the end of stop(): how long control threads get to send their replies


class Engine:
    """One running Watchkeeper instance."""

    def __init__(self, paths: Paths, config: Config, units: Units, *, now: Callable[[], datetime] = utcnow):
        self.paths = paths
        self.config = config
        self.units = units
        self.now = now
        self.lock = InstanceLock(paths)
        self.db: SqliteDatabase | None = None
        self.scheduler: Scheduler | None = None
        self.heartbeat: Heartbeat | None = None
        self.control: ControlServer | None = None
        self.checks: CheckService | None = None
        self.delivery: DeliveryService | None = None
        self.stopped = threading.Event()
        self.stop_requested = threading.Event()
        self.stop_reason = "exit"
        self._stop_callbacks: list[Callable[[], None]] = []
        self._subscribers: list[Callable[[Snapshot], None]] = []
        self._started = False
        self._stop_lock = threading.Lock()
        self._stop_done = False
        self._stopping_thread: threading.Thread | None = None
        self._control_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self.services: list[Any] = []  # started units with a close(): channels, API server
        self.watcher: ConfigWatcher | None = None
        self.config_problem: str | None = None  # the edited config.toml is invalid (health DEGRADED)
        self._reload_lock = threading.Lock()
        self._queue_hook: Callable[[SqliteDatabase, int, str], None] = lambda db, nid, severity: None
        # Where the person is (read lazily, at most every 2 s): routing and the status ask it.
        self.presence = PresenceTracker(read_presence, parse_duration(config.delivery.away_after).total_seconds(),
                                        now=now)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Take the lock (raises AlreadyRunning), open the database, start jobs and control."""
        self.paths.ensure()
        self.lock.acquire()
        try:
            self.db = open_database(self.paths.db_file, self.units.migrations)
            interval = float(self.config.heartbeat.interval_seconds)
            self.heartbeat = Heartbeat(self.db, interval, wall=self.now, on_gap=self._on_gap)
            self.heartbeat.start_instance(os.getpid(), process_create_time(os.getpid()))
            archive_runs.mark_interrupted(self.db)  # runs left "running" by a killed process
            self.checks = build_service(self.db, self.config, self.now, self.units.check_kinds)
            self.delivery = DeliveryService(self.db, self.config, self.units.channels, now=self.now,
                                            on_change=self.publish, presence=self.presence.current)
            # Through self: a reloaded config replaces the hook and the delivery service.
            self._queue_hook = outbox_hook(self.config, self.now, self.units.channels, self.presence.current)
            self.checks.dispatcher.on_queue.append(lambda db, nid, severity: self._queue_hook(db, nid, severity))
            self.checks.dispatcher.on_queued.append(lambda: self.delivery.wake_all() if self.delivery else None)
            self.scheduler = Scheduler(
                self.db,
                resolve_timezone(self.config.general.timezone),
                misfire_grace_seconds=self.config.scheduler.misfire_grace_seconds,
                now=self.now,
                on_change=self.publish,
            )
            for spec in self.job_specs():
                self.scheduler.register(spec)
            self.control = ControlServer(self.paths.control_file, self.control_handlers())
            self.control.start()
            self._start_services()
            self.scheduler.start()
            self.watcher = ConfigWatcher(self.paths.config_file, self._on_config_edit)
            self.watcher.start()
            self._started = True
        except BaseException:
            self.stop("failed start")
            raise
        log.info("Watchkeeper %s started (pid %d, data %s)", __version__, os.getpid(), self.paths.data_dir)
        self.publish()

    def stop(self, reason: str = "stop", *, release_lock: bool = True) -> None:
        """Graceful shutdown; idempotent and safe from any thread (a second caller waits for the
        first to finish).

        Order: stop accepting commands; stop scheduling and give running jobs and checks
        ``[scheduler] shutdown_wait_seconds``; abandon the checks still running and kill the
        programs they started; close the services; record the shutdown; close the database; and
        release the lock last. ``release_lock=False`` leaves the lock to the caller (the runner
        releases it right before the process ends, so nothing of this process outlives it).
        """
        with self._stop_lock:
            first = not self._stop_done
            self._stop_done = True
        if not first:
            if threading.current_thread() is not self._stopping_thread:
                self.stopped.wait()
            return
        self._stopping_thread = threading.current_thread()
        try:
            log.info("stopping (%s)", reason)
            if self.watcher is not None:
                self.watcher.close()
            if self.control is not None:
                self.control.close()
            self._stop_work(float(self.config.scheduler.shutdown_wait_seconds))
            for service in reversed(self.services):
                try:
                    service.close()
                except Exception:
                    log.exception("closing %s failed", service)
            if self.heartbeat is not None and self.db is not None:
                try:
                    with connection(self.db):
                        self.heartbeat.mark_stopped(reason)
                except Exception:
                    log.exception("could not mark the shutdown in daemon_state")
            if self.db is not None:
                self.db.close()
            self._join_control_threads(CONTROL_REPLY_SECONDS)
            if release_lock:
                self.lock.release()
        finally:
            self.stopped.set()

    def _join_control_threads(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) for the threads serving control commands to send their replies."""
        deadline = time.monotonic() + timeout
        with self._stop_lock:
            threads = [t for t in self._control_threads if t is not threading.current_thread()]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _stop_work(self, grace: float) -> None:
        """Stop jobs and checks within ``grace`` seconds; what still runs then is abandoned."""
        deadline = time.monotonic() + grace
        left: list[str] = []
        if self.scheduler is not None:
            left = self.scheduler.shutdown(grace)
        if self.checks is not None:
            killed = self.checks.close(deadline - time.monotonic())
            if killed:
                log.warning("killed the programs of checks still running: pids %s", ", ".join(map(str, killed)))
        if self.scheduler is not None:
            if left:  # abandoned checks return at once; give their jobs a moment to record that
                left = self.scheduler.drain(ABANDON_WAIT_SECONDS)
            self.scheduler.seal()
        if left:
            log.warning("jobs still running at shutdown: %s", ", ".join(left))

    def request_stop(self, reason: str) -> None:
        """Ask the owner of the main thread to stop the engine (safe from signal handlers)."""
        if not self.stop_requested.is_set():
            self.stop_reason = reason
            self.stop_requested.set()
            for callback in list(self._stop_callbacks):
                try:
                    callback()
                except Exception:
                    log.exception("stop callback failed")

    def on_stop_request(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when a stop is requested (the tray ends its loop with it)."""
        self._stop_callbacks.append(callback)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the engine stopped (no polling: an Event)."""
        return self.stopped.wait(timeout)

    # -- units -----------------------------------------------------------------------------------

    def job_specs(self) -> list[JobSpec]:
        """Every scheduled unit of this configuration."""
        assert self.heartbeat is not None
        interval = self.config.heartbeat.interval_seconds
        every = ScheduleSpec(f"every {interval}s", interval=timedelta(seconds=interval))
        specs = [JobSpec("heartbeat", self._beat, every, description="daemon_state and sleep-gap detection")]
        specs.extend(self._module_specs())
        assert self.checks is not None
        for definition in self.checks.enabled:
            specs.append(JobSpec(definition.name, functools.partial(self._run_check, definition.name, "schedule"),
                                 parse_schedule(definition.schedule), kind="check",
                                 description=definition.kind.description))
        return specs

    def _run_check(self, name: str, trigger: str) -> Any:
        assert self.checks is not None
        result = self.checks.run(name, trigger)
        self.publish()
        return result

    def _module_specs(self) -> list[JobSpec]:
        """A job for each registered module its configuration turns on."""
        specs = []
        for module in self.units.modules:
            schedule = module.schedule(self.config)
            if schedule is not None:
                specs.append(JobSpec(module.name, functools.partial(self._run_module, module),
                                     parse_schedule(schedule), description=module.description))
        return specs

    def _run_module(self, module: ScheduledModule) -> object:
        assert self.checks is not None
        return module.run(ModuleContext(
            db=self._db(), config=self.config, paths=self.paths, now=self.now(), dispatcher=self.checks.dispatcher,
            check_cooldowns=[d.cooldown for d in self.checks.definitions.values()]))

    def _start_services(self) -> None:
        """Units with their own threads: delivery workers and Telegram polling, then the registered
        services (the API server) that this configuration turns on."""
        assert self.delivery is not None
        self.services.append(self.delivery)
        self.delivery.start(self, self.units.conversations)
        for factory in self.units.services:
            service = factory(self)
            if service is not None:
                self.services.append(service)
                service.start()  # never raises: a busy port becomes the service's problem (health DEGRADED)

    def _db(self) -> SqliteDatabase:
        assert self.db is not None
        return self.db

    def _beat(self) -> None:
        # No publish here: the scheduler publishes when the job ends. A second one a minute made every
        # open dashboard re-fetch its check rows twice per beat (bench/dashboard.py, idle CPU).
        assert self.heartbeat is not None and self.checks is not None
        self.heartbeat.beat()
        self.checks.dispatcher.flush_deferred(self.now())

    def _on_gap(self, gap: Gap) -> None:
        if gap.kind == "asleep" and self.scheduler is not None:
            self.scheduler.wakeup()
            self.scheduler.catch_up("after a gap")
        if self.delivery is not None:
            self.delivery.wake_all()  # drain what waited while the network was away

    # -- config edits (the watcher, `watchkeeper reload`, the tray) ------------------------------

    def reload_config(self) -> ConfigChanges:
        """Read config.toml again and apply what changed: checks re-registered in the scheduler
        (added, removed, new schedules; cooldowns and parameters at their next run), quiet hours,
        channel and delivery settings (the delivery service is rebuilt). Settings only a restart
        applies are kept and named in ``needs_restart``. An invalid file raises ConfigError and
        leaves the last good settings running, with health DEGRADED until the file is fixed."""
        with self._reload_lock:
            if self.watcher is not None:
                self.watcher.mark_seen()
            try:
                new = load_config(self.paths.config_file, self.units)
            except ConfigError as exc:
                self.config_problem = f"config.toml invalid: {exc}, running with the last good settings"
                log.warning("%s", self.config_problem)
                self.publish()
                raise
            changes = config_changes.diff(self.config, new)
            running = config_changes.keep_restart_only(self.config, new)
            if changes.changed:
                self._apply_config(running, changes)
            self.config_problem = None
            if changes:
                log.info("config.toml reloaded: changed %s; needs a restart: %s",
                         ", ".join(changes.changed) or "nothing", ", ".join(changes.needs_restart) or "nothing")
        self.publish()
        return changes

    def _on_config_edit(self) -> None:
        try:
            self.reload_config()
        except ConfigError:
            pass  # logged, and health says so

    def _apply_config(self, config: Config, changes: ConfigChanges) -> None:
        assert self.checks is not None and self.scheduler is not None
        self.config = config
        definitions, warnings = build_definitions(config, self.units.check_kinds)
        for warning in warnings:
            log.warning("config: %s", warning)
        self.checks.reconfigure(definitions, quiet_hours(config, self.checks.tz))
        self.presence.away_after = parse_duration(config.delivery.away_after).total_seconds()
        self._queue_hook = outbox_hook(config, self.now, self.units.channels, self.presence.current)
        channel_sections = tuple(f"{spec.name}." for spec in self.units.channels)
        if changes.touches("delivery.", *channel_sections):
            self._restart_delivery()
        self._sync_jobs()

    def _sync_jobs(self) -> None:
        """Register the jobs of the current config whose schedule is new or changed; remove the rest
        (an unchanged job keeps its next run time)."""
        assert self.scheduler is not None
        wanted = {spec.name: spec for spec in self.job_specs()}
        for name in [n for n in self.scheduler.specs if n not in wanted]:
            self.scheduler.unregister(name)
        for name, spec in wanted.items():
            current = self.scheduler.specs.get(name)
            if current is None or current.schedule.text != spec.schedule.text:
                self.scheduler.register(spec)
            else:
                self.scheduler.specs[name] = spec  # description or kind; the timer stays

    def _restart_delivery(self) -> None:
        """Rebuild the channels and their workers from the current config (the old ones closed
        first: one poller per bot token); pending rows stay in the outbox and are delivered by the new ones."""
        old = self.delivery
        if old is not None:
            old.close()
        fresh = DeliveryService(self._db(), self.config, self.units.channels, now=self.now, on_change=self.publish,
                                presence=self.presence.current)
        if old is not None and old in self.services:
            self.services[self.services.index(old)] = fresh
        else:
            self.services.insert(0, fresh)
        self.delivery = fresh
        fresh.start(self, self.units.conversations)

    # -- the scheduler's door (thread-safe; never blocks on job work) ------------------------------

    def run_now(self, name: str) -> bool:
        """Schedule job ``name`` to run now; False when unknown."""
        return self.scheduler is not None and self.scheduler.run_now(name)

    # -- snapshots ---------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        """Call ``callback(snapshot)`` now and on every change (from engine threads)."""
        self._subscribers.append(callback)
        callback(self.snapshot())

    def unsubscribe(self, callback: Callable[[Snapshot], None]) -> None:
        """Stop calling ``callback`` (a closed dashboard stream); unknown callbacks are ignored."""
        try:
            self._subscribers.remove(callback)
        except ValueError:
            pass

    def publish(self) -> None:
        if not self._subscribers:
            return
        snap = self.snapshot()
        for callback in list(self._subscribers):
            try:
                callback(snap)
            except Exception:
                log.exception("snapshot subscriber failed")

    def snapshot(self) -> Snapshot:
        """The current state, read fresh from memory and the database."""
        now = self.now()
        last_beat = paused = None
        open_alerts: list[Alert] = []
        channels: list[ChannelState] = []
        counts = AlertCounts()
        problems: list[str] = []
        jobs: list[JobInfo] = []
        if self.db is not None and not self._stop_done:
            try:
                with connection(self.db):
                    row = self.db.execute_sql(
                        "SELECT last_beat_at FROM daemon_state WHERE id = ?",
                        (self.heartbeat.instance_id if self.heartbeat else -1,),
                    ).fetchone()
                    last_beat = from_db(row[0]) if row and row[0] else None
                    paused = runtime_state.paused_until(self.db, now)
                    open_alerts = [a for a in list_alerts(self.db, live_only=True, limit=50)
                                   if a.state != AlertState.ACKNOWLEDGED]
                    channels = [ChannelState.from_dict(c) for c in (self.delivery.status() if self.delivery else [])]
                    counts = instance_actions.alert_counts(self)
                    problems += [p for p in [archive_runs.disk_full_problem(self.db)] if p]
            except Exception as exc:
                problems.append(f"database trouble: {exc}")
        if DISK.problem:
            problems.append(DISK.problem)
        if self.config_problem:
            problems.append(self.config_problem)
        problems += [s.problem for s in self.services if getattr(s, "problem", None)]
        api_url = next((s.url for s in self.services if getattr(s, "url", None)), None)
        api_listen = next((s.listen for s in self.services if getattr(s, "listen", None)), None)
        deadman = next((s.deadman_status() for s in self.services if hasattr(s, "deadman_status")), None)
        if self.scheduler is not None:
            for name, spec in self.scheduler.specs.items():
                st = self.scheduler.states[name]
                jobs.append(JobInfo(name, spec.kind, spec.schedule.text, self.scheduler.next_run(name),
                                    st.last_outcome, st.last_finished, st.last_error, st.running))
        facts = HealthFacts(
            started=self._started,
            now=now,
            last_beat=last_beat,
            beat_interval=float(self.config.heartbeat.interval_seconds),
            failing_jobs=[j.name for j in jobs if j.last_outcome == JobOutcome.ERROR],
            broken_channels=[c.name for c in channels if c.state == ChannelHealth.BROKEN],
            problems=problems,
            open_alerts=counts.attention,
            can_deliver=any(c.state in DELIVERING for c in channels),
            paused_until=paused,
            quiet_hours=self._quiet_now(now),
        )
        return Snapshot(health=assess(facts), pid=os.getpid(), version=__version__,
                        started_at=self.heartbeat.started_at if self.heartbeat else None,
                        last_beat=last_beat, paused_until=paused, jobs=jobs, open_alerts=open_alerts,
                        channels=channels,
                        checks=list(self.checks.definitions) if self.checks else [],
                        last_check_at=self.checks.last_run_at if self.checks else None, api_url=api_url,
                        api_listen=api_listen, alerts=counts, deadman=deadman, presence=self.presence.current(),
                        presence_since=self.presence.changed_at)

    def _quiet_now(self, now: datetime) -> bool:
        quiet = self.checks.dispatcher.quiet if self.checks else None
        return quiet is not None and quiet.window_end(now) is not None

    # -- control channel ---------------------------------------------------------------------------

    def control_handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        """Commands the CLI sends to the running instance: each parses its request and calls an action."""

        def stop(req: dict[str, Any]) -> dict[str, Any]:
            self.request_stop("watchkeeper stop")
            return {"pid": os.getpid()}

        def run(req: dict[str, Any]) -> dict[str, Any]:
            return {"scheduled": check_actions.schedule_job(self, req.get("name"))}

        def pause(req: dict[str, Any]) -> dict[str, Any]:
            until = req.get("until")
            instance_actions.pause_until(self, from_db(until) if until else None)
            return {"paused_until": until}

        def status(req: dict[str, Any]) -> dict[str, Any]:
            return {"snapshot": instance_actions.status(self).to_dict()}

        def check_run(req: dict[str, Any]) -> dict[str, Any]:
            return check_actions.run_checks(self, req.get("names"), "manual").to_dict()

        def refresh(req: dict[str, Any]) -> dict[str, Any]:
            if self.delivery is not None:
                self.delivery.wake_all()  # e.g. a channel a test proved working: its pending rows are due
            self.publish()
            return {}

        def reload(req: dict[str, Any]) -> dict[str, Any]:
            try:
                return {"error": None, **reload_actions.reload_settings(self).to_dict()}
            except ActionError as exc:  # an invalid file is an answer, not a failed command
                return {"error": str(exc), "changed": [], "needs_restart": []}

        def dashboard_login(req: dict[str, Any]) -> dict[str, Any]:
            try:
                return {"url": dashboard_actions.login_url(self), "error": None}
            except ActionError as exc:  # the API is off or down: an answer, not a failed command
                return {"url": None, "error": str(exc)}

        handlers = {"stop": stop, "run": run, "pause": pause, "status": status, "check_run": check_run,
                    "refresh": refresh, "reload": reload, "dashboard-login": dashboard_login}
        return {name: self._tracked(handler) for name, handler in handlers.items()}

    def _tracked(self, handler: Callable[[dict[str, Any]], dict[str, Any]]
                 ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """``handler``, remembering the thread that serves it: stop() lets those threads send
        their replies (the reply to `stop` above all) before the process ends."""

        def serve(request: dict[str, Any]) -> dict[str, Any]:
            with self._stop_lock:
                self._control_threads.add(threading.current_thread())
            return handler(request)

        return serve
