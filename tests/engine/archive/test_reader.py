"""Streaming reads: a file larger than one job (FLUSH_BYTES) is archived line for line."""

from __future__ import annotations

import io

import orjson

from engine.archive import service
from engine.archive.parse import FLUSH_BYTES
from engine.archive.reader import fingerprint

from ._util import new_db, raw_bytes

SID = "5e551000-0000-4000-8000-000000000001"


def _assistant(n: int) -> bytes:
    """One assistant line of about 3 KB with usage that identifies it (input_tokens = n)."""
    rec = {"type": "assistant", "sessionId": SID, "uuid": f"u-{n}", "version": "2.1.114",
           "timestamp": "2026-04-18T13:00:00.000Z", "requestId": f"req_{n}",
           "message": {"id": f"msg_{n}", "role": "assistant", "model": "claude-opus-4-7",
                       "content": [{"type": "text", "text": f"answer {n} " + "x" * 3000}],
                       "stop_reason": "end_turn",
                       "usage": {"input_tokens": n, "output_tokens": 2 * n,
                                 "cache_read_input_tokens": 3, "cache_creation_input_tokens": 1}}}
    return orjson.dumps(rec) + b"\n"


def test_fingerprint_leaves_the_file_position_where_it_was():
    f = io.BytesIO(b"a" * 100_000)
    f.seek(70_000)
    fingerprint(f, 50_000)
    assert f.tell() == 70_000


def test_file_larger_than_a_job_keeps_every_line_and_its_usage(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    lines = []
    size = 0
    while size < 2 * FLUSH_BYTES + 100_000:  # three jobs: two flushes while streaming
        lines.append(_assistant(len(lines) + 1))
        size += len(lines[-1])
    data = b"".join(lines)
    (proj / f"{SID}.jsonl").write_bytes(data)
    db = new_db(tmp_path)
    res = service.run_archive(db, [str(proj)], tail_idle_seconds=0)
    assert res.errors == []
    assert db.execute_sql("SELECT count(*) FROM archive_bad_lines").fetchone()[0] == 0
    n = len(lines)
    got = db.execute_sql("SELECT count(*), sum(input_tokens), sum(output_tokens)"
                         " FROM archive_messages").fetchone()
    assert got == (n, n * (n + 1) // 2, n * (n + 1))
    fid, parsed = db.execute_sql("SELECT id, parsed_offset FROM archive_files").fetchone()
    assert parsed == len(data)
    assert raw_bytes(db, fid) == data


def test_the_repair_migration_parses_big_files_again_and_restores_what_the_old_reader_lost(tmp_path):
    from engine.archive.schema import MIGRATIONS

    repair = next(m for m in MIGRATIONS if m.name == "archive_0007_reparse_files_read_across_a_flush")
    proj = tmp_path / "proj"
    proj.mkdir()
    lines = []
    while sum(map(len, lines)) < FLUSH_BYTES + 100_000:  # two jobs: one flush while streaming
        lines.append(_assistant(len(lines) + 1))
    (proj / f"{SID}.jsonl").write_bytes(b"".join(lines))
    small = proj / "5e551000-0000-4000-8000-000000000002.jsonl"
    small.write_bytes(_assistant(1).replace(SID.encode(), small.stem.encode()))
    db = new_db(tmp_path)
    service.run_archive(db, [str(proj)], tail_idle_seconds=0)
    n = len(lines)
    # what the old reader left behind: messages lost, a bogus bad line
    db.execute_sql("DELETE FROM archive_messages WHERE session_id = ? AND input_tokens > ?", (SID, n - 5))
    big_id = db.execute_sql("SELECT id FROM archive_files WHERE path LIKE ?", (f"%{SID}.jsonl",)).fetchone()[0]
    db.execute_sql("INSERT INTO archive_bad_lines (file_id, byte_offset, line_no, length, kind, error)"
                   " VALUES (?, 123, 2, 40, 'splice', 'bogus')", (big_id,))
    db.execute_sql("UPDATE archive_files SET lines_bad = 1 WHERE id = ?", (big_id,))
    repair.apply(db)
    res = service.run_archive(db, [str(proj)], tail_idle_seconds=0)
    assert res.files_reparsed == 1  # the big file only
    assert db.execute_sql("SELECT count(*) FROM archive_bad_lines").fetchone()[0] == 0
    got = db.execute_sql("SELECT count(*), sum(input_tokens) FROM archive_messages WHERE session_id = ?",
                         (SID,)).fetchone()
    assert got == (n, n * (n + 1) // 2)
