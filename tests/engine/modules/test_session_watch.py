"""session_watch: recently written transcripts become active work_sessions, quiet ones close."""

from __future__ import annotations

import os
from datetime import timedelta
from types import SimpleNamespace

from engine.modules.session_watch import session_watch_job
from engine.timeutil import from_db
from engine.units import open_db

from ..archive._util import SHOP, SHOP_ID


def _config(src):
    return SimpleNamespace(archive=SimpleNamespace(sources=[str(src)], extra_roots=[],
                                                   max_line_bytes=0, active_window_minutes=10))


def _ws(db):
    return db.execute_sql("SELECT external_id, status, interrupted_reason, last_activity_at,"
                          " source FROM work_sessions").fetchall()


def _write_until(path, data: bytes, marker: bytes, mtime):
    cut = data.index(b"\n", data.index(marker)) + 1
    path.write_bytes(data[:cut])
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


def test_active_session_that_stops_after_a_tool_call_is_marked_stalled(tmp_path):
    db = open_db(tmp_path / "w.db")
    proj = tmp_path / "p"
    proj.mkdir()
    f = proj / SHOP.name
    t0 = from_db("2026-03-02T10:10:00Z")
    # Cut right after the first tool_use line: a tool call whose result never came.
    _write_until(f, SHOP.read_bytes(), b'"type":"tool_use"', t0)
    session_watch_job(db, _config(proj), now=t0 + timedelta(minutes=2))
    rows = _ws(db)
    assert len(rows) == 1
    ext, status, reason, last, source = rows[0]
    assert (ext, status, source) == (SHOP_ID, "active", "claude")
    assert reason and reason.startswith("tool call without result:")
    assert from_db(last) == t0
    session_watch_job(db, _config(proj), now=t0 + timedelta(hours=1))
    ext, status, reason, _, _ = _ws(db)[0]
    assert status == "stalled" and reason.startswith("tool call without result:")


def test_prompt_without_answer_is_the_reason(tmp_path):
    db = open_db(tmp_path / "w.db")
    proj = tmp_path / "p"
    proj.mkdir()
    t0 = from_db("2026-03-02T10:10:00Z")
    _write_until(proj / SHOP.name, SHOP.read_bytes(), b'"promptId"', t0)
    session_watch_job(db, _config(proj), now=t0 + timedelta(minutes=1))
    session_watch_job(db, _config(proj), now=t0 + timedelta(hours=2))
    assert _ws(db)[0][1:3] == ("stalled", "prompt without answer")


def test_finished_session_ends_cleanly_and_old_files_are_ignored(tmp_path):
    db = open_db(tmp_path / "w.db")
    proj = tmp_path / "p"
    proj.mkdir()
    f = proj / SHOP.name
    f.write_bytes(SHOP.read_bytes())
    t0 = from_db("2026-03-02T10:30:00Z")
    os.utime(f, (t0.timestamp(), t0.timestamp()))
    session_watch_job(db, _config(proj), now=t0 + timedelta(days=3))
    assert _ws(db) == []  # not written recently: not a work session
    session_watch_job(db, _config(proj), now=t0 + timedelta(minutes=3))
    assert _ws(db)[0][1] == "active"
    session_watch_job(db, _config(proj), now=t0 + timedelta(minutes=30))
    assert _ws(db)[0][1:3] == ("ended", None)
