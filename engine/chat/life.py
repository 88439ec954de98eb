"""The chat commands for the person's own data: ``/applied COMPANY — ROLE`` and ``/progress GOAL NOTE``.

A front end like the CLI: each parses the command's words, calls an action (engine.actions.life)
on the instance's database and answers in a line of text; bad syntax gets the usage with an
example, a refusal its reason. Phones turn ``--`` into a dash, so ``—``, ``–``, ``--`` and a
spaced `` - `` all separate company from role (a hyphen inside a name does not).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from engine.actions import life
from engine.actions.errors import ActionError, Invalid, NotFound
from engine.actions.target import Target, connected
from engine.timeutil import from_db, resolve_timezone

APPLIED_USAGE = "Usage: /applied COMPANY — ROLE (for example: /applied Acme Corp — Backend Engineer)"
PROGRESS_USAGE = "Usage: /progress GOAL NOTE, GOAL its id or the start of its title (for example: /progress Run ran 5k)"
_SEPARATOR = re.compile(r"\s*(?:—|–|--)\s*|\s+-\s+")


def split_company_role(text: str) -> tuple[str, str] | None:
    """``"Acme — SRE"`` as ("Acme", "SRE"), split at the first separator; None without one or with a side empty."""
    parts = _SEPARATOR.split(text.strip(), maxsplit=1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        return None
    return parts[0].strip(), parts[1].strip()


def applied_reply(target: Target, args: list[str]) -> str:
    """/applied COMPANY — ROLE: record an application applied now."""
    parsed = split_company_role(" ".join(args))
    if parsed is None:
        return APPLIED_USAGE
    company, role = parsed
    try:
        with connected(target) as db:
            app = life.create_application(db, company, role, now=target.now())
    except Invalid as exc:
        return f"Not recorded: {exc}. {APPLIED_USAGE}"
    except ActionError as exc:
        return f"Not recorded: {exc}."
    target.publish()
    applied = from_db(app.applied_at).astimezone(resolve_timezone(target.config.general.timezone))
    return f"Recorded application #{app.id}: {app.role} at {app.company} (applied {applied:%Y-%m-%d})."


def progress_reply(target: Target, args: list[str]) -> str:
    """/progress GOAL NOTE: a progress update on the goal the leading words name (the longest
    leading words that name one goal; the rest is the note)."""
    if not args:
        return PROGRESS_USAGE
    try:
        with connected(target) as db:
            for count in range(len(args), 0, -1):
                try:
                    goal = life.find_goal(db, " ".join(args[:count]))
                except NotFound:
                    continue
                note = " ".join(args[count:]) or None
                life.add_progress(db, goal.id, note, now=target.now())
                break
            else:
                return (f"No active goal matches {args[0]!r}: give its id or the start of its title."
                        " /goals lists them.")
    except Invalid as exc:
        return f"Not recorded: {exc}."
    except ActionError as exc:
        return f"Not recorded: {exc}."
    target.publish()
    return f"Progress on goal #{goal.id} {goal.title} recorded" + (f": {note}" if note else ".")


def goals_reply(target: Target, args: list[str]) -> str:
    """/goals: the active goals (at most 30), one a line with its id."""
    with connected(target) as db:
        shown = life.list_goals(db, status="active", limit=30).items
    if not shown:
        return "No active goals. Add one: watchkeeper goals add TITLE"
    return "\n".join(f"#{g.id} {g.title}" + (f" ({g.domain})" if g.domain else "") for g in shown)


COMMANDS: dict[str, Callable[[Target, list[str]], str]] = {
    "applied": applied_reply,
    "progress": progress_reply,
    "goals": goals_reply,
}
