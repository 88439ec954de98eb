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
from typing import Any, TextIO

import orjson

from engine.actions import archive
from engine.actions.errors import Invalid, NotFound, Unavailable


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
        line = (f"{r.id:>5}  {r.started_at[:19]:19}  {r.status:11}  {r.trigger or '':13}"
                f"  {r.files_parsed} parsed, {r.files_skipped} unchanged,"
                f" {r.bytes_read / 1e6:.1f} MB")
        if r.error:
            line += f"  — {r.error.splitlines()[0][:120]}"
        out.write(line + "\n")
    if not found:
        out.write("no archive runs\n")
    return 0


def cmd_sessions(args: Any, ctx: Any, out: TextIO | None = None) -> int:
    """List sessions."""
    out = out or sys.stdout
    if not _limit_ok(args.limit):
        return 2
    found = archive.list_sessions(ctx.open_db(), limit=args.limit)
    if args.json:
        _dump([s.to_dict() for s in found], out)
        return 0
    for s in found:
        out.write(
            f"{s.session_id[:13]:13}  {s.source:6}  {(s.last_ts or '')[:16]:16}  "
            f"p{s.human_prompts:<3} r{s.api_responses:<4} t{s.tool_calls:<4} "
            f"{(s.title or '')[:60]}\n")
    if not found:
        out.write("no archived sessions\n")
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
    s = view.session
    out.write(f"{s.session_id}  ({s.source})  {s.title or ''}\n")
    out.write(f"cwd {s.cwd}  branch {s.git_branch}  version {s.cli_version}\n")
    out.write(f"{s.first_ts} → {s.last_ts}\n")
    out.write(f"prompts {s.human_prompts}, responses {s.api_responses}, tool calls "
              f"{s.tool_calls} ({s.tool_errors} errors), subagents {s.subagents}\n")
    if s.interrupted_reason:
        out.write(f"stopped mid-turn: {s.interrupted_reason}\n")
    if view.summary_text:
        out.write("\n" + view.summary_text + "\n")
    out.write("\nTurns:\n")
    for t in view.turns:
        out.write(f"  {t.index}. {(t.prompt or '')[:200]}\n")
        if t.final_answer:
            out.write(f"     → {t.final_answer[:300]}\n")
    out.write("\nTool calls:\n")
    for c in view.tool_calls:
        state = "error" if c.is_error else ("ok" if c.has_result else "no result")
        who = f" [{c.agent_id}]" if c.agent_id else ""
        out.write(f"  {c.called_ts or '':24} {c.name or '?'}{who} — {state}\n")
    return 0


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
    for h in hits:
        out.write(f"{h.session_id[:13]:13} {h.kind:6} {(h.ts or '')[:16]:16} "
                  f"{h.snippet}\n")
    if not hits:
        out.write("no matches\n")
    return 0
