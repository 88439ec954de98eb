"""Incremental and idempotent ingest: cut files, reruns, rewrites and deleted sources."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from engine.archive import service

from ._util import LEGACY_AGENT, ROLLOUT, SHOP, UPLOADS_ID, UPLOADS_MAIN, dump, new_db, raw_bytes


def _copy_tree(tmp_path):
    """A project dir holding a main transcript and its legacy agent file."""
    proj = tmp_path / "src" / UPLOADS_MAIN.parent.name
    proj.mkdir(parents=True)
    shutil.copy(UPLOADS_MAIN, proj / UPLOADS_MAIN.name)
    shutil.copy(LEGACY_AGENT, proj / LEGACY_AGENT.name)
    return proj


@pytest.mark.parametrize("cut", [1, 700, 2_345, 4_096, -1])
def test_file_cut_at_any_byte_then_completed_equals_single_pass(tmp_path, cut):
    data = UPLOADS_MAIN.read_bytes()
    cut = cut % len(data)  # -1: all but the last byte
    one = new_db(tmp_path, "one.db")
    src1 = tmp_path / "one" / "p"
    src1.mkdir(parents=True)
    (src1 / UPLOADS_MAIN.name).write_bytes(data)
    service.run_archive(one, [str(src1)])

    two = new_db(tmp_path, "two.db")
    src2 = tmp_path / "two" / "p"
    src2.mkdir(parents=True)
    part = src2 / UPLOADS_MAIN.name
    part.write_bytes(data[:cut])
    first = service.run_archive(two, [str(src2)])
    assert first.files_parsed == 1
    with open(part, "ab") as fh:
        fh.write(data[cut:])
    os.utime(part, ns=(1, 2))  # a different mtime, as a real append would give
    second = service.run_archive(two, [str(src2)])
    assert second.files_parsed == 1 and second.files_reparsed == 0

    def normalised(db):
        d = dump(db)
        d.pop("archive_file_sessions")
        return d

    assert normalised(two) == normalised(one)
    assert raw_bytes(two, 1) == data == raw_bytes(one, 1)


def test_codex_rollout_cut_mid_file_keeps_positional_dedupe(tmp_path):
    src = ROLLOUT
    data = src.read_bytes()
    one = new_db(tmp_path, "one.db")
    d1 = tmp_path / "one"
    d1.mkdir()
    (d1 / src.name).write_bytes(data)
    service.run_archive(one, [str(d1)])
    two = new_db(tmp_path, "two.db")
    d2 = tmp_path / "two"
    d2.mkdir()
    (d2 / src.name).write_bytes(data[: len(data) // 3])
    service.run_archive(two, [str(d2)])
    (d2 / src.name).write_bytes(data)
    service.run_archive(two, [str(d2)])
    assert dump(two) == dump(one)


def test_second_run_changes_nothing_and_costs_only_a_stat(tmp_path):
    proj = _copy_tree(tmp_path)
    db = new_db(tmp_path)
    service.run_archive(db, [str(proj)])
    before = dump(db)
    again = service.run_archive(db, [str(proj)])
    assert (again.files_parsed, again.files_skipped, again.bytes_read) == (0, 2, 0)
    assert (again.sessions_new, again.sessions_updated) == (0, 0)
    assert dump(db) == before
    runs = db.execute_sql("SELECT files_seen, files_skipped, status FROM"
                          " conversation_archive_runs ORDER BY id").fetchall()
    assert runs[-1] == (2, 2, "ok")


def test_touched_file_with_same_content_is_reread_but_changes_nothing(tmp_path):
    proj = _copy_tree(tmp_path)
    db = new_db(tmp_path)
    service.run_archive(db, [str(proj)])
    before = dump(db)
    os.utime(proj / UPLOADS_MAIN.name, ns=(5, 5))
    res = service.run_archive(db, [str(proj)])
    assert res.files_parsed == 1 and res.bytes_read == 0
    assert dump(db) == before


def test_rewritten_file_is_fully_reparsed(tmp_path):
    proj = _copy_tree(tmp_path)
    db = new_db(tmp_path)
    service.run_archive(db, [str(proj)])
    target = proj / UPLOADS_MAIN.name
    lines = target.read_bytes().splitlines(keepends=True)
    # Same size class but different head: the first line rewritten (e.g. an editor save).
    target.write_bytes(b'{"type":"summary","summary":"Rewritten","leafUuid":"zz"}\n' + b"".join(
        lines[1:]))
    res = service.run_archive(db, [str(proj)])
    assert res.files_reparsed == 1
    row = db.execute_sql("SELECT generation, parsed_offset, size FROM archive_files"
                         " WHERE path LIKE ?", (f"%{UPLOADS_ID}%",)).fetchone()
    assert row[0] == 1 and row[1] == row[2] == target.stat().st_size
    assert db.execute_sql("SELECT count(*) FROM archive_cc_summaries WHERE leaf_uuid = 'zz'"
                          ).fetchone()[0] == 1
    # The first generation's raw bytes are still archived.
    assert raw_bytes(db, 1, generation=0) == UPLOADS_MAIN.read_bytes()


def test_truncated_file_is_fully_reparsed(tmp_path):
    proj = _copy_tree(tmp_path)
    db = new_db(tmp_path)
    service.run_archive(db, [str(proj)])
    target = proj / UPLOADS_MAIN.name
    data = target.read_bytes()
    target.write_bytes(data[: data.index(b"\n", 1_000) + 1])
    res = service.run_archive(db, [str(proj)])
    assert res.files_reparsed == 1
    prompts = db.execute_sql("SELECT human_prompts FROM conversation_archive_sessions"
                             " WHERE session_id = ?", (UPLOADS_ID,)).fetchone()[0]
    assert prompts == 2  # nothing archived before is lost


def test_deleted_source_keeps_its_archive(tmp_path):
    proj = _copy_tree(tmp_path)
    db = new_db(tmp_path)
    service.run_archive(db, [str(proj)])
    before = dump(db)
    (proj / UPLOADS_MAIN.name).unlink()
    res = service.run_archive(db, [str(proj.parent)])
    assert res.files_seen == 1
    assert dump(db) == before
    missing = db.execute_sql("SELECT source_missing_since FROM archive_files"
                             " WHERE path LIKE ?", (f"%{UPLOADS_ID}%",)).fetchone()[0]
    assert missing is not None
    assert raw_bytes(db, 1) == UPLOADS_MAIN.read_bytes()


def test_moved_file_is_archived_once(tmp_path):
    root = tmp_path / "codex"
    active = root / "sessions" / "2026"
    archived = root / "archived_sessions"
    active.mkdir(parents=True)
    archived.mkdir(parents=True)
    src = ROLLOUT
    shutil.copy(src, active / src.name)
    db = new_db(tmp_path)
    service.run_archive(db, [str(root)])
    before = dump(db)
    os.rename(active / src.name, archived / src.name)
    res = service.run_archive(db, [str(root)])
    assert res.files_skipped == 1 and res.files_parsed == 0
    assert db.execute_sql("SELECT count(*) FROM archive_files").fetchone()[0] == 1
    assert dump(db) == before


def test_symlinked_file_is_archived_once(tmp_path):
    proj = tmp_path / "p"
    proj.mkdir()
    shutil.copy(SHOP, proj / SHOP.name)
    (proj / "link.jsonl").symlink_to(proj / SHOP.name)
    db = new_db(tmp_path)
    res = service.run_archive(db, [str(proj)])
    assert res.files_seen == 1


def test_partial_last_line_waits_for_next_run(tmp_path):
    proj = tmp_path / "p"
    proj.mkdir()
    data = SHOP.read_bytes()
    cut = data.index(b"\n", 5_000) + 40
    f = proj / SHOP.name
    f.write_bytes(data[:cut])
    db = new_db(tmp_path)
    service.run_archive(db, [str(proj)])  # fresh mtime: the fragment may be mid-write
    offset, bad = db.execute_sql(
        "SELECT parsed_offset, (SELECT count(*) FROM archive_bad_lines) FROM archive_files"
    ).fetchone()
    assert offset == cut - 39 and bad == 0  # just after the last newline


def test_worker_processes_write_exactly_what_an_inline_run_writes(tmp_path):
    """The same tree parsed inline and by two worker processes (forced) gives the same rows."""
    proj = _copy_tree(tmp_path)
    shutil.copy(SHOP, proj / SHOP.name)
    inline = new_db(tmp_path, "inline.db")
    a = service.run_archive(inline, [str(proj)], tail_idle_seconds=0, workers=0)
    pooled = new_db(tmp_path, "pooled.db")
    b = service.run_archive(pooled, [str(proj)], tail_idle_seconds=0, workers=2)
    assert a.errors == b.errors == []
    assert (b.files_parsed, b.bytes_read, b.bad_lines) == (a.files_parsed, a.bytes_read,
                                                          a.bad_lines)
    assert dump(pooled) == dump(inline)
    for fid in (1, 2, 3):
        assert raw_bytes(pooled, fid) == raw_bytes(inline, fid)
    again = service.run_archive(pooled, [str(proj)], workers=2)
    assert (again.files_parsed, again.files_skipped) == (0, 3)


def test_frozen_build_parses_in_a_thread_and_writes_what_an_inline_run_writes(
        tmp_path, monkeypatch):
    """A PyInstaller build cannot start ``python -m`` workers: it parses in a background
    thread (compression in another) and must end in exactly the inline run's rows."""
    proj = _copy_tree(tmp_path)
    shutil.copy(SHOP, proj / SHOP.name)
    inline = new_db(tmp_path, "inline.db")
    a = service.run_archive(inline, [str(proj)], tail_idle_seconds=0, workers=0)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    threaded = new_db(tmp_path, "threaded.db")
    b = service.run_archive(threaded, [str(proj)], tail_idle_seconds=0, workers=1)
    assert a.errors == b.errors == []
    assert (b.files_parsed, b.bytes_read, b.summaries) == (a.files_parsed, a.bytes_read,
                                                          a.summaries)
    assert dump(threaded) == dump(inline)
    for fid in (1, 2, 3):
        assert raw_bytes(threaded, fid) == raw_bytes(inline, fid)


