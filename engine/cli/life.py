"""CLI: `applications` (add, list, set, remove, import), `goals` (add, list, progress, done) and
`demo` (load, or --remove, the sample data): the person's own data.

Each command parses its arguments, calls an action (engine.actions.life) on the database and
prints the result. The database is shared with a running instance, so these work the same with or
without one; after a change a running instance is told to refresh. Dates are typed as YYYY-MM-DD
(a day in ``[general] timezone``); an Invalid input exits 2 naming it, a missing record exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, TypeVar

from engine.actions import life
from engine.actions.errors import ActionError, Invalid
from engine.cli.context import CliContext, ControlError, emit_json
from engine.timeutil import from_db, resolve_timezone, utcnow

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
IMPORT_MAX_BYTES = 10 * 1024 * 1024
PAGE = 500  # rows per read when listing everything

R = TypeVar("R")


def register(sub: Any) -> None:
    """Add applications, goals and demo to the CLI."""
    apps = sub.add_parser("applications", help="your job applications: add, list, set, remove, import")
    apps_sub = apps.add_subparsers(dest="applications_command", required=True)
    add = apps_sub.add_parser("add", help="record an application (status applied)")
    add.add_argument("company")
    add.add_argument("role")
    add.add_argument("--applied", metavar="DATE", help="when you applied, YYYY-MM-DD (default: now)")
    add.add_argument("--url")
    add.add_argument("--notes", metavar="TEXT")
    add.set_defaults(handler=cmd_applications_add)
    lst = apps_sub.add_parser("list", help="every application, oldest first")
    lst.add_argument("--status", choices=life.APPLICATION_STATUSES)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_applications_list)
    status = apps_sub.add_parser("set", help="change an application's status")
    status.add_argument("id", type=int)
    status.add_argument("status", metavar="STATUS", help=", ".join(life.APPLICATION_STATUSES))
    status.set_defaults(handler=cmd_applications_set)
    remove = apps_sub.add_parser("remove", help="delete an application")
    remove.add_argument("id", type=int)
    remove.set_defaults(handler=cmd_applications_remove)
    imp = apps_sub.add_parser("import", help="add applications from a CSV file, all or nothing")
    imp.add_argument("file", metavar="FILE.csv",
                     help="header row: company, role and optionally applied (YYYY-MM-DD), status, url, notes")
    imp.set_defaults(handler=cmd_applications_import)

    goals = sub.add_parser("goals", help="your goals: add, list, progress, done")
    goals_sub = goals.add_subparsers(dest="goals_command", required=True)
    gadd = goals_sub.add_parser("add", help="a new active goal")
    gadd.add_argument("title")
    gadd.add_argument("--domain", metavar="NAME", help="its life domain (created when new), e.g. Health")
    gadd.add_argument("--target", metavar="DATE", help="target date, YYYY-MM-DD")
    gadd.set_defaults(handler=cmd_goals_add)
    glist = goals_sub.add_parser("list", help="every goal, in the order added")
    glist.add_argument("--json", action="store_true")
    glist.set_defaults(handler=cmd_goals_list)
    progress = goals_sub.add_parser("progress", help="record progress on a goal (resets goal_staleness)")
    progress.add_argument("goal", metavar="ID", help="the goal's id or the start of its title")
    progress.add_argument("note", nargs="?", metavar="NOTE")
    progress.add_argument("--value", type=float, metavar="N", help="a number to record with it")
    progress.add_argument("--at", metavar="DATE", help="when, YYYY-MM-DD (default: now)")
    progress.set_defaults(handler=cmd_goals_progress)
    done = goals_sub.add_parser("done", help="mark a goal done")
    done.add_argument("goal", metavar="ID", help="the goal's id or the start of its title")
    done.set_defaults(handler=cmd_goals_done)

    demo = sub.add_parser("demo", help="load sample data so the built-in checks have something to find")
    demo.add_argument("--remove", action="store_true", help="take the sample data out again (only it)")
    demo.set_defaults(handler=cmd_demo)


# -- helpers ------------------------------------------------------------------------------------------


def _zone(ctx: CliContext) -> tzinfo:
    return resolve_timezone(ctx.config.general.timezone)


def _day_of(ctx: CliContext, stored: str | None) -> str:
    """A stored UTC time as the person's local date."""
    return from_db(stored).astimezone(_zone(ctx)).strftime("%Y-%m-%d") if stored else "-"


def _moment(ctx: CliContext, field: str, text: str | None) -> datetime | None:
    return life.start_of_day(life.parse_date(field, text), _zone(ctx)) if text is not None else None


def _day(field: str, text: str | None) -> date | None:
    return life.parse_date(field, text) if text is not None else None


def _run(ctx: CliContext, action: Callable[[], R], render: Callable[[R], str], *, changes: bool = True) -> int:
    """Do the action, print its rendering and tell a running instance; errors as one line."""
    try:
        result = action()
    except ActionError as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, Invalid) else EXIT_FAIL
    print(render(result))
    if changes:
        _refresh(ctx)
    return EXIT_OK


def _refresh(ctx: CliContext) -> None:
    """Tell a running instance the data changed (the change itself is already stored)."""
    try:
        ctx.send("refresh")
    except ControlError as exc:
        print(f"watchkeeper: warning: saved, but the running instance was not told: {exc}", file=sys.stderr)


def _all(fetch: Callable[[int], Any]) -> list[Any]:
    """Every item of a paged listing (``fetch(offset)`` returns a Page)."""
    items: list[Any] = []
    while True:
        page = fetch(len(items))
        items += page.items
        if not page.items or len(items) >= page.total:
            return items


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns under a header row (the last column unpadded)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(r, widths, strict=False)), r[-1]])
                     for r in [header, *rows])


