"""The project's own transcript fixtures archive to exactly the counts they were written for.

Every file under tests/fixtures/conversations (see its README) is listed here with the counts
its records give by the archive's counting rules: human prompts, API responses, tool calls,
tool results, tool errors, bad lines and non-object lines.
"""

from __future__ import annotations

import pytest

from engine.archive import service

from ._util import CLAUDE, CODEX, FIXTURES, ROLLOUT, SHOP_ID, UPLOADS, UPLOADS_ID, new_db, totals


def _c(prompts=0, api=0, tu=0, tr=0, err=0, bad=0, nonobj=0):
    return {"prompts": prompts, "api": api, "tu": tu, "tr": tr, "err": err, "bad": bad,
            "nonobj": nonobj}


EXPECTED = {
    f"claude/projects/-home-dev-shop/{SHOP_ID}.jsonl": _c(3, 6, 5, 5, 2),
    f"claude/projects/-home-dev-shop/{SHOP_ID}/subagents/agent-a5b0c0ffee0000001.jsonl":
        _c(0, 3, 2, 2, 1),
    f"claude/projects/-home-dev-uploads/{UPLOADS_ID}.jsonl": _c(2, 5, 3, 3, 1),
    "claude/projects/-home-dev-uploads/01d5e550-2222-4333-8444-000000000003.jsonl": _c(2, 2),
    "claude/projects/-home-dev-uploads/01d5e550-2222-4333-8444-000000000004.jsonl": _c(),
    "claude/projects/-home-dev-uploads/agent-1e9ac7a1.jsonl": _c(0, 2, 1, 1),
    "claude/projects/-home-dev-uploads/agent-3a4b5c6d.jsonl": _c(0, 1),
    "claude/projects/-home-dev-notes/5eed0000-3333-4444-8555-000000000005.jsonl": _c(1, 4, 2, 2),
    "claude/projects/-home-dev-dag/da900000-0000-4000-8000-000000000002.jsonl": _c(3, 3),
    "claude/projects/-home-dev-dag/f0a40000-0000-4000-8000-000000000003.jsonl": _c(4, 4),
    "claude/projects/-home-dev-odd/0dd00000-4444-4555-8666-000000000006.jsonl": _c(3, 2, bad=1,
                                                                                  nonobj=3),
    "codex/sessions/2026/03/04/rollout-2026-03-04T09-00-00-c0dec000-0000-4000-8000-000000000001.jsonl":
        _c(3, 3, 4, 4, 1),
    "codex/sessions/2026/03/05/rollout-2026-03-05T14-00-00-c0dec000-0000-4000-8000-000000000002.jsonl":
        _c(1, 1, 1, 1),
    # The child thread replays one prompt and the spawn call of its parent: not its own.
    "codex/sessions/2026/03/05/rollout-2026-03-05T14-00-04-c0dec000-0000-4000-8000-000000000003.jsonl":
        _c(1, 1),
    "codex/branch-history/2026-03-06T08-00-00-parent.jsonl": _c(),
    "codex/branch-history/2026-03-06T08-02-00-branch.jsonl": _c(),
    "codex/archived_sessions/rollout-2025-12-01T08-00-00-c0dec000-0000-4000-8000-000000000006.jsonl":
        _c(1, 1),
    "codex/malformed/rollout-2026-03-07T11-00-00-c0dec000-0000-4000-8000-000000000007.jsonl":
        _c(1, 1, bad=1),
}


def _sessions(db):
    return {s["session_id"]: s for s in service.list_sessions(db, 100)}


def test_expected_counts_list_every_fixture_file():
    on_disk = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.jsonl")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_each_fixture_archives_to_its_expected_counts(tmp_path, rel):
    db = new_db(tmp_path)
    res = service.run_archive(db, [str(FIXTURES / rel)], tail_idle_seconds=0)
    want = EXPECTED[rel]
    assert res.errors == [] and res.files_failed == 0
    assert totals(db) == {k: want[k] for k in ("prompts", "api", "tu", "tr", "err")}
    assert res.bad_lines == want["bad"] + want["nonobj"]


def test_whole_fixture_tree_archives_in_one_run(tmp_path):
    db = new_db(tmp_path)
    res = service.run_archive(db, [str(FIXTURES)], tail_idle_seconds=0)
    assert res.errors == [] and res.files_failed == 0
    assert res.files_seen == res.files_parsed == len(EXPECTED)
    assert res.bad_lines == sum(c["bad"] + c["nonobj"] for c in EXPECTED.values())
    assert totals(db) == {k: sum(c[k] for c in EXPECTED.values())
                          for k in ("prompts", "api", "tu", "tr", "err")}
    # Sessions with no message at all (the zero-byte file, the token-only branch files) are
    # archived but not listed.
    assert len(service.list_sessions(db, 100)) == 16


