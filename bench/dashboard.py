#!/usr/bin/env python3
"""The dashboard on a big database: the actions' time, the pages' server time, the idle cost of an
open dashboard, its RSS and the one-file binary's size, printed against the issue's targets.

1. Fill (once; reused while it is the same size and less than 6 h old, or always with --fresh) a
   real SQLite file with --rows check runs and as many heartbeat_log decisions spread over the
   default checks (one every 5 min per check, going back from the fill's time), --alerts alerts
   with a notification each (plus a recovery for the resolved half), two outbox rows per
   notification and their delivery attempts, an archive of 500 sessions with 40 prompts each, and
   60 goals; all with executemany in one transaction.
2. Actions: time each dashboard action in-process (p50 / p95 over --calls calls after one untimed call).
3. Instance: copy the data folder, start a real `watchkeeper run --headless` on it ([api] on a free
   port, [toast] and [archive] off, the checks' schedules at 24 h so no check run lands in a
   measurement window), log in through `watchkeeper dashboard --no-browser` (the token POSTed to
   /ui/session, the cookie kept), then
   - the overview (/ui/) and alerts (/ui/alerts) pages: p50 / p95 over --calls keep-alive requests
     (the time from sending a request to the last byte of its answer over loopback: the server's
     time plus a fraction of a millisecond), target p95 < 50 ms; a page that does not answer 200
     yet is reported as "not there yet";
   - idle CPU: the instance's CPU time (psutil, user + system) over --seconds with no dashboard,
     then over --seconds with one dashboard open (an event stream /ui/events held open by this
     client); the difference in % of one core, target < 0.1 %;
   - the instance's RSS before the first page, after the page timings and with the dashboard open.
4. The one-file binary's size when dist/ has one (target < 40 MB), else how to build it.

    .venv/bin/python bench/dashboard.py [--rows 1000000] [--alerts 10000] [--calls 50] [--seconds 60]
                                        [--db PATH] [--fresh] [--skip-actions] [--skip-instance]

A short run: --rows 100000 --alerts 1000 --seconds 20 (the idle figures' resolution is then 0.05 % of a
core: psutil counts CPU time in 10 ms ticks). Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ROWS = 1_000_000
ALERTS = 10_000
CHANNELS = ("toast", "telegram")
STEP = timedelta(minutes=5)
REUSE_HOURS = 6  # an older fill is refilled: the pages' 24 h strips would show a gap
PAGE_P95_MS = 50.0
IDLE_CORE_PERCENT = 0.1
BINARY_MB = 40.0


def _ts(dt: datetime) -> str:
    from engine.timeutil import to_db

    return to_db(dt)


# -- 1. the fill ------------------------------------------------------------------------------------


def fill(db: Any, checks: list[str], *, rows: int, alert_count: int, now: datetime) -> None:
    """The rows described in the module docstring, in one transaction."""
    per_check = rows // len(checks)
    runs, decisions = [], []
    firing = [json.dumps([{"subject": f"s{k}", "severity": "warning", "title": "t", "detail": ""}]) for k in range(50)]
    for c, name in enumerate(checks):
        for i in range(per_check):
            stamp = _ts(now - STEP * (per_check - i) + timedelta(seconds=c))
            outcome = "error" if i % 97 == 0 else ("firing" if i % 7 == 0 else "ok")
            runs.append((name, stamp, stamp, outcome, int(outcome == "firing"),
                         firing[i % 50] if outcome == "firing" else "[]", "boom" if outcome == "error" else None,
                         "schedule"))
            decisions.append((name, stamp, "SENT" if i % 5 == 0 else "SUPPRESSED", "within cooldown", 1, None))
    alerts: list[tuple[Any, ...]] = []
    notifications: list[tuple[Any, ...]] = []
    outbox: list[tuple[Any, ...]] = []
    attempts: list[tuple[Any, ...]] = []
    span = STEP * per_check
    for a in range(1, alert_count + 1):
        name = checks[a % len(checks)]
        opened = now - span + span * a / (alert_count + 1)
        resolved = opened + timedelta(hours=3) if a % 2 == 0 and a < alert_count - 50 else None
        state = "resolved" if resolved else ("acknowledged" if a % 3 == 0 else ("snoozed" if a % 3 == 1 else "open"))
        alerts.append((name, f"subject-{a}", "warning", f"alert {a}", "detail", state, _ts(opened), _ts(opened),
                       _ts(resolved) if resolved else None, _ts(opened), _ts(opened), 1))
        for kind, at in [("alert", opened)] + ([("recovery", resolved)] if resolved else []):
            nid = len(notifications) + 1
            notifications.append((nid, name, kind, "warning", f"{kind} {a}", "body", json.dumps([a]), _ts(at)))
            for channel in CHANNELS:
                oid = len(outbox) + 1
                failed = oid % 50 == 0
                outbox.append((oid, nid, channel, f"{nid}:{channel}", "failed" if failed else "sent", 1 + failed,
                               _ts(at), _ts(at), None if failed else _ts(at), "HTTP 400" if failed else None))
                attempts.append((oid, _ts(at), int(not failed), "HTTP 400" if failed else None, int(failed)))
    with db.atomic():
        db.cursor().executemany(
            "INSERT INTO check_runs (check_name, started_at, finished_at, outcome, findings, findings_json, error,"
            " trigger) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", runs)
        db.cursor().executemany(
            "INSERT INTO heartbeat_log (check_name, ts, decision, reason, subjects, notification_id)"
            " VALUES (?, ?, ?, ?, ?, ?)", decisions)
        db.cursor().executemany(
            "INSERT INTO alerts (check_name, subject, severity, title, detail, state, opened_at, last_seen_at,"
            " resolved_at, first_notified_at, last_notified_at, notify_count)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            alerts)
        db.cursor().executemany(
            "INSERT INTO notifications (id, check_name, kind, severity, title, body, alert_ids, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", notifications)
        db.cursor().executemany(
            "INSERT INTO outbox (id, notification_id, channel, idempotency_key, state, attempts, created_at,"
            " next_attempt_at, sent_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", outbox)
        db.cursor().executemany(
            "INSERT INTO delivery_attempts (outbox_id, ts, ok, error, permanent) VALUES (?, ?, ?, ?, ?)", attempts)
        fill_archive(db, now)
        fill_goals(db, now)
    db.execute_sql("ANALYZE")


def fill_archive(db: Any, now: datetime) -> None:
    sessions, entries, messages = [], [], []
    for s in range(500):
        start = now - timedelta(hours=9 * (500 - s))
        sid = f"session-{s:04d}"
        sessions.append((sid, "claude", _ts(start), _ts(start + timedelta(hours=1)), 40, _ts(start), _ts(start)))
        for p in range(40):
            at = _ts(start + timedelta(minutes=p))
            entries.append((f"{sid}:{p}", sid, 1, p * 100, p, "prompt", at, f"prompt {p}"))
            messages.append((sid, f"m{p}", at, at, 100, 200, 1000, 50))
    db.cursor().executemany(
        "INSERT INTO conversation_archive_sessions (session_id, source, first_ts, last_ts, human_prompts, archived_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", sessions)
    db.cursor().executemany(
        "INSERT INTO archive_entries (entry_key, session_id, file_id, byte_offset, line_no, kind, ts, text)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", entries)
    db.cursor().executemany(
        "INSERT INTO archive_messages (session_id, message_id, first_ts, last_ts, input_tokens, output_tokens,"
        " cache_read_tokens, cache_creation_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", messages)


def fill_goals(db: Any, now: datetime) -> None:
    db.execute_sql("INSERT INTO life_domains (name, created_at) VALUES ('Health', ?), ('Career', ?)",
                   (_ts(now), _ts(now)))
    goals = [(1 + g % 2, f"goal {g}", _ts(now - timedelta(days=g))) for g in range(60)]
    db.cursor().executemany("INSERT INTO life_goals (domain_id, title, created_at) VALUES (?, ?, ?)", goals)
    subs = [(1 + g, f"step {k}", _ts(now)) for g in range(60) for k in range(3)]
    db.cursor().executemany("INSERT INTO life_sub_goals (goal_id, title, created_at) VALUES (?, ?, ?)", subs)
    progress = [(1 + g % 60, _ts(now - timedelta(days=g % 40)), None) for g in range(600)]
    db.cursor().executemany("INSERT INTO life_goal_metrics (goal_id, ts, note) VALUES (?, ?, ?)", progress)


def filled_at(db: Any, rows: int, alert_count: int, checks: list[str]) -> datetime | None:
    """The time the fill in ``db`` was made for, when it has the asked-for size (None: refill)."""
    from engine.store.db import connection
    from engine.timeutil import from_db

    with connection(db):
        runs = db.execute_sql("SELECT count(*), max(started_at) FROM check_runs").fetchone()
        alerts = db.execute_sql("SELECT count(*) FROM alerts").fetchone()[0]
    if runs[0] != rows // len(checks) * len(checks) or alerts != alert_count or runs[1] is None:
        return None
    return from_db(runs[1]) + STEP - timedelta(seconds=len(checks) - 1)


def prepare(path: Path, *, rows: int, alert_count: int, fresh: bool) -> tuple[datetime, list[str]]:
    """A filled database at ``path`` (reused when it fits), the time it was filled for and its checks."""
    from engine.actions.target import Offline
    from engine.store.db import connection
    from engine.units import UNITS, open_db

    path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(path)
    checks = list(Offline(db, bench_config(), UNITS).checks.definitions)  # type: ignore[union-attr]
    now = None if fresh else filled_at(db, rows, alert_count, checks)
    if now is not None and datetime.now(timezone.utc) - now < timedelta(hours=REUSE_HOURS):
        db.close()
        print(f"reusing {path} (filled for {now:%Y-%m-%d %H:%M} UTC; --fresh refills)")
        return now, checks
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = open_db(path)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    start = time.perf_counter()
    with connection(db):
        fill(db, checks, rows=rows, alert_count=alert_count, now=now)
    db.close()  # checkpoints the WAL: the file alone is the database (copied for the instance)
    print(f"filled {path} in {time.perf_counter() - start:.1f} s ({rows // len(checks) * len(checks):,} runs and "
          f"decisions over {len(checks)} checks, {alert_count:,} alerts)")
    return now, checks


def bench_config() -> Any:
    from engine.compose import config_sections
    from engine.config import parse_config
    from engine.units import CHANNELS as UNIT_CHANNELS

    return parse_config({"api": {"enabled": False}, "archive": {"enabled": False}}, {},
                        sections=config_sections(UNIT_CHANNELS))


# -- 2. the actions ---------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), percentile(samples, 95)


def verdict(value: float, target: float, unit: str, what: str = "p95") -> tuple[str, bool]:
    ok = value < target
    return f"{what} < {target:g} {unit}: {'ok' if ok else 'MISSED'}", ok


def bench_actions(path: Path, now: datetime, calls: int) -> bool:
    """Print each action's p50 / p95; False when a target is missed."""
    from engine.actions import activity, alert_list, archive_activity, delivery_overview, goals_board, history, overview
    from engine.actions.target import Offline
    from engine.store.db import connection
    from engine.units import UNITS, open_db

    db = open_db(path)
    target = Offline(db, bench_config(), UNITS, now=lambda: now)
    assert target.checks is not None
    one = next(iter(target.checks.definitions))
    with connection(db):
        last_feed = activity.feed(target).cursor
    cases: list[tuple[str, Callable[[], object], float | None]] = [
        ("overview: check rows (24 h + 7 d strips, last/next run)", lambda: overview.check_rows(target), PAGE_P95_MS),
        ("alerts page (newest 50, deliveries per channel)", lambda: alert_list.alert_rows(target), PAGE_P95_MS),
        ("alerts page filtered (open, one check)", lambda: alert_list.alert_rows(target, state="open", check=one),
         PAGE_P95_MS),
        ("alerts page 100 (offset 5000)", lambda: alert_list.alert_rows(target, offset=5000), PAGE_P95_MS),
        ("check: strip 30 d", lambda: history.status_strip(target, one, "30d"), None),
        ("check: uptime 24 h / 7 d / 30 d", lambda: history.uptime(target, one), None),
        ("check: decisions page 1", lambda: history.decisions(target, one), None),
        ("check: decisions page 100", lambda: history.decisions(target, one, offset=5000), None),
        ("check: last run and findings", lambda: history.last_run(target, one), None),
        ("activity feed (newest 50)", lambda: activity.feed(target), None),
        ("activity feed after cursor (live)", lambda: activity.feed(target, after=last_feed), None),
        ("delivery overview", lambda: delivery_overview.delivery_overview(target), None),
        ("archive heatmap (182 days)", lambda: archive_activity.heatmap(target), None),
        ("archive tokens per day (30 days)", lambda: archive_activity.token_usage(target), None),
        ("goals board", lambda: goals_board.goals_board(target), None),
    ]
    print(f"\nactions, in-process ({calls} calls each)")
    print(f"{'action':58} {'p50 ms':>8} {'p95 ms':>8}  target")
    passed = True
    for name, fn, target_ms in cases:
        p50, p95 = timed(fn, calls)
        text = ""
        if target_ms is not None:
            text, ok = verdict(p95, target_ms, "ms")
            passed &= ok
        print(f"{name:58} {p50:8.2f} {p95:8.2f}  {text}")
    db.close()
    return passed


