"""The conversation archive as actions: run it (in the running instance as a background job, or
here and now), list its runs and sessions, show one session, search prompts and answers.

Every action but :func:`run_in_instance` takes the database (a migrated peewee SqliteDatabase on
the caller's thread connection); the work is engine.archive's. Results are frozen dataclasses
whose ``to_dict()`` is the JSON the API and ``--json`` print. Refusals are
:mod:`engine.actions.errors`: NotFound (no such session), Invalid (an unusable query, a bad
limit), Conflict (the archive is off), Unavailable (no room on disk even to start a run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from peewee import OperationalError, SqliteDatabase

from engine.actions.errors import Conflict, Invalid, NotFound, Unavailable
from engine.archive import runs, service, summary
from engine.archive.model import ToolCallView, TurnView
from engine.archive.search import MARKS as SEARCH_MARKS
from engine.archive.service import RunResult
from engine.config import Config
from engine.store.db import DiskFull

JOB = "archive"  # the scheduler's name for the archive run

Progress = Callable[[int, int, int], None]  # (files done, files total, bytes read)


class Instance(Protocol):
    """What :func:`run_in_instance` needs of the running instance (engine.engine.Engine)."""

    config: Config

    def run_now(self, name: str) -> bool: ...


@dataclass(frozen=True)
class Scheduled:
    """A job handed to the running instance's scheduler."""

    job: str
    scheduled: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Archived:
    """What one archive run did here and now; ``failed`` when it failed or a file could not be archived."""

    result: RunResult

    @property
    def failed(self) -> bool:
        return bool(self.result.errors)

    def to_dict(self) -> dict[str, Any]:
        return self.result.as_dict()


@dataclass(frozen=True)
class ArchiveRun:
    """One recorded run (a row of the run log; ``finished_at`` is None while running or interrupted)."""

    id: int
    started_at: str
    finished_at: str | None
    status: str
    trigger: str | None
    files_seen: int
    files_parsed: int
    files_skipped: int
    bytes_read: int
    sessions_new: int
    sessions_updated: int
    bad_lines: int
    duration_s: float | None
    error: str | None
    pid: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunPage:
    """``items`` (newest first) out of ``total`` recorded runs."""

    items: tuple[ArchiveRun, ...]
    total: int
    limit: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        return {"items": [r.to_dict() for r in self.items], "total": self.total, "limit": self.limit,
                "offset": self.offset}


@dataclass(frozen=True)
class ArchivedSession:
    """One archived session's counters and metadata (times are UTC text)."""

    session_id: str
    source: str
    parent_session_id: str | None
    project: str | None
    cwd: str | None
    git_branch: str | None
    cli_version: str | None
    first_ts: str | None
    last_ts: str | None
    human_prompts: int
    api_responses: int
    tool_calls: int
    tool_results: int
    tool_errors: int
    subagents: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    title: str | None
    status: str | None
    interrupted_reason: str | None
    archived_at: str
    updated_at: str
    output_tokens_is_lower_bound: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Subagent:
    """A subagent of a session and the file holding its transcript."""

    agent_id: str
    agent_type: str | None
    description: str | None
    tool_use_id: str | None
    is_warmup: int | None
    file_path: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SessionDetail:
    """One session with its summary (``summary_text`` the prose, ``summary`` the structured form),
    turns, tool calls and subagents."""

    session: ArchivedSession
    summary_text: str | None
    summary: dict[str, Any] | None
    turns: tuple[TurnView, ...]
    tool_calls: tuple[ToolCallView, ...]
    subagents: tuple[Subagent, ...]

    @property
    def facts(self) -> list[str]:
        """The summary's facts beyond prompts and answers: tools used, files touched, tokens, duration."""
        return summary.fact_lines(self.summary) if self.summary else []

    def to_dict(self) -> dict[str, Any]:
        """The session also carries the prose as ``session.summary`` (what ``archive show --json`` always had)."""
        return {"session": {**self.session.to_dict(), "summary": self.summary_text},
                "summary_text": self.summary_text, "summary": self.summary,
                "turns": [asdict(t) for t in self.turns], "tool_calls": [asdict(t) for t in self.tool_calls],
                "subagents": [s.to_dict() for s in self.subagents]}


@dataclass(frozen=True)
class SubagentDetail:
    """One subagent of ``session``: its turns (the task it was given, its answers) and tool calls."""

    session: ArchivedSession
    agent: Subagent
    turns: tuple[TurnView, ...]
    tool_calls: tuple[ToolCallView, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"session": self.session.to_dict(), "agent": self.agent.to_dict(),
                "turns": [asdict(t) for t in self.turns], "tool_calls": [asdict(t) for t in self.tool_calls]}


