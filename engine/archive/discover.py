"""Finding transcript files and classifying them by path shape.

Claude Code roots: every entry of ``CLAUDE_CONFIG_DIR`` (comma-separated), else ``~/.claude``,
plus ``~/.config/claude``; transcripts live under ``<root>/projects``. Codex roots:
``$CODEX_HOME`` or ``~/.codex``, directories ``sessions/`` and ``archived_sessions/``. Extra roots
come from config. Walking uses ``os.scandir`` (one stat per file); a file reached twice (symlink,
hard link, bind mount) is yielded once, keyed by ``(st_dev, st_ino)``, and a Codex rollout present
in both ``sessions/`` and ``archived_sessions/`` is taken from the active copy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

MAIN = "main"
LEGACY_AGENT = "legacy_agent"
SUBAGENT = "subagent"
WORKFLOW_SIDE = "workflow_side"
CODEX_ROLLOUT = "codex_rollout"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Root:
    """A directory to walk and the provider its files most likely belong to."""

    path: Path
    provider: str  # claude | codex | auto


@dataclass(frozen=True)
class Found:
    """One discovered transcript file with its stat and classification."""

    path: str
    provider: str
    kind: str
    session_hint: str
    agent_id: str
    project: str | None
    dev: int
    inode: int
    size: int
    mtime_ns: int
    archived: bool = False


def default_roots(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Root]:
    """The standard Claude Code and Codex roots for this user (existing or not)."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    roots: list[Root] = []
    ccd = env.get("CLAUDE_CONFIG_DIR", "").strip()
    claude_dirs = [Path(p.strip()).expanduser() for p in ccd.split(",") if p.strip()] if ccd \
        else [home / ".claude"]
    claude_dirs.append(home / ".config" / "claude")
    seen: set[str] = set()
    for d in claude_dirs:
        if str(d) not in seen:
            seen.add(str(d))
            roots.append(Root(d / "projects", "claude"))
    codex_home = Path(env["CODEX_HOME"]).expanduser() if env.get("CODEX_HOME") else home / ".codex"
    roots.append(Root(codex_home / "sessions", "codex"))
    roots.append(Root(codex_home / "archived_sessions", "codex"))
    return roots


def classify(path: Path, provider_hint: str = "auto") -> tuple[str, str, str, str, str | None]:
    """(provider, kind, session_hint, agent_id, project) from the path shape alone.

    main ``<proj>/<uuid>.jsonl``; legacy agent ``<proj>/agent-*.jsonl``; subagent
    ``<proj>/<uuid>/subagents/[workflows/<run>/]agent-*.jsonl``; workflow side file
    ``journal.jsonl``; Codex ``rollout-*.jsonl``; anything else ``unknown``.
    """
    name = path.name
    stem = name[:-6] if name.endswith(".jsonl") else path.stem
    parts = path.parts
    if name == "journal.jsonl":
        return "claude", WORKFLOW_SIDE, stem, "", None
    if name.startswith("rollout-"):
        from engine.archive.codex import session_id_from_name

        return "codex", CODEX_ROLLOUT, session_id_from_name(stem), "", None
    if "subagents" in parts and name.startswith("agent-"):
        i = len(parts) - 1 - parts[::-1].index("subagents")
        session = parts[i - 1] if i >= 1 else stem
        project = parts[i - 2] if i >= 2 else None
        return "claude", SUBAGENT, session, stem[len("agent-"):], project
    if name.startswith("agent-"):
        return "claude", LEGACY_AGENT, stem, stem[len("agent-"):], path.parent.name
    if _UUID.match(stem):
        return "claude", MAIN, stem, "", path.parent.name
    provider = provider_hint if provider_hint != "auto" else "unknown"
    return provider, UNKNOWN, stem, "", path.parent.name


def _walk(top: str) -> Iterator[tuple[str, os.stat_result]]:
    stack = [top]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    elif e.name.endswith(".jsonl") and e.is_file():
                        yield e.path, e.stat()
                except OSError:
                    continue


def discover(roots: Iterable[Root]) -> list[Found]:
    """Every transcript file under ``roots`` (a root may also be a single file), deduplicated
    by inode, active Codex copies preferred over archived ones, sorted by path."""
    found: dict[tuple[int, int], Found] = {}
    active_rollouts: set[str] = set()
    archived: list[Found] = []
    for root in roots:
        top = str(root.path)
        if os.path.isfile(top):
            try:
                items: Iterable[tuple[str, os.stat_result]] = [(top, os.stat(top))]
            except OSError:
                continue
        else:
            items = _walk(top)
        for path, st in items:
            key = (st.st_dev, st.st_ino)
            if key in found:
                continue
            provider, kind, hint, agent, project = classify(Path(path), root.provider)
            is_archived = "archived_sessions" in Path(path).parts
            f = Found(path, provider, kind, hint, agent, project, st.st_dev, st.st_ino,
                      st.st_size, st.st_mtime_ns, is_archived)
            found[key] = f
            if kind == CODEX_ROLLOUT:
                (archived if is_archived else []).append(f)
                if not is_archived:
                    active_rollouts.add(os.path.basename(path))
    for f in archived:
        if os.path.basename(f.path) in active_rollouts:
            del found[(f.dev, f.inode)]
    return sorted(found.values(), key=lambda f: f.path)