def test_main_file_and_subagent_file_are_one_session_with_a_linked_subagent(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(CLAUDE / "-home-dev-shop")], tail_idle_seconds=0)
    (s,) = service.list_sessions(db, 10)
    assert (s["session_id"], s["human_prompts"], s["api_responses"], s["tool_calls"],
            s["tool_results"], s["tool_errors"], s["subagents"]) == (SHOP_ID, 3, 9, 7, 7, 3, 1)
    view = service.show_session(db, SHOP_ID)
    assert view is not None
    (sub,) = view.subagents
    assert (sub["agent_id"], sub["agent_type"], sub["description"], sub["tool_use_id"]) == (
        "a5b0c0ffee0000001", "code-reviewer", "Review discount code", "toolu_shop_04")
    assert sub["file_path"].endswith("subagents/agent-a5b0c0ffee0000001.jsonl")
    # The subagent ran in a worktree: its cwd does not replace the session's.
    assert (s["cwd"], s["git_branch"], s["cli_version"], s["project"]) == (
        "/home/dev/shop", "main", "2.1.120", "-home-dev-shop")
    assert s["title"] == "Checkout discount code"  # from the ai-title record
    errors = sorted(t.tool_use_id for t in view.tool_calls if t.is_error)
    assert errors == ["toolu_rev_02", "toolu_shop_02", "toolu_shop_05"]
    assert all(t.has_result for t in view.tool_calls)


def test_split_assistant_lines_count_once_with_the_largest_usage(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(CLAUDE / "-home-dev-shop")], tail_idle_seconds=0)
    (s,) = service.list_sessions(db, 10)
    # Per message the largest output count of its lines: 87+40+25+30+55+60 in the main file,
    # 41+33+70 in the subagent's; the synthetic API error counts for nothing.
    assert s["output_tokens"] == 297 + 144
    assert s["input_tokens"] == 9 * 12 and s["cache_read_tokens"] == 6 * 3000 + 3 * 900
    assert s["output_tokens_is_lower_bound"] is False
    view = service.show_session(db, SHOP_ID)
    first = view.turns[0]
    assert (first.prompt, first.tool_calls) == (
        "Add a discount code field to the checkout form.", 3)
    assert first.final_answer == "Added an optional discount code to checkout()."


def test_wrappers_interrupts_meta_and_compact_summaries_are_not_prompts(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(CLAUDE / "-home-dev-shop"), str(UPLOADS)], tail_idle_seconds=0)
    prompts = [t.prompt for t in service.show_session(db, SHOP_ID).turns]
    assert prompts == ["Add a discount code field to the checkout form.",
                       "Now write a test for it and ask a reviewer to check the change.",
                       "Here is a screenshot of the failing test."]
    prompts = [t.prompt for t in service.show_session(db, UPLOADS_ID).turns]
    assert prompts == ["Find every place that writes to /tmp in the upload code.",
                       "Replace both with the configured upload folder."]


def test_legacy_agent_files_link_to_their_session_and_warmups_do_not_count(tmp_path):
    db = new_db(tmp_path)
    res = service.run_archive(db, [str(UPLOADS)], tail_idle_seconds=0)
    assert res.files_seen == 5 and res.errors == []
    s = _sessions(db)[UPLOADS_ID]
    assert (s["human_prompts"], s["api_responses"], s["tool_calls"], s["tool_errors"],
            s["subagents"]) == (2, 8, 4, 1, 1)
    subs = {x["agent_id"]: x for x in service.show_session(db, UPLOADS_ID).subagents}
    assert subs["1e9ac7a1"]["tool_use_id"] == "toolu_old_01" and not subs["1e9ac7a1"]["is_warmup"]
    assert subs["3a4b5c6d"]["is_warmup"]
    # One answer never got a final usage: the session's output count is a lower bound.
    assert s["output_tokens_is_lower_bound"] is True


def test_summary_lines_title_the_session_their_leaf_uuid_names(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(UPLOADS)], tail_idle_seconds=0)
    sessions = _sessions(db)
    assert sessions["01d5e550-2222-4333-8444-000000000003"]["title"] == "Upload test isolation"
    # The file holding the summaries is not described by them: its title is its first prompt.
    assert sessions[UPLOADS_ID]["title"] == "Find every place that writes to /tmp in the upload code."
    assert "01d5e550-2222-4333-8444-000000000004" not in sessions  # the zero-byte file


def test_inline_sidechain_is_counted_apart_from_the_prompts(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(CLAUDE / "-home-dev-notes")], tail_idle_seconds=0)
    (s,) = service.list_sessions(db, 10)
    assert (s["human_prompts"], s["api_responses"], s["tool_calls"], s["subagents"]) == (1, 4, 2, 0)
    (turn,) = service.show_session(db, s["session_id"]).turns
    assert turn.final_answer == "The move is mentioned in the notes of 12 and 20 June."


