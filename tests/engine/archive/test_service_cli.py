"""Summaries, search, listing and the ``archive`` CLI handlers on the fixture transcripts."""

from __future__ import annotations

import argparse
import io
import json
import shutil
from datetime import timedelta
from types import SimpleNamespace

from engine.archive import service
from engine.archive.discover import LEGACY_AGENT, MAIN, SUBAGENT, UNKNOWN, classify, default_roots
from engine.cli import archive as commands
from engine.timeutil import from_db

from ._util import SHOP, SHOP_ID, UPLOADS_MAIN, new_db


def _archived(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(SHOP.parent)], tail_idle_seconds=0)
    return db


def test_idle_session_gets_an_extractive_summary(tmp_path):
    db = _archived(tmp_path)
    view = service.show_session(db, "c0ffee00")
    assert view is not None
    s = view.summary
    assert s["first_prompt"] and len(s["turns"]) == s["turns_total"] == len(view.turns)
    assert {t["name"]: t["count"] for t in s["tools"]} == {"Read": 3, "Bash": 2, "Edit": 1, "Agent": 1}
    assert s["files_touched"] and s["duration_s"] > 0
    assert s["tokens"]["input"] > 0
    assert "Tools:" in view.session["summary"]


def test_summary_waits_while_the_session_is_active(tmp_path):
    db = new_db(tmp_path)
    last = from_db("2026-03-02T10:06:32Z")  # the session's last record
    service.run_archive(db, [str(SHOP)], now=last + timedelta(minutes=1))
    assert db.execute_sql("SELECT summary FROM conversation_archive_sessions").fetchone()[0] is None
    res = service.run_archive(db, [str(SHOP)], now=last + timedelta(days=2))
    assert res.summaries == 1
    again = service.run_archive(db, [str(SHOP)], now=last + timedelta(days=3))
    assert again.summaries == 0  # unchanged content is not re-summarised


def test_search_finds_prompts_and_answers(tmp_path):
    db = _archived(tmp_path)
    word = db.execute_sql("SELECT text FROM archive_entries WHERE kind = 'prompt' LIMIT 1"
                          ).fetchone()[0].split()[0]
    hits = service.search(db, word)
    assert hits and hits[0]["session_id"] == SHOP_ID
    assert service.search(db, 'unbalanced "quote') == []  # never an FTS syntax error


def test_list_sessions_newest_first(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(UPLOADS_MAIN), str(SHOP)], tail_idle_seconds=0)
    rows = service.list_sessions(db, 10)
    assert [r["session_id"][:8] for r in rows] == ["c0ffee00", "01d5e550"]


def test_classify_by_path_shape():
    base = "/h/.claude/projects/-p"
    sid = "ef958aa1-0e93-49f0-bb71-150f63befcd1"
    from pathlib import Path
    assert classify(Path(f"{base}/{sid}.jsonl"))[1] == MAIN
    assert classify(Path(f"{base}/agent-0c78cdae.jsonl"))[1] == LEGACY_AGENT
    sub = classify(Path(f"{base}/{sid}/subagents/agent-a36.jsonl"))
    assert sub[1:4] == (SUBAGENT, sid, "a36")
    wf = classify(Path(f"{base}/{sid}/subagents/workflows/r1/agent-x.jsonl"))
    assert wf[1:3] == (SUBAGENT, sid)
    assert classify(Path(f"{base}/{sid}/subagents/workflows/r1/journal.jsonl"))[1] == \
        "workflow_side"
    assert classify(Path("/h/.codex/sessions/2026/01/02/rollout-x-" + sid + ".jsonl"))[2] == sid
    assert classify(Path(f"{base}/notes.jsonl"))[1] == UNKNOWN


def test_default_roots_follow_environment(tmp_path):
    from pathlib import Path
    roots = default_roots({"CLAUDE_CONFIG_DIR": "/a, /b", "CODEX_HOME": "/c"}, Path("/home/u"))
    assert [str(r.path) for r in roots] == [
        "/a/projects", "/b/projects", "/home/u/.config/claude/projects", "/c/sessions",
        "/c/archived_sessions"]
    plain = default_roots({}, Path("/home/u"))
    assert str(plain[0].path) == "/home/u/.claude/projects"


class _Ctx:
    def __init__(self, db):
        self.db = db
        self.config = SimpleNamespace(archive=SimpleNamespace(extra_roots=[], max_line_bytes=0))

    def open_db(self):
        return self.db


def _parse(argv):
    p = argparse.ArgumentParser()
    commands.register(p.add_subparsers())
    return p.parse_args(argv)


def test_cli_run_json_then_sessions_show_search(tmp_path):
    proj = tmp_path / "p"
    proj.mkdir()
    shutil.copy(SHOP, proj / SHOP.name)
    ctx = _Ctx(new_db(tmp_path))
    out = io.StringIO()
    args = _parse(["archive", "run", "--source", str(proj), "--json"])
    assert args.handler(args, ctx, out=out, err=io.StringIO()) == 0
    assert json.loads(out.getvalue())["files_parsed"] == 1
    out = io.StringIO()
    args = _parse(["archive", "sessions", "--json"])
    assert args.handler(args, ctx, out=out) == 0
    assert json.loads(out.getvalue())[0]["tool_calls"] == 5
    out = io.StringIO()
    args = _parse(["archive", "show", "c0ffee00", "--json"])
    assert args.handler(args, ctx, out=out) == 0
    shown = json.loads(out.getvalue())
    assert len(shown["tool_calls"]) == 5 and len(shown["turns"]) == 3
    args = _parse(["archive", "show", "nope"])
    assert args.handler(args, ctx, out=io.StringIO()) == 1
    out = io.StringIO()
    args = _parse(["archive", "search", "the", "--json"])
    assert args.handler(args, ctx, out=out) == 0
    assert isinstance(json.loads(out.getvalue()), list)


def test_cli_without_subcommand_is_bad_usage(tmp_path, capsys):
    args = _parse(["archive"])
    assert args.handler(args, _Ctx(None)) == 2


def test_progress_bar_draws_on_its_stream():
    s = io.StringIO()
    bar = commands.ProgressBar(s, width=10)
    bar(5, 10, 2_000_000)
    bar(10, 10, 4_000_000)
    assert "[#####-----] 5/10" in s.getvalue() and s.getvalue().endswith("\n")
