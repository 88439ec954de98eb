"""Damaged transcripts: bad lines are recorded (never their content) and the rest archived."""

from __future__ import annotations

import resource
import shutil

from engine.archive import service

from ._util import SHOP, SHOP_ID, new_db, totals

CLEAN = {"prompts": 3, "api": 6, "tu": 5, "tr": 5, "err": 2}


def _lines():
    return SHOP.read_bytes().splitlines(keepends=True)


def _archive(tmp_path, data: bytes, **kw):
    proj = tmp_path / "proj"
    proj.mkdir(exist_ok=True)
    (proj / SHOP.name).write_bytes(data)
    db = new_db(tmp_path)
    res = service.run_archive(db, [str(proj)], tail_idle_seconds=0, **kw)
    return db, res


def _bad(db):
    return db.execute_sql("SELECT line_no, kind, recovered, error FROM archive_bad_lines"
                          " ORDER BY byte_offset").fetchall()


def test_reference_counts_of_the_clean_copy(tmp_path):
    db, res = _archive(tmp_path, SHOP.read_bytes())
    assert res.errors == [] and totals(db) == CLEAN


def test_records_spliced_without_newline_are_both_recovered(tmp_path):
    lines = _lines()
    i = next(n for n, ln in enumerate(lines) if b'"tool_use"' in ln)
    lines[i] = lines[i].rstrip(b"\n") + lines[i + 1]  # "}{" on one line
    del lines[i + 1]
    db, _ = _archive(tmp_path, b"".join(lines))
    assert totals(db) == CLEAN
    assert [(b[1], b[2]) for b in _bad(db)] == [("splice", 1)]


def test_truncated_record_spliced_with_next_keeps_the_next(tmp_path):
    lines = _lines()
    i = next(n for n, ln in enumerate(lines) if b'"tool_use"' in ln)
    j = i + 1
    lines[i] = lines[i][: len(lines[i]) // 2] + lines[j]  # a cut record, then a whole one
    del lines[j]
    db, _ = _archive(tmp_path, b"".join(lines))
    kinds = [(b[1], b[2]) for b in _bad(db)]
    assert kinds == [("splice+partial", 1)]
    assert totals(db) == CLEAN | {"tu": 4}  # only the cut record's tool call is lost


def test_nul_runs_before_a_record_are_stripped(tmp_path):
    lines = _lines()
    lines[5] = b"\x00" * 500 + lines[5]
    db, _ = _archive(tmp_path, b"".join(lines))
    assert totals(db) == CLEAN
    assert [(b[1], b[2]) for b in _bad(db)] == [("nul", 1)]


def test_invalid_utf8_and_lone_surrogates_are_made_safe(tmp_path):
    lines = _lines()
    i = next(n for n, ln in enumerate(lines) if b'"type":"user"' in ln and b"discount" in ln)
    lines[i] = lines[i].replace(b"discount", b"dis\xff\xfecount \\ud83c", 1)  # a lone surrogate too
    db, res = _archive(tmp_path, b"".join(lines))
    assert res.errors == []
    prompt = db.execute_sql("SELECT text FROM archive_entries WHERE kind = 'prompt'"
                            " ORDER BY ts LIMIT 1").fetchone()[0]
    assert "\ufffd" in prompt
    prompt.encode("utf-8")  # storable and readable back as UTF-8
    assert [(b[1], b[2]) for b in _bad(db)] == [("encoding", 1)]


def test_50mb_single_line_is_skipped_with_bounded_memory(tmp_path):
    lines = _lines()
    huge = b'{"type":"user","message":{"role":"user","content":"' + b"x" * (50 * 1024 * 1024) \
        + b'"}}\n'
    data = b"".join(lines[:10]) + huge + b"".join(lines[10:])
    del huge
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    db, res = _archive(tmp_path, data, max_line_bytes=4 * 1024 * 1024)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert res.errors == []
    bad = _bad(db)
    assert [(b[0], b[1]) for b in bad] == [(11, "oversize")]
    length = db.execute_sql("SELECT length FROM archive_bad_lines").fetchone()[0]
    assert length == 50 * 1024 * 1024 + 55
    assert totals(db) == CLEAN  # the rest of the file is archived
    assert grown_kb < 40 * 1024  # the line was never held whole (data itself is in memory)


def test_truncated_tail_of_an_idle_file_is_recorded_and_retried(tmp_path):
    data = SHOP.read_bytes()
    cut = data.rindex(b"\n", 0, len(data) - 1) + 30
    db, _ = _archive(tmp_path, data[:cut])
    assert [(b[1], b[2]) for b in _bad(db)] == [("partial_tail", 0)]
    off = db.execute_sql("SELECT parsed_offset FROM archive_files").fetchone()[0]
    assert off == cut - 29  # just after the last newline


def test_unknown_record_types_are_kept_not_fatal(tmp_path):
    extra = b'{"type":"hologram","uuid":"u-holo","sessionId":"%s"}\n' % SHOP_ID.encode()
    db, res = _archive(tmp_path, SHOP.read_bytes() + extra)
    assert res.errors == []
    row = db.execute_sql("SELECT kind, rtype FROM archive_entries WHERE uuid = 'u-holo'")
    assert row.fetchone() == ("unknown", "hologram")


def test_bad_lines_never_store_or_log_content(tmp_path, caplog):
    secret = b"TOP-SECRET-TOKEN-123"
    data = SHOP.read_bytes() + b'{"type":"user", ' + secret + b"\n"
    db, _ = _archive(tmp_path, data)
    dumped = repr(db.execute_sql("SELECT * FROM archive_bad_lines").fetchall())
    assert "TOP-SECRET" not in dumped and "TOP-SECRET" not in caplog.text


def test_unreadable_file_is_recorded_and_the_run_goes_on(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(SHOP, proj / SHOP.name)
    broken = proj / "11111111-2222-3333-4444-555555555555.jsonl"
    broken.mkdir()  # a directory with a transcript name is skipped by discovery
    bad = proj / "22222222-2222-3333-4444-555555555555.jsonl"
    bad.write_bytes(b'{"type":"user"}\n')
    bad.chmod(0)
    db = new_db(tmp_path)
    res = service.run_archive(db, [str(proj)])
    assert totals(db) == CLEAN
    if res.files_failed:  # root can read a chmod 0 file; others record the failure
        assert "22222222" in res.errors[0]
