"""Benchmark the conversation archive on a generated corpus shaped like real transcripts.

Usage:  .venv/bin/python bench/archive.py [--dir /tmp/wk-archive-bench] [--mb 520] [--small 3000]

Generates (once; reused if present) under --dir:
  big/    Claude-Code-shaped JSONL files, >= --mb MB, file sizes drawn from the measured real
          profile (ccusage generate-large-fixture.nu: p50 105 KB, p90 654 KB, p95 1.5 MB,
          p99 5.4 MB, max 87 MB; one max-size file is always included);
  small/  --small files (2-20 KB) for the no-change rerun check.
Then prints, each phase in its own process so peak RSS is the phase's own:
  bare json.loads-per-line pass, cold ingest (MB/s), ingest/bare ratio, no-change reruns of both
  corpora, and peak RSS of the ingest (the main process plus its parse worker processes, each at
  its own peak, summed). Targets: ratio <= 1.0, small rerun < 1 s, RSS < 150 MB.
  The page cache is warmed by an untimed bare pass; then bare pass and cold ingest (fresh
  database) alternate --reps times and the medians are reported, with every run listed (the
  machine may be shared: alternating keeps both figures under the same load).
  When pinned native ccusage is in the npx cache (``npx -y ccusage@20.0.24`` run once), its
  ``daily --json`` on the same corpus is timed in the same rounds (the native binary itself,
  not npx's ~0.5 s Node start-up) and the ratio ingest / ccusage is printed; --ccusage PATH
  names the binary, --ccusage none skips it.
"""

from __future__ import annotations

import argparse
import bisect
import glob
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUANTILES = [(0.0, 2_000), (0.5, 105_000), (0.9, 654_000), (0.95, 1_500_000),
             (0.99, 5_400_000), (1.0, 87_000_000)]
SID = "SESSIONID-0000-0000-0000-000000000000"
PFX = "PFXPFXPF"
WORDS = [
    'the', 'of', 'and', 'to', 'in', 'is', 'that', 'for', 'it', 'as', 'with', 'was', 'on', 'be',
    'by', 'this', 'are', 'or', 'file', 'code', 'test', 'function', 'return', 'value', 'error',
    'import', 'class', 'def', 'self', 'data', 'line', 'parser', 'session', 'tool', 'résumé',
    'café', 'naïve', '日本語', 'emoji', '🎉', '"quoted"', 'back\\slash', 'tab\t',
]


def sample_size(rng: random.Random) -> int:
    """A file size from the measured quantiles (log-linear between them)."""
    import math

    u = rng.random()
    qs = [q for q, _ in QUANTILES]
    i = max(1, bisect.bisect_left(qs, u))
    (q0, s0), (q1, s1) = QUANTILES[i - 1], QUANTILES[i]
    t = (u - q0) / (q1 - q0) if q1 > q0 else 0
    return int(math.exp(math.log(s0) + t * (math.log(s1) - math.log(s0))))


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _env(i: int, parent: str, ts: str) -> dict:
    return {"parentUuid": parent, "isSidechain": False, "userType": "external",
            "cwd": "/home/user/project", "sessionId": SID, "version": "2.1.114",
            "gitBranch": "main", "uuid": f"{PFX}-u{i}", "timestamp": ts}