# -- 3. a real instance -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    home: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def instance_on(db_file: Path | None, checks: list[str], extra: str = "") -> Iterator[Running]:
    """A real `watchkeeper run --headless` on a copy of ``db_file`` (None: a new data folder), stopped
    (SIGTERM) at the end; ``extra`` is more config.toml text (other benchmarks reuse this)."""
    with tempfile.TemporaryDirectory(prefix="wk-bench-") as tmp:
        home = Path(tmp) / "home"
        for folder in ("config", "data", "logs"):
            (home / folder).mkdir(parents=True, mode=0o700)
        if db_file is not None:
            target = home / "data" / "watchkeeper.db"
            shutil.copyfile(db_file, target)
            target.chmod(0o600)
        port = free_port()
        quiet = "".join(f'[checks.{name}]\nschedule = "every 24h"\n\n' for name in checks)
        config = home / "config" / "config.toml"
        config.write_text(f"[api]\nenabled = true\nport = {port}\n\n[toast]\nenabled = false\n\n"
                          f"[archive]\nenabled = false\n\n{quiet}{extra}", encoding="utf-8")
        config.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")}
        env.update(WATCHKEEPER_HOME=str(home), PYTHONPATH=str(ROOT))
        log = open(Path(tmp) / "instance.log", "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen([sys.executable, "-m", "engine", "run", "--headless"], env=env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
        running = Running(home, port, env, process)
        try:
            wait_for(lambda: healthy(running), 120, "the instance's GET /health", running, Path(tmp) / "instance.log")
            yield running
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            log.close()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, running: Running | None = None,
             log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if running is not None and running.process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise SystemExit(f"the instance exited with {running.process.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def healthy(running: Running) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class Browser:
    """A keep-alive HTTP client holding the dashboard's session cookie, as a browser tab would."""

    def __init__(self, running: Running):
        self.running = running
        self.conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=60)
        self.cookie = ""

    def headers(self, **extra: str) -> dict[str, str]:
        base = {"Host": f"127.0.0.1:{self.running.port}", "Origin": self.running.origin, "X-WK-UI": "1"}
        if self.cookie:
            base["Cookie"] = self.cookie
        return {**base, **extra}

    def log_in(self) -> None:
        """`watchkeeper dashboard --no-browser`, then the token from its URL POSTed to /ui/session."""
        done = subprocess.run([sys.executable, "-m", "engine", "dashboard", "--no-browser"], env=self.running.env,
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise SystemExit(f"watchkeeper dashboard --no-browser exited {done.returncode}: {done.stderr.strip()}")
        url = done.stdout.strip().splitlines()[-1]
        token = dict(part.split("=", 1) for part in urlsplit(url).fragment.split("&"))["t"]
        self.conn.request("POST", "/ui/session", body=json.dumps({"token": token}),
                          headers=self.headers(**{"Content-Type": "application/json"}))
        answer = self.conn.getresponse()
        answer.read()
        if answer.status != 204:
            raise SystemExit(f"POST /ui/session answered {answer.status}")
        self.cookie = (answer.getheader("set-cookie") or "").split(";", 1)[0]

    def get(self, path: str) -> tuple[int, float, bytes]:
        """The status, the milliseconds from sending ``GET path`` to the last byte of the answer, the body."""
        start = time.perf_counter()
        try:
            self.conn.request("GET", path, headers=self.headers())
            answer = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):  # the server closed an idle keep-alive
            self.conn.close()
            start = time.perf_counter()
            self.conn.request("GET", path, headers=self.headers())
            answer = self.conn.getresponse()
        body = answer.read()
        return answer.status, (time.perf_counter() - start) * 1000, body


_TAG = re.compile(r"<[a-z][^>]*>", re.S)
_ATTR = re.compile(r'(hx-get|hx-trigger)="([^"]*)"')


def sse_followups(page: str) -> list[tuple[str, str]]:
    """(event name, URL) of each element of ``page`` that htmx re-fetches on a stream event
    (``hx-get`` with ``hx-trigger="sse:NAME"``): what an open tab requests per event."""
    out = []
    for tag in _TAG.findall(page):
        attrs = dict(_ATTR.findall(tag))
        for trigger in attrs.get("hx-trigger", "").split(","):
            if trigger.strip().startswith("sse:") and "hx-get" in attrs:
                out.append((trigger.strip()[4:].split()[0], attrs["hx-get"]))
    return out


class EventStream:
    """``GET /ui/events`` held open on its own connection, as an open overview tab holds it: counts
    the events and, per event, fetches what the page re-fetches on it (``followups``) on a second
    keep-alive connection."""

    def __init__(self, browser: Browser, followups: list[tuple[str, str]]):
        self.conn = http.client.HTTPConnection("127.0.0.1", browser.running.port, timeout=600)
        self.conn.request("GET", "/ui/events", headers=browser.headers(Accept="text/event-stream"))
        self.answer = self.conn.getresponse()
        if self.answer.status != 200:
            raise SystemExit(f"GET /ui/events answered {self.answer.status}")
        self.tab = Browser(browser.running)
        self.tab.cookie = browser.cookie
        self.followups = followups
        self.events = 0
        self.comments = 0
        self.fetches = 0
        self.failed = 0
        self.busy = False  # handling an event (its fetches)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while line := self.answer.fp.readline():
                if line.startswith(b"event:"):
                    self.busy = True
                    name = line[6:].strip().decode()
                    for event, url in self.followups:
                        if event == name:
                            status, _, _ = self.tab.get(url)
                            self.fetches += 1
                            self.failed += status != 200
                    self.events += 1
                    self.busy = False
                elif line.startswith(b":"):
                    self.comments += 1
        except (OSError, ValueError, http.client.HTTPException):
            pass  # closed by close()

    @property
    def alive(self) -> bool:
        """Still reading the stream (False: the server ended it or a fetch failed)."""
        return self._reader.is_alive()

    def close(self) -> None:
        if self.conn.sock is not None:
            try:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conn.close()
        self._reader.join(10)
        self.tab.conn.close()


def cpu_seconds(proc: Any) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def settle(proc: Any, *, quiet_ms: float = 20.0, window: float = 1.0, timeout: float = 60.0) -> None:
    """Wait until the instance's start-up work is done: a ``window`` using under ``quiet_ms`` of CPU."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(proc)
        time.sleep(window)
        if (cpu_seconds(proc) - before) * 1000 < quiet_ms:
            return
    print(f"  (the instance did not go quiet within {timeout:g} s; idle figures include that work)")


def idle_percent(proc: Any, seconds: float) -> float:
    """The process's CPU over the next ``seconds`` seconds, in % of one core."""
    before, start = cpu_seconds(proc), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(proc) - before) / (time.monotonic() - start) * 100


