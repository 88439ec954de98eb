"""The usage aggregate (engine.archive.usage_buckets): kept up to date run by run it gives the report a cold build
gives, across sessions that share replayed messages; its migration fills an archive built before it."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from engine.actions.usage import usage_report
from engine.archive import service
from engine.archive.prices import load_prices
from engine.archive.schema import MIGRATIONS
from engine.store.migrations import apply_migrations

from ._util import new_db
from .usage_logs import assistant, claude_file, codex_file, token_count, turn_context

SID_A = "aaaaaaaa-0000-4000-8000-000000000001"
SID_B = "bbbbbbbb-0000-4000-8000-000000000002"
SID_C = "cccccccc-0000-4000-8000-000000000003"
CODEX_SID = "c0dec000-0000-4000-8000-0000000000aa"
SMALL = {"input_tokens": 1, "output_tokens": 10}
BIG = {"input_tokens": 2, "output_tokens": 500}


def _reports(db):
    prices = load_prices()
    return [usage_report(db, zone=zone, zone_name="z", prices=prices, group_by=by, **bounds).to_dict()
            for zone in (UTC, ZoneInfo("Asia/Kathmandu"))
            for by in ("day", "session", "model", "project")
            for bounds in ({}, {"since": "2026-03-02", "until": "2026-03-02"}, {"since": "2026-03-03"})]


def _first_logs(logs):
    claude_file(logs, SID_A, [
        # only a sidechain copy of msg_1 here, with a larger usage: it counts until a main copy is archived
        assistant(SID_A, "msg_1", uuid="u1s", ts="2026-03-02T23:50:00.000Z", usage=BIG, isSidechain=True,
                  agentId="btw1"),
        assistant(SID_A, "msg_2", uuid="u2", ts="2026-03-02T10:01:00.000Z", rid="req_2", usage=BIG),
        assistant(SID_A, "msg_4", uuid="u4", ts="2026-03-02T10:02:00.000Z", rid="req_4", usage=SMALL),
    ])
    claude_file(logs, SID_C, [  # shares msg_4 with A, larger: C's copy wins (and must stay won when A is rebuilt)
        assistant(SID_C, "msg_4", uuid="u4c", ts="2026-03-03T10:02:00.000Z", rid="req_4", usage=BIG),
    ])
    codex_file(logs, CODEX_SID, [
        turn_context("2026-03-02T09:00:00.000Z", "gpt-5.2-codex"),
        token_count("2026-03-02T09:00:01.000Z", {"input_tokens": 100, "cached_input_tokens": 40, "output_tokens": 7},
                    {"input_tokens": 100, "cached_input_tokens": 40, "output_tokens": 7}),
    ])


def _second_logs(logs):
    claude_file(logs, SID_B, [
        # the main copy of msg_1 (smaller): it wins over A's sidechain copy from now on
        assistant(SID_B, "msg_1", uuid="u1", ts="2026-03-03T00:10:00.000Z", usage=SMALL),
        # a replay of msg_2 with a smaller usage: A's copy keeps counting
        assistant(SID_B, "msg_2", uuid="u2b", ts="2026-03-03T10:01:00.000Z", rid="req_2", usage=SMALL),
        assistant(SID_B, "msg_5", uuid="u5", ts="2026-03-03T11:00:00.000Z", rid="req_5", usage=SMALL),
    ])


def test_a_later_run_with_replays_gives_the_report_of_a_cold_build(tmp_path):
    logs = tmp_path / "logs"
    _first_logs(logs)
    db = new_db(tmp_path, "incremental.db")
    service.run_archive(db, [str(logs)], tail_idle_seconds=0)
    before = usage_report(db, zone=UTC, zone_name="UTC", prices=load_prices(), group_by="session")
    assert {r.key: r.output_tokens for r in before.rows} == {SID_A: 500 + 500, SID_C: 500, CODEX_SID: 7}
    _second_logs(logs)
    service.run_archive(db, [str(logs)], tail_idle_seconds=0)
    cold = new_db(tmp_path, "cold.db")
    service.run_archive(cold, [str(logs)], tail_idle_seconds=0)
    after = usage_report(db, zone=UTC, zone_name="UTC", prices=load_prices(), group_by="session")
    assert {r.key: r.output_tokens for r in after.rows} == {SID_A: 500, SID_B: 10 + 10, SID_C: 500, CODEX_SID: 7}
    assert _reports(db) == _reports(cold)


def test_the_migration_fills_an_archive_built_without_the_aggregate(tmp_path):
    logs = tmp_path / "logs"
    _first_logs(logs)
    _second_logs(logs)
    db = new_db(tmp_path)
    service.run_archive(db, [str(logs)], tail_idle_seconds=0)
    expected = _reports(db)
    db.execute_sql("DROP TABLE archive_usage_buckets")  # as an archive built before archive_0009_usage_buckets
    db.execute_sql("DELETE FROM schema_migrations WHERE name = 'archive_0009_usage_buckets'")
    assert apply_migrations(db, MIGRATIONS) == ["archive_0009_usage_buckets"]
    assert db.execute_sql("SELECT count(*) FROM archive_usage_buckets").fetchone()[0] > 0
    assert _reports(db) == expected
