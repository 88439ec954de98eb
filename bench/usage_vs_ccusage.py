"""Token usage: `watchkeeper usage --json` against pinned ccusage, totals and time side by side.

Usage:  .venv/bin/python bench/usage_vs_ccusage.py [--work /tmp/wk-usage-bench] [--reps 7]
            [--corpus /tmp/wk-archive-bench/big] [--fixtures ../shared/fixtures/conversations]

Inputs: the benchmark corpus (a directory holding ``projects/``, made by bench/archive.py) and a staged copy
of the shared fixture corpus (Claude: every ``projects`` tree plus the loose files, one project dir per
group; Codex: ``sessions``/``archived_sessions`` plus the loose rollouts). Each input gets its own
Watchkeeper home, archived once by a real ``python -m engine archive run``; HOME points at an empty folder
so neither tool sees this machine's own logs. Then, per input and agent, one untimed warm run of each tool
and ``--reps`` timed runs (wall, median) of ccusage three ways -- ``npx -y ccusage@PINNED``, its ``ccusage`` bin
(the node wrapper, as a user runs it) and the native binary that wrapper starts -- with ``<agent> daily --json
--offline -z UTC`` (skipped, saying why, when npx is absent), and ``python -m engine usage --json --agent <agent>``.
Printed per field: ccusage, usage, the difference and how much of it ccusage's known parse limits explain
(re-implemented here, checked against ccusage session by session: a line must contain the bytes
``"usage":{`` with no space; a timestamp with more than 3 fractional digits is dropped); then the times
and their ratios (target: usage at least 20x faster than ccusage's bin).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CCUSAGE = "ccusage@20.0.24"
FIELDS = [("input_tokens", "inputTokens"), ("output_tokens", "outputTokens"),
          ("cache_creation_tokens", "cacheCreationTokens"), ("cache_read_tokens", "cacheReadTokens")]
_LONG_FRACTION = re.compile(r"\.\d{4,}")


def stage_fixtures(src: Path, dst: Path) -> tuple[Path, Path]:
    """Copy the fixture corpus into the two layouts the tools read; returns (claude dir, codex home)."""
    claude, codex = dst / "claude", dst / "codex"
    if dst.exists():
        shutil.rmtree(dst)
    projects = claude / "projects"
    projects.mkdir(parents=True)
    for tree in sorted(src.glob("claude/*/projects")):
        shutil.copytree(tree, projects, dirs_exist_ok=True)
    for group in sorted(p for p in (src / "claude").iterdir() if p.is_dir()):
        loose = [f for f in group.rglob("*.jsonl") if "projects" not in f.relative_to(group).parts]
        for f in loose:
            (projects / f"-fixtures-{group.name}").mkdir(exist_ok=True)
            shutil.copy2(f, projects / f"-fixtures-{group.name}" / f.name)
    (codex / "sessions" / "flat").mkdir(parents=True)
    for group in sorted(p for p in (src / "codex").iterdir() if p.is_dir()):
        for sub in ("sessions", "archived_sessions"):
            if (group / sub).is_dir():
                shutil.copytree(group / sub, codex / sub, dirs_exist_ok=True)
        for f in group.rglob("*.jsonl"):
            if not {"sessions", "archived_sessions"} & set(f.relative_to(group).parts):
                shutil.copy2(f, codex / "sessions" / "flat" / f.name)
    return claude, codex


def _env(base: Path, home: Path, claude: Path | None, codex: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR", "CODEX_HOME")}
    empty = base / "empty-home"
    empty.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(empty), WATCHKEEPER_HOME=str(home), PYTHONPATH=str(ROOT), NO_COLOR="1",
               CLAUDE_CONFIG_DIR=str(claude or empty / "none"), CODEX_HOME=str(codex or empty / "none"))
    return env


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=900).stdout
    return time.perf_counter() - t, out


def timed(cmd: list[str], env: dict[str, str], reps: int) -> tuple[float, list[float], Any]:
    """One warm run, then ``reps`` timed ones: (median seconds, every time, the last output as JSON)."""
    _run(cmd, env)
    times, out = [], ""
    for _ in range(reps):
        dt, out = _run(cmd, env)
        times.append(dt)
    return statistics.median(times), times, json.loads(out)


def ccusage_commands() -> dict[str, list[str]]:
    """How ccusage is run: npx, its bin in npx's cache and the native binary the bin starts (those found)."""
    cmds = {"npx": ["npx", "-y", CCUSAGE]}
    subprocess.run([*cmds["npx"], "--version"], check=True, capture_output=True, timeout=900)  # fills the cache
    version = CCUSAGE.split("@")[1]
    for pkg in sorted(Path.home().glob(".npm/_npx/*/node_modules/ccusage/package.json")):
        if json.loads(pkg.read_text()).get("version") != version:
            continue
        modules = pkg.parents[1]
        cmds["bin"] = [str(modules / ".bin" / "ccusage")]
        native = sorted(modules.glob("@ccusage/ccusage-*/bin/ccusage"))
        if native:
            cmds["native"] = [str(native[0])]
        break
    return cmds