def build_template(rng: random.Random, turns: int = 12) -> bytes:
    """~150-250 KB of lines for one session stretch, with placeholders for ids."""
    out: list[str] = []
    i = 0
    parent = None
    for t in range(turns):
        ts = f"2026-04-18T13:{t % 60:02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
        out.append(json.dumps({"type": "file-history-snapshot", "messageId": f"{PFX}-s{t}",
                               "snapshot": {"trackedFileBackups": {
                                   f"/src/f{k}.py": {"backupFileName": f"h{k}", "version": k}
                                   for k in range(rng.randrange(2, 30))}, "timestamp": ts},
                               "isSnapshotUpdate": False}, separators=(",", ":")))
        rec = _env(i, parent, ts) | {"type": "user", "promptId": f"{PFX}-p{t}",
                                     "message": {"role": "user",
                                                 "content": _text(rng, rng.randrange(5, 80))}}
        out.append(json.dumps(rec, separators=(",", ":"), ensure_ascii=False))
        parent, i = f"{PFX}-u{i}", i + 1
        for call in range(rng.randrange(1, 6)):
            mid = f"msg_{PFX}{t}x{call}"
            usage = {"input_tokens": rng.randrange(1, 50), "output_tokens": 4,
                     "cache_read_input_tokens": rng.randrange(10_000, 90_000),
                     "cache_creation_input_tokens": rng.randrange(0, 5000)}
            blocks = [{"type": "thinking", "thinking": _text(rng, rng.randrange(10, 120)),
                       "signature": "sig" * 40},
                      {"type": "text", "text": _text(rng, rng.randrange(5, 60))}]
            tid = f"toolu_{PFX}{t}x{call}"
            blocks.append({"type": "tool_use", "id": tid, "name": rng.choice(
                ["Bash", "Read", "Edit", "Write", "Grep"]), "input": {
                "file_path": f"/home/user/project/src/m{rng.randrange(40)}.py",
                "command": _text(rng, 8)}})
            for b, block in enumerate(blocks):
                last = b == len(blocks) - 1
                rec = _env(i, parent, ts) | {"type": "assistant", "requestId": f"req_{mid}",
                                             "message": {"id": mid, "type": "message",
                                                         "role": "assistant",
                                                         "model": "claude-opus-4-7",
                                                         "content": [block],
                                                         "stop_reason": "tool_use" if last
                                                         else None,
                                                         "usage": usage | ({"output_tokens": 300}
                                                                           if last else {})}}
                out.append(json.dumps(rec, separators=(",", ":"), ensure_ascii=False))
                parent, i = f"{PFX}-u{i}", i + 1
            out.append(json.dumps(_env(i, parent, ts) | {
                "type": "progress", "data": {"type": "hook_progress", "hookEvent": "PostToolUse"},
                "toolUseID": tid, "parentToolUseID": tid}, separators=(",", ":")))
            i += 1
            body = "\n".join(f"{n:5d}  " + _text(rng, rng.randrange(3, 14))
                             for n in range(rng.randrange(5, 400)))
            rec = _env(i, parent, ts) | {"type": "user", "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": tid, "content": body,
                 "is_error": rng.random() < 0.05}]},
                "toolUseResult": {"stdout": body[:2000], "stderr": "", "interrupted": False}}
            out.append(json.dumps(rec, separators=(",", ":"), ensure_ascii=False))
            parent, i = f"{PFX}-u{i}", i + 1
        mid = f"msg_{PFX}{t}final"
        rec = _env(i, parent, ts) | {"type": "assistant", "requestId": f"req_{mid}", "message": {
            "id": mid, "type": "message", "role": "assistant", "model": "claude-opus-4-7",
            "content": [{"type": "text", "text": _text(rng, rng.randrange(20, 200))}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 5, "output_tokens": 420}}}
        out.append(json.dumps(rec, separators=(",", ":"), ensure_ascii=False))
        parent, i = f"{PFX}-u{i}", i + 1
    return ("\n".join(out) + "\n").encode("utf-8")


def write_file(path: Path, size: int, templates: list[bytes], rng: random.Random) -> int:
    """Write a session of about ``size`` bytes from templates with unique ids."""
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    written = 0
    with open(path, "wb") as fh:
        while written < size:
            block = rng.choice(templates).replace(SID.encode(), sid.encode()).replace(
                PFX.encode(), f"{rng.getrandbits(32):08x}".encode())
            if written + len(block) > size:
                cut = block.rfind(b"\n", 0, max(1, size - written)) + 1
                if cut <= 0:  # keep at least one whole line in a file
                    cut = block.find(b"\n") + 1 if not written else 0
                block = block[:cut]
                if not block:
                    break
            fh.write(block)
            written += len(block)
    return written


def generate(base: Path, mb: int, small: int) -> None:
    """Create the two corpora under ``base`` unless already there."""
    rng = random.Random(6)
    templates = [build_template(rng) for _ in range(24)]
    big = base / "big" / "projects"
    if not (base / "big.done").exists():
        total, n = 0, 0
        sizes = [QUANTILES[-1][1]]
        while sum(sizes) < mb * 1_000_000:
            sizes.append(sample_size(rng))
        for size in sizes:
            proj = big / f"-home-user-project{n % 40}"
            proj.mkdir(parents=True, exist_ok=True)
            total += write_file(proj / f"{uuid.UUID(int=rng.getrandbits(128))}.jsonl", size,
                                templates, rng)
            n += 1
        (base / "big.done").write_text(f"{n} {total}")
    sm = base / "small" / "projects"
    if not (base / "small.done").exists():
        for k in range(small):
            proj = sm / f"-p{k % 60}"
            proj.mkdir(parents=True, exist_ok=True)
            write_file(proj / f"{uuid.UUID(int=rng.getrandbits(128))}.jsonl",
                       rng.randrange(2_000, 20_000), templates, rng)
        (base / "small.done").write_text(str(small))