# -- applications -------------------------------------------------------------------------------------


def _application_line(a: Any) -> str:
    return f"#{a.id} {a.role} at {a.company}: {a.status}"


def cmd_applications_add(args: argparse.Namespace, ctx: CliContext) -> int:
    db = ctx.open_db()
    return _run(ctx, lambda: life.create_application(db, args.company, args.role, now=utcnow(), url=args.url,
                                                     notes=args.notes,
                                                     applied_at=_moment(ctx, "--applied", args.applied)),
                lambda a: f"Recorded application {_application_line(a)} (applied {_day_of(ctx, a.applied_at)}).")


def cmd_applications_list(args: argparse.Namespace, ctx: CliContext) -> int:
    db = ctx.open_db()
    items = _all(lambda offset: life.list_applications(db, status=args.status, limit=PAGE, offset=offset))
    if args.json:
        emit_json([a.to_dict() for a in items])
    elif not items:
        print("No applications yet. Add one: watchkeeper applications add COMPANY ROLE")
    else:
        print(_table(("id", "status", "applied", "company", "role"),
                     [(str(a.id), a.status, _day_of(ctx, a.applied_at), a.company, a.role) for a in items]))
    return EXIT_OK


def cmd_applications_set(args: argparse.Namespace, ctx: CliContext) -> int:
    db = ctx.open_db()
    return _run(ctx, lambda: life.update_application(db, args.id, now=utcnow(), status=args.status),
                lambda a: f"Application {_application_line(a)}.")


def cmd_applications_remove(args: argparse.Namespace, ctx: CliContext) -> int:
    db = ctx.open_db()
    return _run(ctx, lambda: life.delete_application(db, args.id), lambda d: f"Application #{d.id} deleted.")


def cmd_applications_import(args: argparse.Namespace, ctx: CliContext) -> int:
    path = Path(args.file)
    try:
        with path.open("rb") as f:
            raw = f.read(IMPORT_MAX_BYTES + 1)
    except OSError as exc:
        print(f"watchkeeper: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAIL
    if len(raw) > IMPORT_MAX_BYTES:
        print(f"watchkeeper: {path} is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB; split it", file=sys.stderr)
        return EXIT_USAGE
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        print(f"watchkeeper: {path} is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8", file=sys.stderr)
        return EXIT_USAGE
    db = ctx.open_db()
    try:
        imported = life.import_applications_csv(db, text, now=utcnow(), zone=_zone(ctx))
    except life.ImportRefused as exc:
        print(f"watchkeeper: nothing imported from {path}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except ActionError as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, Invalid) else EXIT_FAIL
    count = len(imported.applications)
    print(f"Imported {count} application{'s' if count != 1 else ''} from {path}.")
    _refresh(ctx)
    return EXIT_OK


# -- goals --------------------------------------------------------------------------------------------


def cmd_goals_add(args: argparse.Namespace, ctx: CliContext) -> int:
    db = ctx.open_db()
    return _run(ctx, lambda: life.create_goal(db, args.title, now=utcnow(), domain_name=args.domain,
                                              target_date=_day("--target", args.target)),
                lambda g: f"Goal #{g.id} {g.title} added" + (f" in {g.domain}" if g.domain else "")
                + (f", target {g.target_date}" if g.target_date else "") + ".")


def cmd_goals_list(args: argparse.Namespace, ctx: CliContext) -> int:
    db = ctx.open_db()
    items = _all(lambda offset: life.list_goals(db, limit=PAGE, offset=offset))
    if args.json:
        emit_json([g.to_dict() for g in items])
    elif not items:
        print("No goals yet. Add one: watchkeeper goals add TITLE [--domain NAME]")
    else:
        print(_table(("id", "status", "domain", "target", "last progress", "title"),
                     [(str(g.id), g.status, g.domain or "-", g.target_date or "-",
                       _day_of(ctx, g.last_progress_at), g.title) for g in items]))
    return EXIT_OK


def cmd_goals_progress(args: argparse.Namespace, ctx: CliContext) -> int:
    db = ctx.open_db()

    def record() -> tuple[Any, Any]:
        goal = life.find_goal(db, args.goal)
        return goal, life.add_progress(db, goal.id, args.note, args.value, now=utcnow(),
                                       at=_moment(ctx, "--at", args.at))

    return _run(ctx, record, lambda r: f"Progress on goal #{r[0].id} {r[0].title} recorded"
                f" ({_day_of(ctx, r[1].ts)}).")


def cmd_goals_done(args: argparse.Namespace, ctx: CliContext) -> int:
    db = ctx.open_db()
    return _run(ctx, lambda: life.update_goal(db, life.find_goal(db, args.goal).id, status="done"),
                lambda g: f"Goal #{g.id} {g.title}: done.")


# -- sample data --------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, ctx: CliContext) -> int:
    db = ctx.open_db()
    if args.remove:
        return _run(ctx, lambda: life.remove_demo(db),
                    lambda n: "Demo data removed: " + ", ".join(f"{v} {k}" for k, v in n.to_dict().items())
                    + ". Your own data is untouched.")
    return _run(ctx, lambda: life.load_demo(db, now=utcnow()),
                lambda n: "Demo data loaded: " + ", ".join(f"{v} {k}" for k, v in n.to_dict().items())
                + ". Now run: watchkeeper check run --all (remove it again: watchkeeper demo --remove)")
