"""Weekly module (Sun 03:00): a digest to Telegram, retention pruning, an online backup of the
database keeping the last N, and an integrity check whose failure is an alert."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from engine.alerts.dispatcher import Dispatcher
from engine.alerts.retention import prune_heartbeat_log, pruning_now, record_pruning
from engine.archive.prices import PriceError, PriceTable, load_prices
from engine.config import Config
from engine.findings import Finding
from engine.life import applications, goals
from engine.modules.base import ModuleContext
from engine.modules.weekly_usage import weekly_usage
from engine.timeutil import parse_duration, resolve_timezone, to_db
from engine.vocabulary import NotificationKind, Severity

log = logging.getLogger(__name__)

INTEGRITY_CHECK = "database_integrity"


def weekly_summary(db: SqliteDatabase, now: datetime) -> dict[str, Any]:
    """Counts for the last seven days."""
    week_ago = now - timedelta(days=7)
    since = to_db(week_ago)

    def one(sql: str, *args: Any) -> int:
        return int(db.execute_sql(sql, args).fetchone()[0] or 0)

    summary = {
        "alerts_raised": one("SELECT count(*) FROM alerts WHERE opened_at >= ?", since),
        "alerts_resolved": one("SELECT count(*) FROM alerts WHERE resolved_at >= ?", since),
        "alerts_open": one("SELECT count(*) FROM alerts WHERE state != 'resolved'"),
        "checks_run": one("SELECT count(*) FROM check_runs WHERE started_at >= ?", since),
        "check_errors": one("SELECT count(*) FROM check_runs WHERE started_at >= ? AND outcome = 'error'", since),
        "applications_open": applications.count_awaiting_answer(db),
        "applications_new": applications.count_applied_since(db, week_ago),
        "goals_active": goals.count_active(db),
        "goal_updates": goals.count_progress_since(db, week_ago),
    }
    try:
        summary["archive_sessions"] = one("SELECT count(*) FROM conversation_archive_sessions")
        summary["archive_sessions_new"] = one(
            "SELECT count(*) FROM conversation_archive_sessions WHERE archived_at >= ?", since)
    except Exception:
        pass
    return summary


def digest_text(s: dict[str, Any]) -> str:
    """The weekly digest body (with the token-usage block of engine.modules.weekly_usage when ``s`` has one)."""
    lines = [
        f"Alerts: {s['alerts_raised']} raised, {s['alerts_resolved']} resolved, {s['alerts_open']} still open",
        f"Checks: {s['checks_run']} runs, {s['check_errors']} errors",
        f"Applications: {s['applications_open']} awaiting an answer ({s['applications_new']} new this week)",
        f"Goals: {s['goals_active']} active, {s['goal_updates']} progress updates",
    ]
    if "archive_sessions" in s:
        lines.append(f"Conversation archive: {s['archive_sessions']} sessions "
                     f"({s['archive_sessions_new']} new this week)")
    if s.get("usage"):
        lines.append(s["usage"])
    return "\n".join(lines)


def backup_database(db_path: Path, backup_dir: Path, now: datetime, keep: int) -> Path:
    """An online copy through SQLite's backup API; only the newest ``keep`` are kept."""
    from engine.privatefile import ensure_private_dir, ensure_private_file

    ensure_private_dir(backup_dir)
    target = backup_dir / f"watchkeeper-{now:%Y%m%d-%H%M%S}.db"
    ensure_private_file(target)  # 0600 before SQLite writes the copy: it holds everything the database does
    src = sqlite3.connect(db_path)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    backups = sorted(backup_dir.glob("watchkeeper-*.db"))
    for old in backups[:-keep]:
        old.unlink()
    return target


def integrity_problem(db: SqliteDatabase) -> str | None:
    """None when PRAGMA integrity_check says ok, else its first lines."""
    rows = [r[0] for r in db.execute_sql("PRAGMA integrity_check").fetchall()]
    return None if rows == ["ok"] else "; ".join(rows[:5])