def bench_instance(db_file: Path, checks: list[str], calls: int, seconds: float) -> bool:
    """Print the pages' times, the idle cost of an open dashboard and the RSS; False when a target is missed."""
    import psutil

    passed = True
    with instance_on(db_file, checks) as running:
        proc = psutil.Process(running.process.pid)
        settle(proc)
        rss_start = proc.memory_info().rss / 2**20
        browser = Browser(running)
        browser.log_in()
        print(f"\npages, a real instance on a copy of {db_file.name} (pid {proc.pid}, port {running.port}); "
              f"{calls} keep-alive requests each after one untimed")
        print(f"{'page':58} {'first ms':>8} {'p50 ms':>8} {'p95 ms':>8}  target")
        overview_page = ""
        for label, path in (("overview /ui/", "/ui/"), ("alerts /ui/alerts", "/ui/alerts")):
            status, first, body = browser.get(path)
            if status != 200:
                print(f"{label:58} not there yet (HTTP {status})")
                continue
            if path == "/ui/":
                overview_page = body.decode("utf-8", "replace")
            samples = []
            for _ in range(calls):
                status, ms, _ = browser.get(path)
                if status != 200:
                    raise SystemExit(f"GET {path} answered {status} during the run")
                samples.append(ms)
            p95 = percentile(samples, 95)
            text, ok = verdict(p95, PAGE_P95_MS, "ms")
            passed &= ok
            print(f"{label:58} {first:8.1f} {statistics.median(samples):8.2f} {p95:8.2f}  {text}")
        rss_pages = proc.memory_info().rss / 2**20
        browser.conn.close()

        print(f"\nidle CPU of the instance, {seconds:g} s each (psutil user + system time; its resolution, "
              f"one clock tick of 10 ms, is {1 / seconds:.3f} % here)")
        settle(proc)
        base = idle_percent(proc, seconds)
        followups = sse_followups(overview_page)
        stream = EventStream(browser, followups)
        try:
            # the first event (sent at once) and its fetches are the page opening, not idling
            wait_for(lambda: stream.events > 0 and not stream.busy, 30, "the first event of /ui/events")
            settle(proc)
            before = (stream.events, stream.comments, stream.fetches)
            open_ = idle_percent(proc, seconds)
            rss_open = proc.memory_info().rss / 2**20
            events, comments = stream.events - before[0], stream.comments - before[1]
            fetches = stream.fetches - before[2]
            if stream.failed or not stream.alive:
                raise SystemExit(f"the event stream's client failed ({stream.failed} fetches not 200)")
        finally:
            stream.close()
        added = round(open_ - base, 3)  # judged as printed
        text, ok = verdict(added, IDLE_CORE_PERCENT, "% of a core", "added")
        passed &= ok
        print(f"  no dashboard:           {base:7.3f} % of a core")
        print(f"  one dashboard open:     {open_:7.3f} % of a core ({events} events, {comments} keep-alive comments, "
              f"{fetches} fetches of what the overview re-fetches on an event: "
              f"{', '.join(sorted({u for _, u in followups})) or 'none'})")
        per_event = f" (about {added / 100 * seconds / events * 1000:.0f} ms of CPU per event)" if events else ""
        print(f"  added by the dashboard: {added:7.3f} % of a core  {text}{per_event}")
        print(f"\nRSS of the instance: {rss_start:.1f} MB after start-up, {rss_pages:.1f} MB after the page timings, "
              f"{rss_open:.1f} MB with a dashboard open ({rss_open / rss_start:.2f}x the start-up figure)")
    return passed


