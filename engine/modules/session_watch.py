"""Every few minutes: transcripts written recently become active ``work_sessions``.

Recently modified files are ingested incrementally (appended bytes only), then each session
they hold is upserted into ``work_sessions`` by ``external_id`` (the sessionId) with its last
activity time (the newest file mtime). A session that was active and whose files went quiet is
closed: ``ended`` when its last turn completed, ``stalled`` with ``interrupted_reason`` when it
stopped mid-turn (a tool call without result, or a prompt without an answer) so session_crash
can say why.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from peewee import SqliteDatabase

from engine.archive import service
from engine.archive.discover import discover
from engine.config import Config
from engine.life import work_sessions
from engine.modules.base import ModuleContext
from engine.timeutil import to_db, utcnow

DEFAULT_ACTIVE_WINDOW_MINUTES = 15
TRANSCRIPT_SOURCES = ("claude", "codex")  # the work-session sources this module keeps in step


def session_watch_job(db: Any, config: Any, now: datetime | None = None) -> None:
    """Scheduler entry: reads ``config.archive`` (extra_roots, max_line_bytes,
    active_window_minutes; ``sources`` replaces the default roots when set)."""
    cfg = getattr(config, "archive", None)
    watch_sessions(
        db,
        sources=list(getattr(cfg, "sources", None) or []) or None,
        extra_roots=list(getattr(cfg, "extra_roots", []) or []),
        active_window_minutes=float(getattr(cfg, "active_window_minutes",
                                            DEFAULT_ACTIVE_WINDOW_MINUTES)
                                    or DEFAULT_ACTIVE_WINDOW_MINUTES),
        max_line_bytes=int(getattr(cfg, "max_line_bytes", service.DEFAULT_MAX_LINE_BYTES)
                           or service.DEFAULT_MAX_LINE_BYTES),
        now=now,
    )


def watch_sessions(
    db: SqliteDatabase, *, sources: list[str] | None = None, extra_roots: list[str] | None = None,
    active_window_minutes: float = DEFAULT_ACTIVE_WINDOW_MINUTES,
    max_line_bytes: int = service.DEFAULT_MAX_LINE_BYTES, now: datetime | None = None,
) -> dict[str, list[str]]:
    """Bring the work sessions in step with the transcripts; return the external ids made active,
    ended and stalled."""
    now = now or utcnow()
    found = discover(service.build_roots(sources, extra_roots or []))
    cutoff_ns = (now - timedelta(minutes=active_window_minutes)).timestamp() * 1e9
    recent = [f for f in found if f.mtime_ns >= cutoff_ns and f.size > 0]
    if recent:
        service.run_archive(db, files=recent, max_line_bytes=max_line_bytes,
                            trigger="session_watch", now=now)
    activity: dict[str, int] = {}
    if recent:
        mtimes = {f.path: f.mtime_ns for f in recent}
        paths = list(mtimes)
        for i in range(0, len(paths), 500):
            part = paths[i:i + 500]
            for sid, path in db.execute_sql(
                "SELECT fs.session_id, f.path FROM archive_file_sessions fs"
                " JOIN archive_files f ON f.id = fs.file_id"
                f" WHERE f.path IN ({','.join('?' * len(part))})", part).fetchall():
                activity[sid] = max(activity.get(sid, 0), mtimes[path])
    result: dict[str, list[str]] = {"active": [], "ended": [], "stalled": []}
    with db.atomic("IMMEDIATE"):
        for sid, mtime_ns in sorted(activity.items()):
            row = db.execute_sql(
                "SELECT source, title, cwd, first_ts, interrupted_reason, status"
                " FROM conversation_archive_sessions WHERE session_id = ?", (sid,)).fetchone()
            if row is None or row[5] == "no_messages":
                continue
            source, title, cwd, first_ts, reason, _ = row
            last = to_db(datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC))
            name = (title or f"{source} session {sid[:8]}")[:200]
            work_sessions.upsert_watched(db, external_id=sid, name=name, source=source, cwd=cwd,
                                         started_at=first_ts or last, last_activity_at=last,
                                         interrupted_reason=reason)
            result["active"].append(sid)
        for ext in work_sessions.active_external_ids(db, TRANSCRIPT_SOURCES):
            if ext in activity:
                continue
            reason = _archived_interruption(db, ext)
            status = "stalled" if reason else "ended"
            work_sessions.close_watched(db, ext, status, reason)
            result[status].append(ext)
    return result


def _archived_interruption(db: SqliteDatabase, session_id: str) -> str | None:
    """The archive's stored reason why a session stopped mid-turn (None: it completed, or is unknown)."""
    row = db.execute_sql("SELECT interrupted_reason FROM conversation_archive_sessions WHERE session_id = ?",
                         (session_id,)).fetchone()
    return row[0] if row else None


class SessionWatchModule:
    """The live-session watch as a ScheduledModule (engine.modules.base); runs with the archive."""

    name = "session_watch"
    description = "live assistant sessions"

    def schedule(self, config: Config) -> str | None:
        return "every 5m" if config.archive.enabled else None

    def run(self, context: ModuleContext) -> None:
        session_watch_job(context.db, context.config, context.now)