def longest_cooldown(cooldowns: list[str]) -> timedelta:
    return max((parse_duration(c) for c in cooldowns), default=timedelta(days=7))


def weekly_job(db: SqliteDatabase, dispatcher: Dispatcher, *, db_path: Path, backup_dir: Path, now: datetime,
               keep_backups: int, retention: timedelta, cooldowns: list[str], zone: tzinfo = UTC,
               zone_name: str = "UTC", prices: PriceTable | None = None) -> dict[str, Any]:
    """Run the weekly duties; returns what was done. The digest's usage block counts the week before ``now``'s
    day in ``zone``, priced with ``prices`` (the bundled table when None)."""
    done: dict[str, Any] = {}
    problem = integrity_problem(db)
    findings = [] if problem is None else [
        Finding("database", Severity.CRITICAL, "Database integrity check failed", problem)]
    dispatcher.dispatch(INTEGRITY_CHECK, findings, timedelta(days=1), now)
    done["integrity"] = problem or "ok"
    clock = pruning_now(db, now)  # not the raw wall clock: a clock set far forward must not prune everything
    done["pruned"] = prune_heartbeat_log(db, clock, retention, longest_cooldown(cooldowns))
    with db.atomic():
        cutoff = to_db(clock - max(retention, timedelta(days=30)))
        db.execute_sql("DELETE FROM check_runs WHERE started_at < ?", (cutoff,))
        db.execute_sql("DELETE FROM job_runs WHERE started_at < ?", (cutoff,))
        db.execute_sql("DELETE FROM delivery_attempts WHERE ts < ?", (cutoff,))
        record_pruning(db, clock)
    if problem is None:
        done["backup"] = str(backup_database(db_path, backup_dir, now, keep_backups))
    summary = weekly_summary(db, now)
    block = weekly_usage(db, now.astimezone(zone).date(), zone=zone, zone_name=zone_name,
                         prices=prices or load_prices())
    if block:
        summary["usage"] = block
    with db.atomic("IMMEDIATE"):
        cursor = db.execute_sql(
            "INSERT INTO notifications (check_name, kind, severity, title, body, alert_ids, created_at)"
            " VALUES ('weekly', ?, ?, ?, ?, '[]', ?)",
            (NotificationKind.WEEKLY, Severity.INFO, f"Watchkeeper weekly digest, week of {now:%Y-%m-%d}",
             digest_text(summary), to_db(now)))
        for hook in dispatcher.on_queue:
            hook(db, int(cursor.lastrowid), Severity.INFO)
    for wake in dispatcher.on_queued:
        wake()
    done["digest"] = summary
    log.info("weekly duties done: %s", {k: v for k, v in done.items() if k != "digest"})
    return done


class WeeklyModule:
    """The weekly duties as a ScheduledModule (engine.modules.base)."""

    name = "weekly"
    description = "digest, pruning, backup, integrity"

    def schedule(self, config: Config) -> str | None:
        return config.weekly.schedule

    def run(self, context: ModuleContext) -> dict[str, Any]:
        config = context.config
        zone = resolve_timezone(config.general.timezone)
        try:
            prices = load_prices(config.archive.usage_prices or None)
        except PriceError as exc:  # the digest still goes out, priced with the bundled table
            log.warning("[archive] usage_prices: %s; the weekly digest uses the bundled prices", exc)
            prices = load_prices()
        return weekly_job(context.db, context.dispatcher, db_path=context.paths.db_file,
                          backup_dir=context.paths.backup_dir, now=context.now,
                          keep_backups=config.weekly.keep_backups,
                          retention=timedelta(days=config.alerts.log_retention_days),
                          cooldowns=list(context.check_cooldowns), zone=zone,
                          zone_name=config.general.timezone or getattr(zone, "key", "local"), prices=prices)
