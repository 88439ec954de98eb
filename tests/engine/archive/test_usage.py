"""Token usage from the archive: each dedup rule on a small log written here, through the real ingest into a real
SQLite file, then the usage query (engine.archive.usage) and its action (engine.actions.usage)."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from engine.actions.errors import Invalid
from engine.actions.usage import usage_report
from engine.archive import service
from engine.archive.prices import load_prices

from ._util import new_db
from .usage_logs import PROJECT, assistant, claude_file, codex_file, token_count, turn_context, write_jsonl

SID_A = "aaaaaaaa-0000-4000-8000-000000000001"
SID_B = "bbbbbbbb-0000-4000-8000-000000000002"
CODEX_SID = "c0dec000-0000-4000-8000-0000000000aa"


def _report(tmp_path, root, **kw):
    db = new_db(tmp_path)
    service.run_archive(db, [str(root)], tail_idle_seconds=0)
    kw.setdefault("zone", UTC)
    return db, usage_report(db, zone_name="UTC", prices=load_prices(), **kw)


def _tokens(totals):
    return (totals.input_tokens, totals.output_tokens, totals.cache_creation_tokens, totals.cache_read_tokens)


def test_split_lines_of_one_message_count_once_with_their_final_usage(tmp_path):
    partial = {"input_tokens": 3, "output_tokens": 3, "cache_read_input_tokens": 12610}
    final = {"input_tokens": 3, "output_tokens": 278, "cache_read_input_tokens": 12610}
    claude_file(tmp_path / "logs", SID_A, [
        assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z", usage=partial, stop=None),
        assistant(SID_A, "msg_1", uuid="u2", ts="2026-03-02T10:00:01.000Z", usage=partial, stop=None),
        assistant(SID_A, "msg_1", uuid="u3", ts="2026-03-02T10:00:02.000Z", usage=final),
    ])
    _, report = _report(tmp_path, tmp_path / "logs")
    assert _tokens(report.totals) == (3, 278, 0, 12610)


def test_resumed_session_replaying_a_message_counts_it_once(tmp_path):
    logs = tmp_path / "logs"
    first = assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z")
    claude_file(logs, SID_A, [first])
    claude_file(logs, SID_B, [  # the resumed session repeats msg_1 (same request), then answers anew
        {**first, "sessionId": SID_B, "uuid": "u1b"},
        assistant(SID_B, "msg_2", uuid="u2", ts="2026-03-02T11:00:00.000Z", rid="req_2"),
    ])
    db, report = _report(tmp_path, logs)
    assert db.execute_sql("SELECT count(*) FROM archive_messages").fetchone()[0] == 3  # stored per session
    assert _tokens(report.totals) == (20, 200, 100, 2000)
    by_session = usage_report(db, zone=UTC, zone_name="UTC", prices=load_prices(), group_by="session")
    assert {r.key: r.output_tokens for r in by_session.rows} == {SID_A: 100, SID_B: 100}


def test_a_session_holding_only_replays_is_no_row(tmp_path):
    logs = tmp_path / "logs"
    first = assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z")
    claude_file(logs, SID_A, [first])
    claude_file(logs, SID_B, [{**first, "sessionId": SID_B, "uuid": "u1b"}])
    _, report = _report(tmp_path, logs, group_by="session")
    assert [(r.key, r.output_tokens) for r in report.rows] == [(SID_A, 100)]


def test_a_replay_counts_at_its_kept_copy_even_when_the_range_holds_only_the_other(tmp_path):
    logs = tmp_path / "logs"
    first = assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z")
    claude_file(logs, SID_A, [first])
    claude_file(logs, SID_B, [{**first, "sessionId": SID_B, "uuid": "u1b", "timestamp": "2026-03-05T10:00:00.000Z"}])
    db, report = _report(tmp_path, logs, since="2026-03-05")
    assert report.rows == () and report.totals.output_tokens == 0
    whole = usage_report(db, zone=UTC, zone_name="UTC", prices=load_prices())
    assert [(r.key, r.output_tokens) for r in whole.rows] == [("2026-03-02", 100)]


def test_days_in_a_half_hour_zone_are_exact(tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID_A, [
        assistant(SID_A, "m1", uuid="u1", ts="2026-03-01T18:20:00.000Z", rid="r1"),  # 23:50 in Kolkata
        assistant(SID_A, "m2", uuid="u2", ts="2026-03-01T18:40:00.000Z", rid="r2"),  # 00:10 the next day
    ])
    _, report = _report(tmp_path, logs, zone=ZoneInfo("Asia/Kolkata"))
    assert [(r.key, r.output_tokens) for r in report.rows] == [("2026-03-01", 100), ("2026-03-02", 100)]


def test_replay_without_request_id_is_deduplicated_by_message_id(tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID_A, [assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z", rid=None)])
    claude_file(logs, SID_B, [assistant(SID_B, "msg_1", uuid="u1b", ts="2026-03-02T10:00:00.000Z", rid=None)])
    _, report = _report(tmp_path, logs)
    assert report.totals.output_tokens == 100


def test_same_message_with_another_request_id_counts_twice(tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID_A, [assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z", rid="req_1")])
    claude_file(logs, SID_B, [assistant(SID_B, "msg_1", uuid="u1b", ts="2026-03-02T10:00:00.000Z", rid="req_9")])
    _, report = _report(tmp_path, logs)
    assert report.totals.output_tokens == 200


def test_replayed_copies_keep_the_main_one_then_the_larger_total(tmp_path):
    logs = tmp_path / "logs"
    small = {"input_tokens": 1, "output_tokens": 10}
    big = {"input_tokens": 1, "output_tokens": 500}
    claude_file(logs, SID_A, [
        assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z", usage=small),
        # a /btw sidechain replays msg_1 with a larger usage: the main copy still wins
        assistant(SID_A, "msg_1", uuid="u1s", ts="2026-03-02T10:00:05.000Z", usage=big, isSidechain=True,
                  agentId="btw1"),
        assistant(SID_A, "msg_2", uuid="u2", ts="2026-03-02T10:01:00.000Z", rid="req_2", usage=small),
    ])
    claude_file(logs, SID_B, [  # a resumed copy of msg_2 with a larger (final) usage: the larger total wins
        assistant(SID_B, "msg_2", uuid="u2b", ts="2026-03-02T10:01:00.000Z", rid="req_2", usage=big),
    ])
    _, report = _report(tmp_path, logs)
    assert report.totals.output_tokens == 10 + 500


def test_subagent_file_counts_once_under_its_parent_session(tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID_A, [assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z")])
    write_jsonl(logs / "projects" / PROJECT / SID_A / "subagents" / "agent-a1.jsonl", [
        assistant(SID_A, "msg_sub", uuid="s1", ts="2026-03-02T10:00:30.000Z", rid="req_s", isSidechain=True,
                  agentId="a1", model="claude-haiku-4-5"),
    ])
    _, report = _report(tmp_path, logs, group_by="session")
    assert [(r.key, r.output_tokens, r.models) for r in report.rows] == [
        (SID_A, 200, ("claude-haiku-4-5", "claude-sonnet-4-5"))]


def test_api_errors_and_synthetic_messages_count_but_are_never_listed_or_priced(tmp_path):
    logs = tmp_path / "logs"
    zero = {"input_tokens": 0, "output_tokens": 0}
    claude_file(logs, SID_A, [
        assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z"),
        assistant(SID_A, "msg_err", uuid="u2", ts="2026-03-02T10:00:10.000Z", rid=None, model="<synthetic>",
                  usage=zero, isApiErrorMessage=True),
    ])
    _, report = _report(tmp_path, logs, group_by="day")
    assert report.rows[0].models == ("claude-sonnet-4-5",)
    assert report.unpriced == () and report.totals.cost_usd is not None
    assert report.totals.output_tokens == 100


def test_line_with_a_lone_surrogate_is_recorded_bad_and_still_counts_its_usage(tmp_path):
    logs = tmp_path / "logs"
    line = assistant(SID_A, "msg_2", uuid="u2", ts="2026-03-02T10:05:00.000Z", rid="req_2")
    line["message"]["content"] = [{"type": "text", "text": "PLACEHOLDER"}]
    raw = __import__("json").dumps(line).replace("PLACEHOLDER", "broken \\ud83d emoji")
    claude_file(logs, SID_A, [assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z")], raw_lines=(raw,))
    db, report = _report(tmp_path, logs)
    assert db.execute_sql("SELECT count(*) FROM archive_bad_lines").fetchone()[0] == 1  # the record is kept
    assert report.totals.output_tokens == 200


def test_codex_input_excludes_cached_input_and_takes_the_turn_context_model(tmp_path):
    logs = tmp_path / "logs"
    codex_file(logs, CODEX_SID, [
        token_count("2026-03-04T09:00:01.000Z", {"input_tokens": 100, "cached_input_tokens": 40, "output_tokens": 7},
                    {"input_tokens": 100, "cached_input_tokens": 40, "output_tokens": 7}),
        turn_context("2026-03-04T09:00:02.000Z", "gpt-5-codex"),
        token_count("2026-03-04T09:00:03.000Z",
                    {"input_tokens": 1000, "cached_input_tokens": 600, "output_tokens": 50,
                     "reasoning_output_tokens": 30},
                    {"input_tokens": 1100, "cached_input_tokens": 640, "output_tokens": 57}),
    ])
    _, report = _report(tmp_path, logs, group_by="model", agent="codex")
    rows = {r.key: (r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens, r.cost_usd)
            for r in report.rows}
    assert rows == {"gpt-5-codex": (400, 50, 0, 600, pytest.approx((400 * 1.25 + 50 * 10 + 600 * 0.125) / 1e6)),
                    "unknown": (60, 7, 0, 40, None)}
    assert report.unpriced == ("unknown",)


def test_a_codex_event_naming_its_own_model_is_counted_under_it(tmp_path):
    """Newer Codex writes ``info.model`` on each token_count: it wins over the last turn_context (as in ccusage)."""
    logs = tmp_path / "logs"
    codex_file(logs, CODEX_SID, [
        turn_context("2026-03-04T09:00:00.000Z", "gpt-5.2-codex"),
        token_count("2026-03-04T09:00:01.000Z", {"input_tokens": 10, "output_tokens": 1},
                    {"input_tokens": 10, "output_tokens": 1}, model="gpt-5.2-codex"),
        token_count("2026-03-05T09:00:01.000Z", {"input_tokens": 20, "output_tokens": 2},
                    {"input_tokens": 30, "output_tokens": 3}, model="gpt-5.3-codex"),
    ])
    _, report = _report(tmp_path, logs, group_by="model", agent="codex")
    assert {r.key: r.input_tokens for r in report.rows} == {"gpt-5.2-codex": 10, "gpt-5.3-codex": 20}


def test_agent_filter_keeps_one_agent(tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID_A, [assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z")])
    codex_file(logs, CODEX_SID, [turn_context("2026-03-04T09:00:00.500Z", "gpt-5"), token_count(
        "2026-03-04T09:00:01.000Z", {"input_tokens": 5, "output_tokens": 5}, {"input_tokens": 5, "output_tokens": 5})])
    db = new_db(tmp_path)
    service.run_archive(db, [str(logs)], tail_idle_seconds=0)
    prices = load_prices()

    def out(agent):
        return usage_report(db, zone=UTC, zone_name="UTC", prices=prices, agent=agent).totals.output_tokens

    assert (out("claude"), out("codex"), out(None)) == (100, 5, 105)


def test_days_are_local_and_since_until_include_both_ends(tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID_A, [
        assistant(SID_A, "m1", uuid="u1", ts="2026-03-01T22:30:00.000Z", rid="r1"),  # 2026-03-01 23:30 Berlin
        assistant(SID_A, "m2", uuid="u2", ts="2026-03-01T23:30:00.000Z", rid="r2"),  # 2026-03-02 00:30 Berlin
        assistant(SID_A, "m3", uuid="u3", ts="2026-03-02T22:59:59.000Z", rid="r3"),  # 2026-03-02 23:59 Berlin
        assistant(SID_A, "m4", uuid="u4", ts="2026-03-09T10:00:00.000Z", rid="r4"),  # the next ISO week
    ])
    berlin = ZoneInfo("Europe/Berlin")
    db, report = _report(tmp_path, logs, zone=berlin)
    assert [(r.key, r.output_tokens) for r in report.rows] == [
        ("2026-03-01", 100), ("2026-03-02", 200), ("2026-03-09", 100)]
    prices = load_prices()
    one_day = usage_report(db, zone=berlin, zone_name="Europe/Berlin", prices=prices,
                           since="2026-03-02", until="2026-03-02")
    assert [(r.key, r.output_tokens) for r in one_day.rows] == [("2026-03-02", 200)]
    weeks = usage_report(db, zone=berlin, zone_name="Europe/Berlin", prices=prices, group_by="week")
    assert [(r.key, r.output_tokens) for r in weeks.rows] == [  # keyed by the Monday
        ("2026-02-23", 100), ("2026-03-02", 200), ("2026-03-09", 100)]
    months = usage_report(db, zone=berlin, zone_name="Europe/Berlin", prices=prices, group_by="month")
    assert [(r.key, r.output_tokens) for r in months.rows] == [("2026-03", 400)]


def test_cost_follows_the_price_table(tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID_A, [assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z",
                                        model="claude-sonnet-4-5-20250929")])
    _, report = _report(tmp_path, logs, group_by="model")
    # 10 input x $3, 100 output x $15, 50 cache write x $3.75, 1000 cache read x $0.30 per million
    assert report.totals.cost_usd == pytest.approx((10 * 3 + 100 * 15 + 50 * 3.75 + 1000 * 0.3) / 1e6)
    assert report.rows[0].key == "claude-sonnet-4-5-20250929" and report.unpriced == ()


def test_cost_of_two_models_with_different_prices_is_the_hand_computed_sum(tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID_A, [
        assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z", model="claude-opus-4-7",
                  usage={"input_tokens": 2000, "output_tokens": 30000, "cache_creation_input_tokens": 40000,
                         "cache_read_input_tokens": 500000}),
        assistant(SID_A, "msg_2", uuid="u2", ts="2026-03-02T10:01:00.000Z", rid="req_2", model="claude-haiku-4-5",
                  usage={"input_tokens": 1000, "output_tokens": 8000, "cache_creation_input_tokens": 6000,
                         "cache_read_input_tokens": 100000}),
    ])
    codex_file(logs, CODEX_SID, [turn_context("2026-03-04T09:00:00.500Z", "gpt-5.2"), token_count(
        "2026-03-04T09:00:01.000Z",
        {"input_tokens": 50000, "cached_input_tokens": 20000, "output_tokens": 4000, "reasoning_output_tokens": 1000},
        {"input_tokens": 50000, "cached_input_tokens": 20000, "output_tokens": 4000, "reasoning_output_tokens": 1000})])
    _, report = _report(tmp_path, logs, group_by="model")
    # USD per million: opus 4.7 5 / 25 / 6.25 / 0.5; haiku 4.5 1 / 5 / 1.25 / 0.1; gpt-5.2 1.75 / 14 / - / 0.175
    # (Codex: 30,000 uncached input, 20,000 cached, reasoning inside the 4,000 output)
    opus = 0.01 + 0.75 + 0.25 + 0.25
    haiku = 0.001 + 0.04 + 0.0075 + 0.01
    gpt = 0.0525 + 0.056 + 0.0035
    costs = {r.key: r.cost_usd for r in report.rows}
    assert costs == {"claude-opus-4-7": pytest.approx(opus), "claude-haiku-4-5": pytest.approx(haiku),
                     "gpt-5.2": pytest.approx(gpt)}
    assert report.totals.cost_usd == pytest.approx(opus + haiku + gpt) and report.unpriced == ()


def test_one_hour_cache_writes_are_priced_at_their_own_rate_and_a_replay_still_counts_once(tmp_path):
    logs = tmp_path / "logs"
    line = {"input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 4000,
            "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 3000}}
    claude_file(logs, SID_A, [assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z",
                                        model="claude-opus-4-7", usage=line)])
    claude_file(logs, SID_B, [assistant(SID_B, "msg_1", uuid="u1b", ts="2026-03-02T11:00:00.000Z",
                                        model="claude-opus-4-7", usage=line)])  # a resumed session's replay
    _, report = _report(tmp_path, logs, group_by="model")
    # opus 4.7: 5-minute writes 6.25, 1-hour writes 10 USD per million
    assert report.totals.cache_creation_tokens == 4000
    assert report.totals.cost_usd == pytest.approx((1000 * 6.25 + 3000 * 10.0) / 1e6)


def test_since_after_until_is_refused_naming_both(tmp_path):
    db = new_db(tmp_path)
    with pytest.raises(Invalid, match="2026-03-05 is after --until 2026-03-01"):
        usage_report(db, zone=UTC, zone_name="UTC", prices=load_prices(), since="2026-03-05", until="2026-03-01")
    with pytest.raises(Invalid, match="--since: '2026-02-30' is not a date"):
        usage_report(db, zone=UTC, zone_name="UTC", prices=load_prices(), since="2026-02-30")


def test_a_row_with_an_unpriced_model_and_synthetic_messages_has_no_cost(tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID_A, [
        assistant(SID_A, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z", model="claude-next-9"),
        assistant(SID_A, "msg_err", uuid="u2", ts="2026-03-02T10:00:10.000Z", rid=None, model="<synthetic>",
                  usage={"input_tokens": 0, "output_tokens": 0}, isApiErrorMessage=True),
    ])
    _, report = _report(tmp_path, logs)
    assert report.rows[0].cost_usd is None and report.totals.cost_usd is None
    assert report.unpriced == ("claude-next-9",)
