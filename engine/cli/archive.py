"""``watchkeeper archive …``: run, runs, sessions, show, search.

Handlers take ``(args, ctx)`` (``ctx.open_db()``, ``ctx.config``), call one action of
engine.actions.archive and render its result; they return an exit code: 0 ok, 1 failure,
2 bad usage. Human output goes to stdout; ``--json`` prints one JSON document (the result's
``to_dict()``). A progress bar is drawn on stderr only when stderr is a terminal and ``--json``
is not given.
"""

from __future__ import annotations

import argparse
import sys
from datetime import tzinfo
from typing import Any, TextIO

import orjson

from engine.actions import archive
from engine.actions.errors import Invalid, NotFound, Unavailable
from engine.timeutil import human_time, resolve_timezone

SNIPPET_MAX = 90
FOLDER_MAX = 28
TITLE_MAX = 50


def register(subparsers: Any) -> None:
    """Add the ``archive`` command and its sub-commands to a CLI's subparsers."""
    p = subparsers.add_parser("archive", help="conversation archive (Claude Code, Codex)")
    sub = p.add_subparsers(dest="archive_command", metavar="COMMAND")
    p.set_defaults(handler=_usage(p))

    run = sub.add_parser("run", help="archive transcripts now")
    run.add_argument("--source", action="append", metavar="DIR",
                     help="directory or file to archive instead of the default roots (repeatable)")
    run.add_argument("--json", action="store_true", help="print the run result as JSON")
    run.set_defaults(handler=cmd_run)

    rl = sub.add_parser("runs", help="recent archive runs, newest first (running, ok, partial, "
                        "failed, disk_full, interrupted)")
    rl.add_argument("--json", action="store_true")
    rl.add_argument("--limit", type=int, default=20)
    rl.set_defaults(handler=cmd_runs)

    ls = sub.add_parser("sessions", help="list archived sessions, newest first")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--limit", type=int, default=30)
    ls.set_defaults(handler=cmd_sessions)

    show = sub.add_parser("show", help="one session: summary, turns, tool calls")
    show.add_argument("id", help="session id or a unique prefix")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    search = sub.add_parser("search", help="full-text search over prompts and answers")
    search.add_argument("query", nargs="+")
    search.add_argument("--json", action="store_true")
    search.add_argument("--limit", type=int, default=20)
    search.set_defaults(handler=cmd_search)


def _usage(parser: argparse.ArgumentParser) -> Any:
    def handler(args: Any, ctx: Any) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler


def _dump(obj: Any, out: TextIO) -> None:
    out.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


class ProgressBar:
    """A one-line progress bar redrawn in place on a terminal stream."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width

    def __call__(self, done: int, total: int, nbytes: int) -> None:
        """Redraw for ``done`` of ``total`` files and ``nbytes`` read."""
        frac = done / total if total else 1.0
        fill = int(frac * self.width)
        bar = "#" * fill + "-" * (self.width - fill)
        self.stream.write(f"\r[{bar}] {done}/{total} files, {nbytes / 1e6:.1f} MB")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def cmd_run(args: Any, ctx: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the archive once; exit 1 when the run failed or a file could not be archived.

    A full disk is one line on stderr (``error: disk full: N MB free at FOLDER …``), whatever
    the number of files left."""
    out = out or sys.stdout
    err = err or sys.stderr
    settings = ctx.config.archive
    progress = ProgressBar(err) if (not args.json and err.isatty()) else None
    try:
        done = archive.run(ctx.open_db(), args.source, extra_roots=settings.extra_roots or (),
                           max_line_bytes=settings.max_line_bytes, trigger="cli", progress=progress)
    except NotFound as exc:  # a --source that is not there: nothing to archive, no run recorded
        err.write(f"error: --source: {exc}\n")
        return 1
    except Unavailable as exc:  # not even the run's own row could be written
        err.write(f"error: {exc}; no run started. Free space and run again.\n")
        return 1
    res = done.result
    if args.json:
        _dump(done.to_dict(), out)
    elif res.disk_full:
        if progress is not None:
            err.write("\n")
        handled = res.files_skipped + res.files_parsed
        err.write(f"error: {res.disk_full}; run {res.run_id} stopped after {handled} of"
                  f" {res.files_seen} files. Free space and run again: it continues where it"
                  " stopped.\n")
    else:
        out.write(
            f"run {res.run_id}: {res.files_seen} files seen, {res.files_parsed} parsed,"
            f" {res.files_skipped} unchanged, {res.files_failed} failed;"
            f" {res.bytes_read / 1e6:.1f} MB; sessions {res.sessions_new} new,"
            f" {res.sessions_updated} updated; {res.bad_lines} bad lines;"
            f" {res.duration_s:.2f} s\n")
        for e in res.errors[:20]:
            err.write(f"error: {e}\n")
    return 1 if done.failed else 0


def _limit_ok(limit: int) -> bool:
    if limit < 1:
        sys.stderr.write("--limit must be at least 1\n")
        return False
    return True


def cmd_runs(args: Any, ctx: Any, out: TextIO | None = None) -> int:
    """List recent runs (a run whose process died shows as ``interrupted``)."""
    out = out or sys.stdout
    if not _limit_ok(args.limit):
        return 2
    found = archive.list_runs(ctx.open_db(), limit=args.limit).items
    if args.json:
        _dump([r.to_dict() for r in found], out)
        return 0
    for r in found:
        line = (f"{r.id:>5}  {when(r.started_at, _zone(ctx)):20}  {r.status:11}  {r.trigger or '':13}"
                f"  {r.files_parsed} parsed, {r.files_skipped} unchanged,"
                f" {r.bytes_read / 1e6:.1f} MB")
        if r.error:
            line += f"  — {r.error.splitlines()[0][:120]}"
        out.write(line + "\n")
    if not found:
        out.write("no archive runs\n")
    return 0


