"""Usage-bearing Claude Code lines are archived whatever their envelope (what ccusage counts, the archive keeps)."""

from __future__ import annotations

import orjson

from engine.archive import service

from ._util import new_db

SID = "5e551000-0000-4000-8000-000000000002"


def _line(**fields: object) -> bytes:
    return orjson.dumps(fields) + b"\n"


def test_a_line_without_type_that_carries_usage_is_counted(tmp_path):
    # The shape of ccusage's own fixture (project-alpha/session-alpha/chat.jsonl): no "type" at all.
    proj = tmp_path / "projects" / "p"
    proj.mkdir(parents=True)
    (proj / f"{SID}.jsonl").write_bytes(
        _line(timestamp="2026-01-09T10:00:00.000Z", sessionId=SID, requestId="req-1", version="1.0.0",
              message={"role": "assistant", "id": "msg-1", "model": "claude-sonnet-4-20250514",
                       "usage": {"input_tokens": 100, "output_tokens": 50, "cache_creation_input_tokens": 25,
                                 "cache_read_input_tokens": 10}})
        + _line(timestamp="2026-01-09T10:01:00.000Z", sessionId=SID, type="user",
                message={"role": "user", "content": "hello"})
        + _line(timestamp="2026-01-09T10:02:00.000Z", sessionId=SID, message={"id": "no-usage"}))
    db = new_db(tmp_path)
    assert service.run_archive(db, [str(proj)], tail_idle_seconds=0).errors == []
    rows = db.execute_sql("SELECT session_id, message_id, request_id, model, input_tokens, output_tokens,"
                          " cache_creation_tokens, cache_read_tokens FROM archive_messages").fetchall()
    assert [tuple(r) for r in rows] == [(SID, "msg-1", "req-1", "claude-sonnet-4-20250514", 100, 50, 25, 10)]
