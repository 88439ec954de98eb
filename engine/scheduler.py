"""The job scheduler: APScheduler 3.x BackgroundScheduler with safe defaults.

- An explicit time zone; coalesce=True, max_instances=1 and a misfire grace long enough that a
  job due while the laptop slept still runs once on wake (APScheduler's default is 1 s).
- Units register as JobSpec (a callable plus a ScheduleSpec), never as import strings.
- Every run is recorded in job_runs (job, start, end, outcome, error); job errors and missed
  runs are kept for health.
- Run-now moves the job's next run time to now (thread-safe, respects max_instances).
- Catch-up: a daily or weekly job whose last success is older than its period runs once, at
  startup and after a detected sleep gap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from peewee import SqliteDatabase

from engine.schedule_spec import ScheduleSpec
from engine.store.db import connection, is_disk_full
from engine.store.diskwatch import DISK
from engine.timeutil import from_db, to_db, utcnow

log = logging.getLogger(__name__)

CATCHUP_MIN_PERIOD = timedelta(hours=23)


class JobOutcome(StrEnum):
    """How a job run ended (``job_runs.outcome``; the SQL of this module spells the same words)."""

    OK = "ok"
    ERROR = "error"
    MISSED = "missed"  # its run time passed while it could not run


@dataclass(frozen=True)
class JobSpec:
    """A scheduled unit: ``func()`` runs on ``schedule``; ``catchup`` for daily/weekly jobs."""

    name: str
    func: Callable[[], Any]
    schedule: ScheduleSpec
    kind: str = "module"
    description: str = ""

    @property
    def catchup(self) -> bool:
        return self.schedule.cron is not None and self.schedule.period >= CATCHUP_MIN_PERIOD


@dataclass
class JobState:
    """What health and status need to know about a job."""

    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_outcome: JobOutcome | None = None
    last_error: str | None = None
    missed: int = 0
    running: bool = False
    consecutive_errors: int = 0


def due_for_catchup(
    last_success: datetime | None, first_seen: datetime | None, period: timedelta, now: datetime
) -> bool:
    """Whether a periodic job missed its slot: its last success (or, never having succeeded,
    the first time this install ran) is older than its period."""
    reference = last_success or first_seen
    return reference is not None and now - reference >= period


@dataclass
class Scheduler:
    """Owns the BackgroundScheduler and the job registry."""

    db: SqliteDatabase
    timezone: Any
    misfire_grace_seconds: int = 3600
    now: Callable[[], datetime] = utcnow
    specs: dict[str, JobSpec] = field(default_factory=dict)
    states: dict[str, JobState] = field(default_factory=dict)
    on_change: Callable[[], None] = lambda: None

    def __post_init__(self) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self._sched = BackgroundScheduler(
            timezone=self.timezone,
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self.misfire_grace_seconds,
            },
        )
        self._sched.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        self._running = 0
        self._stopping = False
        self._sealed = False
        self._idle = threading.Condition()
        self._lock = threading.Lock()

    def register(self, spec: JobSpec) -> None:
        """Add (or replace) a job; effective immediately when the scheduler runs."""
        self.specs[spec.name] = spec
        self.states.setdefault(spec.name, JobState())
        self._sched.add_job(
            self._run,
            trigger=spec.schedule.trigger(self.timezone),
            args=(spec.name, "schedule"),
            id=spec.name,
            name=spec.name,
            replace_existing=True,
        )

    def unregister(self, name: str) -> bool:
        """Remove job ``name`` (a check taken out of the config); a run in progress finishes. False when unknown."""
        if self.specs.pop(name, None) is None:
            return False
        self.states.pop(name, None)
        if self._sched.get_job(name) is not None:
            self._sched.remove_job(name)
        return True

    def start(self) -> None:
        """Start the scheduler thread, then catch up missed daily/weekly jobs."""
        self._sched.start()
        self.catch_up("startup")

    def run_now(self, name: str) -> bool:
        """Make ``name`` run as soon as possible; False when no such job."""
        job = self._sched.get_job(name)
        if job is None:
            return False
        job.modify(next_run_time=datetime.now(self._sched.timezone))
        self._sched.wakeup()
        return True

    def wakeup(self) -> None:
        """Recompute waits now (after a sleep or clock jump)."""
        self._sched.wakeup()

    def catch_up(self, reason: str) -> list[str]:
        """Run once every daily/weekly job whose period passed since its last success."""
        now = self.now()
        first_seen = _first_seen(self.db)
        started = []
        for spec in self.specs.values():
            if not spec.catchup or self.states[spec.name].running:
                continue
            last = _last_success(self.db, spec.name)
            if due_for_catchup(last, first_seen, spec.schedule.period, now):
                log.info("catch-up (%s): running %s, last success %s", reason, spec.name, last)
                self.run_now(spec.name)
                started.append(spec.name)
        return started

    def next_run(self, name: str) -> datetime | None:
        job = self._sched.get_job(name)
        return getattr(job, "next_run_time", None) if job else None

    def shutdown(self, wait_seconds: float) -> list[str]:
        """Stop scheduling; give running jobs up to ``wait_seconds``; return jobs still running.

        Jobs still running afterwards are not waited for again beyond ``drain()``; their worker
        threads are APScheduler's (non-daemon), so the runner ends the process if they linger."""
        self._stopping = True
        if self._sched.running:
            self._sched.shutdown(wait=False)
        return self.drain(wait_seconds)

    def drain(self, wait_seconds: float) -> list[str]:
        """Wait up to ``wait_seconds`` for running jobs to finish; return those still running."""
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0, timeout=max(wait_seconds, 0.0))
        return [n for n, s in self.states.items() if s.running]

    def seal(self) -> None:
        """From now on a job that still finishes is not recorded (the database is closing)."""
        self._sealed = True

    # -- internals -------------------------------------------------------------------------

    def _run(self, name: str, trigger: str) -> JobOutcome:
        spec = self.specs[name]
        state = self.states[name]
        started = self.now()
        with self._lock:
            state.running = True
            state.last_started = started
        with self._idle:
            self._running += 1
        outcome, error = JobOutcome.OK, None
        try:
            with connection(self.db):
                spec.func()
        except Exception as exc:  # a failing job is recorded; the scheduler keeps going
            outcome, error = JobOutcome.ERROR, f"{type(exc).__name__}: {exc}"
            if is_disk_full(exc):  # one warning per state change, not a traceback per run
                error = f"DiskFull: {DISK.failed(exc, self.db.database)}"
            elif self._stopping:
                log.warning("job %s ended by the shutdown: %s", name, error)
            else:
                log.exception("job %s failed", name)
        finally:
            finished = self.now()
            with self._lock:
                state.running = False
                state.last_finished = finished
                state.last_outcome = outcome
                state.last_error = error
                state.consecutive_errors = state.consecutive_errors + 1 if error else 0
            try:
                if self._sealed:
                    log.warning("job %s finished after shutdown (%s); not recorded", name, outcome)
                else:
                    with connection(self.db):
                        self.db.execute_sql(
                            "INSERT INTO job_runs (job, started_at, finished_at, outcome, error, trigger)"
                            " VALUES (?, ?, ?, ?, ?, ?)",
                            (name, to_db(started), to_db(finished), outcome, error, trigger),
                        )
                    if outcome == JobOutcome.OK:
                        DISK.succeeded()
            except Exception as exc:
                if is_disk_full(exc):
                    DISK.failed(exc, self.db.database)
                else:
                    log.exception("could not record the run of %s", name)
            with self._idle:
                self._running -= 1
                self._idle.notify_all()
            self.on_change()
        return outcome

    def _on_event(self, event: Any) -> None:
        from apscheduler.events import EVENT_JOB_MISSED

        state = self.states.get(event.job_id)
        if state is None:
            return
        if event.code == EVENT_JOB_MISSED:
            state.missed += 1
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
            try:
                with connection(self.db):
                    now = to_db(self.now())
                    self.db.execute_sql(
                        "INSERT INTO job_runs (job, started_at, finished_at, outcome, error, trigger)"
                        " VALUES (?, ?, ?, 'missed', ?, 'schedule')",
                        (event.job_id, now, now, f"missed run due {event.scheduled_run_time}"),
                    )
            except Exception:
                log.exception("could not record a missed run")
        self.on_change()


def _last_success(db: SqliteDatabase, job: str) -> datetime | None:
    with connection(db):
        row = db.execute_sql(
            "SELECT max(started_at) FROM job_runs WHERE job = ? AND outcome = 'ok'", (job,)
        ).fetchone()
    return from_db(row[0]) if row and row[0] else None


def _first_seen(db: SqliteDatabase) -> datetime | None:
    with connection(db):
        row = db.execute_sql("SELECT min(started_at) FROM daemon_state").fetchone()
    return from_db(row[0]) if row and row[0] else None