def emulate_ccusage(projects: Path, *, skip_limits: bool) -> dict[str, int]:
    """ccusage's Claude rules, re-implemented: a usage line with a timestamp, deduplicated across files by
    (message.id, requestId), the non-sidechain copy preferred, else the larger total; cache creation as the sum
    of the ephemeral buckets when present. ``skip_limits`` drops its two parse limits (see the module doc)."""
    kept: dict[tuple[str, ...], dict[str, Any]] = {}
    loose: list[dict[str, Any]] = []
    for path in sorted(projects.rglob("*.jsonl")):
        for raw in path.read_bytes().split(b"\n"):
            if b'"usage":{' not in raw and not (skip_limits and b'"usage": {' in raw):
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            msg = obj.get("message") if isinstance(obj, dict) else None
            usage = msg.get("usage") if isinstance(msg, dict) else None
            ts = obj.get("timestamp")
            if not isinstance(usage, dict) or not isinstance(ts, str):
                continue
            if not skip_limits and _LONG_FRACTION.search(ts):
                continue
            buckets = usage.get("cache_creation")
            e = {"side": bool(obj.get("isSidechain")),
                 "inputTokens": usage.get("input_tokens") or 0, "outputTokens": usage.get("output_tokens") or 0,
                 "cacheReadTokens": usage.get("cache_read_input_tokens") or 0,
                 "cacheCreationTokens": sum(v for v in buckets.values() if isinstance(v, int))
                 if isinstance(buckets, dict) and buckets else usage.get("cache_creation_input_tokens") or 0}
            mid, req = msg.get("id"), obj.get("requestId")
            if not mid:
                loose.append(e)
                continue
            key = (mid, req) if req else (mid,)
            old = kept.get(key)
            total = sum(e[f] for _, f in FIELDS)
            if old is None or (old["side"] and not e["side"]) or (
                    old["side"] == e["side"] and total > sum(old[f] for _, f in FIELDS)):
                kept[key] = e
    rows = [*kept.values(), *loose]
    return {f: sum(r[f] for r in rows) for _, f in FIELDS}


def compare(name: str, agent: str, base: Path, env: dict[str, str], reps: int, have_npx: bool,
            projects: Path | None) -> None:
    """Print one input's totals side by side, the explained part of each difference, and the times."""
    usage_s, usage_times, mine = timed([sys.executable, "-m", "engine", "usage", "--json", "--agent", agent],
                                       env, reps)
    print(f"\n== {name} / {agent}")
    if not have_npx:
        print("ccusage: skipped (npx not found: install Node.js to compare)")
        print(f"usage: {mine['totals']}  median {usage_s * 1000:.0f} ms {[round(t, 3) for t in usage_times]}")
        return
    ccusage = {how: timed([*cmd, agent, "daily", "--json", "--offline", "-z", "UTC"], env, reps)
          for how, cmd in ccusage_commands().items()}
    theirs = ccusage["npx"][2]
    explained = None
    if projects is not None:
        full, strict = emulate_ccusage(projects, skip_limits=True), emulate_ccusage(projects, skip_limits=False)
        explained = {f: full[f] - strict[f] for _, f in FIELDS}
    print(f"{'field':<24}{'ccusage':>16}{'usage':>16}{'difference':>14}  explained by")
    for ours, cc in FIELDS:
        a, b = theirs["totals"].get(cc, 0), mine["totals"][ours]
        why = "equal" if a == b else "UNEXPLAINED"
        if a != b and explained is not None and explained[cc] == b - a:
            why = "ccusage's parse limits (\"usage\": { with a space; > 3 fractional digits)"
        print(f"{ours:<24}{a:>16,}{b:>16,}{b - a:>+14,}  {why}")
    print(f"time  usage median {usage_s * 1000:.0f} ms {[round(t, 3) for t in usage_times]}")
    for how, (cc_s, cc_times, _) in ccusage.items():
        print(f"      ccusage {how:<6} median {cc_s * 1000:.0f} ms {[round(t, 3) for t in cc_times]}; "
              f"ccusage {how} / usage = {cc_s / usage_s:.1f}x")


def archive(env: dict[str, str]) -> float:
    """Archive the home's inputs with a real ``archive run``; returns the wall seconds."""
    dt, out = _run([sys.executable, "-m", "engine", "archive", "run"], env)
    print(out.strip().splitlines()[-1] if out.strip() else "archive run: no output")
    return dt


def main() -> int:
    """Stage, archive, then compare each input and agent."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/wk-usage-bench")
    ap.add_argument("--corpus", default="/tmp/wk-archive-bench/big",
                    help="a directory holding projects/ (bench/archive.py generates it)")
    ap.add_argument("--fixtures", default=str(ROOT.parent / "shared" / "fixtures" / "conversations"))
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    base = Path(a.work)
    base.mkdir(parents=True, exist_ok=True)
    have_npx = shutil.which("npx") is not None
    runs: list[tuple[str, str, dict[str, str], Path | None]] = []
    corpus = Path(a.corpus)
    if (corpus / "projects").is_dir():
        home = base / "corpus-home"
        shutil.rmtree(home, ignore_errors=True)
        env = _env(base, home, corpus, None)
        print(f"corpus {corpus}: archived in {archive(env):.1f} s")
        runs.append(("corpus", "claude", env, corpus / "projects"))
    else:
        print(f"corpus: skipped ({corpus}/projects not found; run bench/archive.py first)")
    fixtures = Path(a.fixtures)
    if fixtures.is_dir():
        claude, codex = stage_fixtures(fixtures, base / "fixtures")
        home = base / "fixtures-home"
        shutil.rmtree(home, ignore_errors=True)
        env = _env(base, home, claude, codex)
        print(f"fixtures {fixtures}: archived in {archive(env):.1f} s")
        runs += [("fixtures", "claude", env, claude / "projects"), ("fixtures", "codex", env, None)]
    else:
        print(f"fixtures: skipped ({fixtures} not found)")
    for name, agent, env, projects in runs:
        compare(name, agent, base, env, a.reps, have_npx, projects)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