def one_line(text: str | None, limit: int) -> str:
    """``text`` on one line (runs of whitespace and newlines become one space), cut to ``limit``
    characters with an ellipsis."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def shorten_left(text: str | None, limit: int) -> str:
    """``text`` cut from the left (a folder's end says most) to ``limit`` characters."""
    text = text or ""
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def when(ts: str | None, zone: tzinfo) -> str:
    """A stored UTC timestamp as a person reads it (``2026-03-02 11:06 CET``); blank when unknown."""
    return human_time(ts, zone, never="")


def _zone(ctx: Any) -> tzinfo:
    """The zone times are shown in: ``[general] timezone``, else the machine's."""
    return resolve_timezone(ctx.config.general.timezone)


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 prompt``, ``3 prompts`` (``words`` for an irregular plural)."""
    return f"{count} {word if count == 1 else words or word + 's'}"


SESSIONS_HEADER = (f"{'SESSION':13}  {'SOURCE':6}  {'LAST ACTIVE':20}  {'PROMPTS':>7}  {'REPLIES':>7}"
                   f"  {'TOOL CALLS':>10}  {'FOLDER':{FOLDER_MAX}}  TITLE")


def cmd_sessions(args: Any, ctx: Any, out: TextIO | None = None) -> int:
    """List sessions: a header row, then one session a line (prompts, replies, tool calls, folder)."""
    out = out or sys.stdout
    if not _limit_ok(args.limit):
        return 2
    found = archive.list_sessions(ctx.open_db(), limit=args.limit)
    if args.json:
        _dump([s.to_dict() for s in found], out)
        return 0
    if not found:
        out.write("no archived sessions\n")
        return 0
    out.write(SESSIONS_HEADER + "\n")
    zone = _zone(ctx)
    for s in found:
        folder = shorten_left(s.cwd or s.project or "", FOLDER_MAX)
        out.write(
            f"{s.session_id[:13]:13}  {s.source:6}  {when(s.last_ts, zone):20}  {s.human_prompts:>7}"
            f"  {s.api_responses:>7}  {s.tool_calls:>10}  {folder:{FOLDER_MAX}}  {one_line(s.title, TITLE_MAX)}"
            .rstrip() + "\n")
    return 0


def cmd_show(args: Any, ctx: Any, out: TextIO | None = None) -> int:
    """Show one session; exit 1 when it is unknown or the prefix is ambiguous."""
    out = out or sys.stdout
    try:
        view = archive.show_session(ctx.open_db(), args.id)
    except NotFound:
        sys.stderr.write(f"no unique session matches {args.id!r}\n")
        return 1
    if args.json:
        _dump(view.to_dict(), out)
        return 0
    _render_session(view, out, _zone(ctx))
    return 0


def _render_session(view: archive.SessionDetail, out: TextIO, zone: tzinfo) -> None:
    """The session once: header, summary facts, turns (each prompt once), tool calls."""
    s = view.session
    summary = view.summary or {}
    out.write(f"{s.session_id}  ({s.source})  {one_line(s.title, 100)}\n")
    where = [f"folder {s.cwd or '?'}"]
    if s.project:
        where.append(f"project {s.project}")
    if s.git_branch:
        where.append(f"branch {s.git_branch}")
    if s.cli_version:
        where.append(f"version {s.cli_version}")
    out.write(", ".join(where) + "\n")
    out.write(f"{when(s.first_ts, zone)} → {when(s.last_ts, zone)}\n")
    out.write(f"{plural(s.human_prompts, 'prompt')}, {plural(s.api_responses, 'reply', 'replies')}, "
              f"{plural(s.tool_calls, 'tool call')} ({plural(s.tool_errors, 'error')}), "
              f"{plural(s.subagents, 'subagent')}\n")
    if s.interrupted_reason:
        out.write(f"stopped mid-turn: {s.interrupted_reason}\n")
    if view.summary:
        facts = [f"Recap: {one_line(summary['recap'], 300)}"] if summary.get("recap") else []
        facts += view.facts
    else:
        facts = [view.summary_text] if view.summary_text else []
    if facts:
        out.write("\n" + "\n".join(facts) + "\n")
    out.write("\nTurns:\n")
    for t in view.turns:
        out.write(f"  {t.index}. {one_line(t.prompt, 200) or '(no prompt)'}\n")
        if t.final_answer:
            out.write(f"     → {one_line(t.final_answer, 300)}\n")
    out.write("\nTool calls:\n")
    for c in view.tool_calls:
        state = "error" if c.is_error else ("ok" if c.has_result else "no result")
        who = f" [{c.agent_id}]" if c.agent_id else ""
        out.write(f"  {c.called_ts or '':24} {c.name or '?'}{who} — {state}\n")


def cmd_search(args: Any, ctx: Any, out: TextIO | None = None) -> int:
    """Search prompts and answers; exit 2 for an empty or unusable query."""
    out = out or sys.stdout
    query = " ".join(args.query).strip()
    if not query:
        sys.stderr.write("empty query\n")
        return 2
    try:
        hits = archive.search(ctx.open_db(), query, limit=args.limit)
    except Invalid as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if args.json:
        _dump([h.to_dict() for h in hits], out)
        return 0
    if not hits:
        out.write("no matches\n")
        return 0
    out.write(f"{'SESSION':13}  {'KIND':6}  {'WHEN':20}  TEXT\n")
    zone = _zone(ctx)
    for h in hits:  # one hit a line: newlines in the snippet collapsed, a long one cut with "…"
        out.write(f"{h.session_id[:13]:13}  {h.kind:6}  {when(h.ts, zone):20}  {one_line(h.snippet, SNIPPET_MAX)}\n")
    return 0