def test_a_failing_worker_task_is_recorded_and_the_run_goes_on(tmp_path, monkeypatch):
    import msgspec

    from engine.archive import parse

    proj = _copy_tree(tmp_path)
    db = new_db(tmp_path)
    real = parse.Task

    def task(*args, **kw):
        t = real(*args, **kw)
        if "agent-" in t.path:  # the worker cannot open it
            t = msgspec.structs.replace(t, path=str(tmp_path / "vanished.jsonl"))
        return t

    monkeypatch.setattr("engine.archive.service.Task", task)
    res = service.run_archive(db, [str(proj)], workers=1)
    assert res.files_failed == 1 and res.files_parsed == 1
    assert "FileNotFoundError" in res.errors[0]


def test_insert_then_merge_equals_the_full_upsert(tmp_path):
    """Messages and tool calls are written as a plain insert plus the upsert for only the keys
    that existed: a batch mixing existing and new keys ends exactly as the upsert of every row
    would (merged fields on the old keys, new rows as given)."""
    from engine.archive import rows, store
    from engine.archive.model import Batch

    def fill(record, **values):
        for name, value in values.items():
            setattr(record, name, value)

    def batches():
        a, b = Batch(1), Batch(1)
        a.add_message(("s", "", "m1"), "r1", None, "2026-01-01T00:00:01Z", None, False,
                      (1, 2, 3, 4))
        fill(a.tool("s", "t1"), has_call=1, agent_id="", name="Bash",
             called_ts="2026-01-01T00:00:01Z", call_pos=7)
        b.add_message(("s", "", "m1"), None, "opus", "2026-01-01T00:00:02Z", "end_turn",
                      False, (5, 1, 3, 9))
        b.add_message(("s", "", "m2"), "r2", "opus", "2026-01-01T00:00:03Z", None, False,
                      (1, 1, 1, 1))
        fill(b.tool("s", "t1"), has_result=1, agent_id="", result_ts="2026-01-01T00:00:02Z",
             is_error=1, result_preview="boom", result_pos=9)
        fill(b.tool("s", "t2"), has_call=1, agent_id="x", name="Read", call_pos=11)
        return a, b

    def write(db, upsert_all):
        db.execute_sql("INSERT INTO archive_files (path, provider, kind, first_seen)"
                       " VALUES ('p', 'claude', 'main', 'now')")
        for batch in batches():
            with db.atomic():
                if upsert_all:
                    for table, records in ((rows.MESSAGES, batch.messages.values()),
                                           (rows.TOOL_CALLS, batch.tool_calls.values())):
                        db.cursor().executemany(table.upsert_sql, table.rows(records))
                else:
                    store.write_rows(db, 1, "claude", batch.rows(), [], "now")
        return {table: db.execute_sql(
            f"SELECT * FROM {table} ORDER BY session_id, {col}").fetchall()
            for table, col in (("archive_messages", "message_id"),
                               ("archive_tool_calls", "tool_use_id"))}

    got = write(new_db(tmp_path, "split.db"), False)
    assert got == write(new_db(tmp_path, "upsert.db"), True)
    assert [r[2] for r in got["archive_messages"]] == ["m1", "m2"]
    db = new_db(tmp_path, "split.db")
    assert db.execute_sql("SELECT has_call, has_result, is_error, name, result_preview FROM"
                          " archive_tool_calls WHERE tool_use_id = 't1'").fetchone() == (
        1, 1, 1, "Bash", "boom")