@dataclass(frozen=True)
class SearchHit:
    """A prompt or answer matching a search, with a snippet (matches between the search's marks, ``[`` ``]``
    unless asked otherwise)."""

    session_id: str
    title: str | None
    kind: str  # prompt / answer
    ts: str | None
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _limit(limit: int) -> None:
    if limit < 1:
        raise Invalid("limit must be at least 1")


# -- running ------------------------------------------------------------------------------------------


def run_in_instance(instance: Instance) -> Scheduled:
    """Hand an archive run to the running instance's scheduler (serialised with the nightly run);
    its result shows in :func:`list_runs`."""
    if not instance.config.archive.enabled or not instance.run_now(JOB):
        raise Conflict("the archive is disabled in config ([archive] enabled = false)")
    return Scheduled(JOB)


def run(db: SqliteDatabase, sources: Sequence[str] | None = None, *, extra_roots: Iterable[str] = (),
        max_line_bytes: int | None = None, trigger: str = "cli", progress: Progress | None = None) -> Archived:
    """Archive the transcripts now, in this process: under ``sources`` (directories or files) or the
    default roots plus ``extra_roots``. A full disk stops the run (``result.disk_full``); NotFound
    (naming the path) when a source does not exist, before any run is recorded; Unavailable when not
    even the run's own row could be written."""
    missing_source(sources or ())
    try:
        result = service.run_archive(db, sources or None, extra_roots=list(extra_roots),
                                     max_line_bytes=max_line_bytes or service.DEFAULT_MAX_LINE_BYTES,
                                     trigger=trigger, progress=progress)
    except DiskFull as exc:
        raise Unavailable(str(exc)) from exc
    return Archived(result)


def missing_source(sources: Iterable[str]) -> None:
    """NotFound naming the first of ``sources`` that is neither a file nor a folder."""
    for source in sources:
        if not Path(source).expanduser().exists():
            raise NotFound(f"no such file or folder: {source}")


# -- reading ------------------------------------------------------------------------------------------


def list_runs(db: SqliteDatabase, *, limit: int = 50, offset: int = 0) -> RunPage:
    """Recorded runs, newest first (a run whose process died shows as ``interrupted``)."""
    _limit(limit)
    if offset < 0:
        raise Invalid("offset cannot be negative")
    items = tuple(ArchiveRun(**r) for r in runs.list_runs(db, limit, offset))
    return RunPage(items, runs.count_runs(db), limit, offset)


def list_sessions(db: SqliteDatabase, *, limit: int = 50) -> tuple[ArchivedSession, ...]:
    """The most recently active archived sessions, newest first."""
    _limit(limit)
    return tuple(ArchivedSession(**r) for r in service.list_sessions(db, limit))


def show_session(db: SqliteDatabase, session_id: str) -> SessionDetail:
    """One session by full id or unique prefix (NotFound when none or several match)."""
    view = service.show_session(db, session_id)
    if view is None:
        raise NotFound(f"no unique archived session matches {session_id!r}")
    fields = dict(view.session)
    text = fields.pop("summary", None)
    return SessionDetail(ArchivedSession(**fields), text, view.summary, tuple(view.turns), tuple(view.tool_calls),
                         tuple(Subagent(**s) for s in view.subagents))


def show_subagent(db: SqliteDatabase, session_id: str, agent_id: str) -> SubagentDetail:
    """One subagent of a session (full id or unique prefix): its task, answers and tool calls
    (NotFound when the session or the subagent is not archived)."""
    detail = show_session(db, session_id)
    agent = next((a for a in detail.subagents if a.agent_id == agent_id), None)
    if agent is None:
        raise NotFound(f"session {detail.session.session_id} has no archived subagent {agent_id!r}")
    return SubagentDetail(detail.session, agent,
                          tuple(summary.build_turns(db, detail.session.session_id, agent_id)),
                          tuple(t for t in detail.tool_calls if t.agent_id == agent_id))


def child_sessions(db: SqliteDatabase, session_id: str) -> tuple[ArchivedSession, ...]:
    """The archived sessions ``session_id`` (a full id) spawned as subagent threads, oldest first."""
    return tuple(ArchivedSession(**r) for r in service.child_sessions(db, session_id))


def search(db: SqliteDatabase, query: str, *, limit: int = 20,
           marks: tuple[str, str] = SEARCH_MARKS) -> tuple[SearchHit, ...]:
    """Archived prompts and answers matching every word of ``query`` (``word*`` matches a prefix), best
    first; none for a query without words. Each match in a snippet stands between ``marks``."""
    _limit(limit)
    try:
        return tuple(SearchHit(**h) for h in service.search(db, query, limit, marks))
    except OperationalError as exc:
        raise Invalid(f"cannot search for {query!r}: {exc}") from exc