@pytest.mark.parametrize(("name", "counts"), [
    ("da900000-0000-4000-8000-000000000002.jsonl", {"da900000-0000-4000-8000-000000000001": 2,
                                                    "da900000-0000-4000-8000-000000000002": 1}),
    ("f0a40000-0000-4000-8000-000000000003.jsonl", {"f0a40000-0000-4000-8000-000000000001": 2,
                                                    "f0a40000-0000-4000-8000-000000000002": 1,
                                                    "f0a40000-0000-4000-8000-000000000003": 1}),
])
def test_resumed_and_forked_files_are_split_by_session_id(tmp_path, name, counts):
    db = new_db(tmp_path)
    service.run_archive(db, [str(CLAUDE / "-home-dev-dag" / name)], tail_idle_seconds=0)
    assert {k: v["human_prompts"] for k, v in _sessions(db).items()} == counts
    assert {k: v["api_responses"] for k, v in _sessions(db).items()} == counts


def test_odd_records_are_kept_and_a_line_from_another_session_goes_there(tmp_path):
    db = new_db(tmp_path)
    res = service.run_archive(db, [str(CLAUDE / "-home-dev-odd")], tail_idle_seconds=0)
    assert res.errors == [] and res.bad_lines == 4
    sessions = _sessions(db)
    main = sessions["0dd00000-4444-4555-8666-000000000006"]
    assert (main["human_prompts"], main["api_responses"]) == (3, 1)
    assert main["interrupted_reason"] == "prompt without answer"
    assert main["title"] == "Say hello in three languages: café, 日本語, emoji 🎉."
    other = sessions["0dd00000-4444-4555-8666-000000000007"]
    assert (other["human_prompts"], other["api_responses"]) == (0, 1)
    assert service.search(db, "こんにちは")[0]["session_id"] == main["session_id"]


def test_codex_duplicate_channels_count_each_message_once(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(ROLLOUT)], tail_idle_seconds=0)
    (s,) = service.list_sessions(db, 10)
    view = service.show_session(db, s["session_id"])
    assert [(t.prompt, t.final_answer, t.tool_calls) for t in view.turns] == [
        ("Why is GET /orders slow?",
         "The handler loaded every order; it now pages them, 100 at a time.", 3),
        ("Run the tests again.", "All tests pass.", 1),
        ("Once more, please.", "All tests pass.", 0),  # the same text again, not a duplicate
    ]
    assert [(t.tool_use_id, t.has_result, t.is_error) for t in view.tool_calls] == [
        ("call_cx_01", True, False), ("call_cx_02", True, True), ("call_cx_03", True, False),
        ("call_cx_04", True, False)]
    assert (s["cwd"], s["git_branch"], s["cli_version"]) == ("/home/dev/api", "perf", "0.80.0")
    assert service.search(db, "ENCRYPTED") == [] and service.search(db, "AGENTS") == []


def test_codex_token_counts_sum_the_last_usage_of_each_event(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(ROLLOUT)], tail_idle_seconds=0)
    (s,) = service.list_sessions(db, 10)
    assert (s["input_tokens"], s["output_tokens"], s["cache_read_tokens"]) == (2500, 520, 350)


def test_codex_child_thread_links_its_parent_and_skips_the_replayed_prefix(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(CODEX / "sessions/2026/03/05")], tail_idle_seconds=0)
    child = _sessions(db)["c0dec000-0000-4000-8000-000000000003"]
    assert child["parent_session_id"] == "c0dec000-0000-4000-8000-000000000002"
    assert (child["human_prompts"], child["tool_calls"]) == (1, 0)
    assert child["title"] == "Write part two of the report."


def test_codex_branch_replay_does_not_double_count_tokens(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(CODEX / "branch-history")], tail_idle_seconds=0)
    total = db.execute_sql(
        "SELECT sum(input_tokens), sum(output_tokens) FROM conversation_archive_sessions"
    ).fetchone()
    assert total == (1600, 450)  # the branch's final cumulative total, not 1000 + 1600


def test_codex_legacy_flat_rollout_is_read(tmp_path):
    db = new_db(tmp_path)
    service.run_archive(db, [str(CODEX / "archived_sessions")], tail_idle_seconds=0)
    (turn,) = service.show_session(db, "c0dec000-0000-4000-8000-000000000006").turns
    assert (turn.prompt, turn.final_answer) == ("Open the old notes.", "The old notes are open.")


def test_codex_malformed_line_is_recorded_by_position_without_content(tmp_path):
    db = new_db(tmp_path)
    res = service.run_archive(db, [str(CODEX / "malformed")], tail_idle_seconds=0)
    assert res.bad_lines == 1
    rows = db.execute_sql("SELECT line_no, kind, error FROM archive_bad_lines").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(3, "json")]
    assert "cut off" not in rows[0][2]
    (turn,) = service.show_session(db, "c0dec000-0000-4000-8000-000000000007").turns
    assert (turn.prompt, turn.final_answer) == ("Safe line before the broken one.",
                                                "Safe line after the broken one.")
