"""engine.actions.archive on a real SQLite file and a transcript written here: a run done in this
process and one handed to a running instance, the JSON of each result, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.actions import archive
from engine.actions.errors import Conflict, Invalid, NotFound
from tests.helpers import wait_until

SESSION_ID = "5e551011-aaaa-4bbb-8ccc-000000000001"


def _write_transcript(folder: Path) -> Path:
    """One finished Claude Code session: a prompt, a tool call with its result, an answer."""
    records = [
        {"type": "user", "message": {"role": "user", "content": "deploy the flamingo service"}},
        {"type": "assistant", "requestId": "req_1", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-4-7",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "make deploy"}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 30}}},
        {"type": "user", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "deployed"}]}},
        {"type": "assistant", "requestId": "req_2", "message": {
            "id": "msg_2", "type": "message", "role": "assistant", "model": "claude-opus-4-7",
            "content": [{"type": "text", "text": "The flamingo service is deployed."}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 5, "output_tokens": 12}}},
    ]
    lines, parent = [], None
    for i, body in enumerate(records):
        uuid = f"{SESSION_ID}-u{i}"
        lines.append(json.dumps({"parentUuid": parent, "isSidechain": False, "userType": "external",
                                 "cwd": "/home/u/birds", "sessionId": SESSION_ID, "version": "2.1.114",
                                 "gitBranch": "main", "uuid": uuid, "timestamp": f"2026-04-18T13:00:0{i}.000Z"}
                                | body))
        parent = uuid
    path = folder / "projects" / "-home-u-birds" / f"{SESSION_ID}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def archived(db, tmp_path):
    _write_transcript(tmp_path / "claude")
    done = archive.run(db, [str(tmp_path / "claude")])
    return db, done


def test_a_run_here_archives_the_transcript_and_is_recorded(archived):
    db, done = archived
    assert not done.failed and done.to_dict() == done.result.as_dict()
    assert (done.result.files_parsed, done.result.sessions_new) == (1, 1)
    page = archive.list_runs(db, limit=10)
    (run,) = page.items
    assert (run.id, run.status, run.trigger, run.files_parsed, run.pid) == (done.result.run_id, "ok", "cli", 1,
                                                                            run.pid)
    assert page.to_dict() == {"items": [run.to_dict()], "total": 1, "limit": 10, "offset": 0}
    assert list(run.to_dict()) == ["id", "started_at", "finished_at", "status", "trigger", "files_seen",
                                   "files_parsed", "files_skipped", "bytes_read", "sessions_new", "sessions_updated",
                                   "bad_lines", "duration_s", "error", "pid"]
    assert archive.list_runs(db, offset=1).to_dict()["items"] == []


def test_sessions_show_and_search_give_the_api_json(archived):
    from engine.api import models as m

    db, _ = archived
    (listed,) = archive.list_sessions(db)
    assert set(listed.to_dict()) == set(m.ArchiveSessionOut.model_fields)
    assert (listed.session_id, listed.human_prompts, listed.tool_calls) == (SESSION_ID, 1, 1)

    detail = archive.show_session(db, SESSION_ID[:8])
    shown = detail.to_dict()
    assert set(shown) == set(m.ArchiveSessionDetailOut.model_fields)
    assert shown["session"] == {**listed.to_dict(), "summary": detail.summary_text}
    assert [t["prompt"] for t in shown["turns"]] == ["deploy the flamingo service"]
    assert [(c["name"], c["has_result"], c["is_error"]) for c in shown["tool_calls"]] == [("Bash", True, False)]
    m.ArchiveSessionDetailOut.model_validate(shown)

    hits = archive.search(db, "flamingo")
    assert {(h.session_id, h.kind) for h in hits} == {(SESSION_ID, "prompt"), (SESSION_ID, "answer")}
    assert set(hits[0].to_dict()) == set(m.SearchHitOut.model_fields) and "[flamingo]" in hits[0].snippet
    assert archive.search(db, "   ") == ()


def test_refusals_name_the_problem(archived):
    db, _ = archived
    with pytest.raises(NotFound, match="^no unique archived session matches 'nope'$"):
        archive.show_session(db, "nope")
    with pytest.raises(Invalid, match="^limit must be at least 1$"):
        archive.list_sessions(db, limit=0)
    with pytest.raises(Invalid, match="^limit must be at least 1$"):
        archive.search(db, "flamingo", limit=0)
    with pytest.raises(Invalid, match="^offset cannot be negative$"):
        archive.list_runs(db, offset=-1)


def _engine(wk_home, enabled: bool):
    from engine.engine import Engine
    from engine.units import UNITS
    from tests.helpers import parse_config

    quiet = ("disk_space", "endpoint", "listening_ports")
    return Engine(wk_home, parse_config({"toast": {"enabled": False}, "api": {"enabled": False},
                                         "archive": {"enabled": enabled},
                                         "checks": {n: {"enabled": False} for n in quiet}}, env={}), UNITS)


def test_a_run_in_the_instance_is_a_background_job_of_its_scheduler(wk_home, tmp_path, monkeypatch):
    from engine.store.db import connection

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    _write_transcript(tmp_path / "claude")
    engine = _engine(wk_home, enabled=True)
    engine.start()
    try:
        assert archive.run_in_instance(engine).to_dict() == {"job": "archive", "scheduled": True}
        assert engine.db is not None
        db = engine.db

        def finished() -> archive.ArchiveRun | None:
            with connection(db):
                items = archive.list_runs(db).items
            return next((r for r in items if r.trigger == "nightly" and r.finished_at), None)

        run = wait_until(finished, timeout=60, message="the scheduled archive run finished")
        assert (run.status, run.files_parsed) == ("ok", 1)  # the archive job's own run, as at night
    finally:
        engine.stop("test")


def test_a_run_in_an_instance_with_the_archive_off_is_a_conflict(wk_home):
    engine = _engine(wk_home, enabled=False)
    engine.start()
    try:
        with pytest.raises(Conflict, match=r"^the archive is disabled in config \(\[archive\] enabled = false\)$"):
            archive.run_in_instance(engine)
    finally:
        engine.stop("test")


def test_a_missing_source_is_not_found_naming_it_and_no_run_is_recorded(archived, tmp_path):
    db, _ = archived
    before = archive.list_runs(db).total
    missing = tmp_path / "no-such-folder"
    with pytest.raises(NotFound, match=f"^no such file or folder: {missing}$"):
        archive.run(db, [str(tmp_path), str(missing)])
    assert archive.list_runs(db).total == before


@pytest.fixture
def fixtures_archived(db):
    from tests.engine.archive._util import FIXTURES

    assert not archive.run(db, [str(FIXTURES)]).failed
    return db


def test_a_subagent_shows_its_task_answers_and_own_tool_calls(fixtures_archived):
    detail = archive.show_subagent(fixtures_archived, "c0ffee00-1111", "a5b0c0ffee0000001")
    assert detail.session.session_id == "c0ffee00-1111-4222-8333-000000000001"
    assert (detail.agent.agent_type, detail.agent.description) == ("code-reviewer", "Review discount code")
    assert detail.turns[0].prompt == "Review the discount code change in checkout.py."
    assert detail.turns[-1].final_answer.startswith("One issue: the total is not recomputed")
    assert [t.name for t in detail.tool_calls] == ["Read", "Bash"]
    assert {t.agent_id for t in detail.tool_calls} == {"a5b0c0ffee0000001"}
    with pytest.raises(NotFound, match="has no archived subagent 'nope'"):
        archive.show_subagent(fixtures_archived, "c0ffee00-1111", "nope")


def test_child_sessions_are_the_threads_a_session_spawned(fixtures_archived):
    children = archive.child_sessions(fixtures_archived, "c0dec000-0000-4000-8000-000000000002")
    assert [c.session_id for c in children] == ["c0dec000-0000-4000-8000-000000000003"]
    assert archive.child_sessions(fixtures_archived, "c0dec000-0000-4000-8000-000000000003") == ()


def test_search_marks_each_match_with_the_marks_asked_for(fixtures_archived):
    (hit,) = archive.search(fixtures_archived, "checkout form", limit=1)
    assert "[checkout] [form]" in hit.snippet
    (hit,) = archive.search(fixtures_archived, "checkout form", limit=1, marks=("\x02", "\x03"))
    assert "\x02checkout\x03 \x02form\x03" in hit.snippet and "[" not in hit.snippet