def _files(d: Path) -> list[Path]:
    return sorted(d.rglob("*.jsonl"))


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its reaped children (parse workers):
    a figure that, unlike wall time, does not grow when other jobs share the cores."""
    return _cpu_main() + _cpu_children()


def _cpu_main() -> float:
    a = resource.getrusage(resource.RUSAGE_SELF)
    return a.ru_utime + a.ru_stime


def _cpu_children() -> float:
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return b.ru_utime + b.ru_stime


def phase_bare(d: Path) -> dict:
    """A bare stdlib json.loads-per-line pass over every file."""
    t = time.perf_counter()
    c = _cpu()
    n = 0
    for p in _files(d):
        with open(p, "rb") as fh:
            for line in fh:
                if line.strip():
                    json.loads(line)
                    n += 1
    return {"seconds": time.perf_counter() - t, "lines": n, "cpu": _cpu() - c}


def phase_ingest(d: Path, db_path: Path) -> dict:
    """run_archive on ``d`` into ``db_path``; returns timing, counts and peak RSS."""
    from engine.archive import service
    from engine.units import open_db

    db = open_db(db_path)
    t = time.perf_counter()
    c, cm = _cpu(), _cpu_main()
    res = service.run_archive(db, [str(d)], tail_idle_seconds=0)
    dt = time.perf_counter() - t
    cpu, cpu_main = _cpu() - c, _cpu_main() - cm
    return {"seconds": dt, "cpu": cpu, "cpu_main": cpu_main, "cpu_workers": cpu - cpu_main,
            "files_parsed": res.files_parsed, "files_skipped": res.files_skipped,
            "bytes": res.bytes_read, "errors": len(res.errors),
            "sessions": res.sessions_new,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            # Parse workers are child processes: the largest one's peak, counted on top.
            "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "workers": service.default_workers()}


CCUSAGE_VERSION = "20.0.24"


def find_ccusage() -> str | None:
    """The pinned native ccusage binary from the npx cache, or None if it is not there."""
    home = Path.home() / ".npm" / "_npx"
    for pkg in sorted(glob.glob(str(home / "*" / "node_modules" / "ccusage" / "package.json"))):
        if json.loads(Path(pkg).read_text()).get("version") != CCUSAGE_VERSION:
            continue
        for binary in glob.glob(str(Path(pkg).parents[1] / "@ccusage" / "ccusage-*" / "bin" / "ccusage")):
            if os.access(binary, os.X_OK):
                return binary
    return None


def phase_ccusage(binary: str, config_dir: Path) -> dict:
    """One ``ccusage daily --json`` over ``config_dir`` (wall and CPU of its process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run([binary, "daily", "--json"], check=True, capture_output=True,
                         env={**os.environ, "CLAUDE_CONFIG_DIR": str(config_dir)}).stdout
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    totals = json.loads(out).get("totals", {})
    return {"seconds": dt, "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "rss_mb": after.ru_maxrss / 1024, "input_tokens": totals.get("inputTokens"),
            "output_tokens": totals.get("outputTokens")}


def _sub(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    """Generate, then run each phase in a child process and print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/wk-archive-bench")
    ap.add_argument("--mb", type=int, default=520)
    ap.add_argument("--small", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ccusage", default="auto", help="native ccusage binary, 'auto' or 'none'")
    ap.add_argument("--phase", choices=["bare", "ingest", "ccusage"])
    ap.add_argument("--src")
    ap.add_argument("--db")
    a = ap.parse_args()
    if a.phase == "bare":
        print(json.dumps(phase_bare(Path(a.src))))
        return 0
    if a.phase == "ingest":
        print(json.dumps(phase_ingest(Path(a.src), Path(a.db))))
        return 0
    if a.phase == "ccusage":
        print(json.dumps(phase_ccusage(a.ccusage, Path(a.src))))
        return 0
    base = Path(a.dir)
    t = time.perf_counter()
    generate(base, a.mb, a.small)
    big, small = base / "big", base / "small"
    files = _files(big)
    size = sum(p.stat().st_size for p in files)
    print(f"corpus: {len(files)} files, {size / 1e6:.1f} MB (largest "
          f"{max(p.stat().st_size for p in files) / 1e6:.1f} MB); {len(_files(small))} small "
          f"files; generated/checked in {time.perf_counter() - t:.1f} s")

    def fresh(name: str) -> Path:
        for old in base.glob(name + "*"):
            old.unlink()
        return base / name

    # Warm the page cache for both passes (one untimed bare pass reads every file), then
    # alternate bare pass and cold ingest (fresh database each time) ``reps`` times.
    ccusage = find_ccusage() if a.ccusage == "auto" else (None if a.ccusage == "none" else a.ccusage)
    _sub("--phase", "bare", "--src", str(big))
    if ccusage:
        _sub("--phase", "ccusage", "--ccusage", ccusage, "--src", str(big))  # its own warm-up
    bares, colds, ccs = [], [], []
    for _ in range(a.reps):
        bares.append(_sub("--phase", "bare", "--src", str(big)))
        if ccusage:
            ccs.append(_sub("--phase", "ccusage", "--ccusage", ccusage, "--src", str(big)))
        colds.append(_sub("--phase", "ingest", "--src", str(big), "--db", str(fresh("big.db"))))
    reruns = [_sub("--phase", "ingest", "--src", str(big), "--db", str(base / "big.db"))
              for _ in range(a.reps)]
    _sub("--phase", "ingest", "--src", str(small), "--db", str(fresh("small.db")))
    small_reruns = [_sub("--phase", "ingest", "--src", str(small), "--db", str(base / "small.db"))
                    for _ in range(a.reps)]
    dbsize = sum(p.stat().st_size for p in base.glob("big.db*"))

    def med(runs: list[dict], key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    def each(runs: list[dict], key: str, fmt: str = "{:.2f}") -> str:
        return ", ".join(fmt.format(r[key]) for r in runs)

    bare_s, cold_s = med(bares, "seconds"), med(colds, "seconds")
    ratios = [c["seconds"] / b["seconds"] for b, c in zip(bares, colds, strict=True)]
    cold = colds[0]
    print(f"medians of {a.reps} alternating runs, page cache warm:")
    print(f"bare json.loads pass: {bare_s:.2f} s ({size / 1e6 / bare_s:.0f} MB/s,"
          f" {bares[0]['lines']} lines) [{each(bares, 'seconds')}]")
    print(f"cold ingest:          {cold_s:.2f} s ({size / 1e6 / cold_s:.0f} MB/s,"
          f" {cold['files_parsed']} files, {cold['sessions']} sessions, {cold['errors']} errors)"
          f" [{each(colds, 'seconds')}]")
    print(f"ingest / bare ratio:  {cold_s / bare_s:.2f} (target <= 1.0); per pair "
          f"[{', '.join(f'{r:.2f}' for r in ratios)}]")
    print(f"CPU seconds:          bare {med(bares, 'cpu'):.2f} s, ingest {med(colds, 'cpu'):.2f} s"
          f" (main {med(colds, 'cpu_main'):.2f} + workers {med(colds, 'cpu_workers'):.2f}),"
          f" CPU ratio {med(colds, 'cpu') / med(bares, 'cpu'):.2f}")
    if ccs:
        cc_s = med(ccs, "seconds")
        per = [c["seconds"] / k["seconds"] for k, c in zip(ccs, colds, strict=True)]
        print(f"native ccusage {CCUSAGE_VERSION} daily --json: {cc_s:.2f} s [{each(ccs, 'seconds')}],"
              f" CPU {med(ccs, 'cpu'):.2f} s, peak RSS {max(c['rss_mb'] for c in ccs):.0f} MB"
              f" (binary {ccusage})")
        print(f"ingest / ccusage:     {cold_s / cc_s:.2f} (target <= 1.0); per round "
              f"[{', '.join(f'{r:.2f}' for r in per)}]; CPU {med(colds, 'cpu') / med(ccs, 'cpu'):.2f}")
    else:
        print("native ccusage:       not found (run `npx -y ccusage@20.0.24 --version` once)")
    print(f"no-change rerun:      {med(reruns, 'seconds'):.3f} s for {reruns[0]['files_skipped']}"
          f" files; {med(small_reruns, 'seconds'):.3f} s for {small_reruns[0]['files_skipped']}"
          " small files (target < 1 s)")
    rss = [c["rss_mb"] + c["workers"] * c["worker_rss_mb"] for c in colds]
    print(f"peak RSS of ingest:   {max(rss):.0f} MB max of runs (target < 150 MB): main"
          f" {max(c['rss_mb'] for c in colds):.0f} MB + {cold['workers']} parse worker(s) x"
          f" {max(c['worker_rss_mb'] for c in colds):.0f} MB")
    print(f"database size:        {dbsize / 1e6:.0f} MB for {size / 1e6:.0f} MB of transcripts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