# -- 4. the binary ----------------------------------------------------------------------------------


def report_binary() -> bool:
    binary = ROOT / "dist" / ("watchkeeper.exe" if sys.platform == "win32" else "watchkeeper")
    if not binary.exists():
        print(f"\none-file binary: no {binary.relative_to(ROOT)}; build and measure it with "
              "`.venv/bin/python bench/binary.py --build` (target < 40 MB)")
        return True
    mb = binary.stat().st_size / 2**20
    text, ok = verdict(mb, BINARY_MB, "MB", "size")
    print(f"\none-file binary {binary.relative_to(ROOT)}: {mb:.1f} MB ({mb / BINARY_MB:.0%} of the budget)  {text}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="the filled database (default /tmp/wk-dashboard-bench-ROWS.db)")
    parser.add_argument("--rows", type=int, default=ROWS, help="check runs and heartbeat_log rows (each)")
    parser.add_argument("--alerts", type=int, default=ALERTS)
    parser.add_argument("--calls", type=int, default=50, help="timed calls per action and requests per page")
    parser.add_argument("--seconds", type=float, default=60.0, help="each idle CPU window")
    parser.add_argument("--fresh", action="store_true", help="refill the database even when it fits")
    parser.add_argument("--skip-actions", action="store_true", help="no in-process action timings")
    parser.add_argument("--skip-instance", action="store_true", help="no real instance (pages, idle CPU, RSS)")
    args = parser.parse_args()
    db_file = args.db or Path(tempfile.gettempdir()) / f"wk-dashboard-bench-{args.rows}.db"

    now, checks = prepare(db_file, rows=args.rows, alert_count=args.alerts, fresh=args.fresh)
    passed = True
    if not args.skip_actions:
        passed &= bench_actions(db_file, now, args.calls)
    if not args.skip_instance:
        passed &= bench_instance(db_file, checks, args.calls, args.seconds)
    passed &= report_binary()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
