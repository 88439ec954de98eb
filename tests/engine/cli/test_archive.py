"""`watchkeeper archive ...` output, through real processes on tests/fixtures/conversations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "conversations"
NOTES = FIXTURES / "claude" / "projects" / "-home-dev-notes" / "5eed0000-3333-4444-8555-000000000005.jsonl"
NOTES_PROMPT = "Which notes mention the move?"


@pytest.fixture
def archived(wk_home) -> None:
    wk_home.config_file.parent.mkdir(parents=True, exist_ok=True)
    wk_home.config_file.write_text('[general]\ntimezone = "Europe/Berlin"\n')  # times shown in this zone
    cli("archive", "run", "--source", str(FIXTURES), check=True)


def test_sessions_have_a_header_row_words_for_counts_and_the_folder(archived):
    lines = cli("archive", "sessions", check=True).stdout.splitlines()
    assert lines[0].split() == ["SESSION", "SOURCE", "LAST", "ACTIVE", "PROMPTS", "REPLIES", "TOOL",
                                "CALLS", "FOLDER", "TITLE"]
    shop = next(line for line in lines if line.startswith("c0ffee00-1111"))
    assert shop.split()[:10] == ["c0ffee00-1111", "claude", "2026-03-02", "11:06", "CET", "3", "9", "7",
                                 "/home/dev/shop", "Checkout"]
    assert not any(token.startswith(("p3", "r9", "t7")) for token in shop.split())


def test_show_prints_the_first_prompt_once_and_the_folder(archived):
    out = cli("archive", "show", "c0ffee00", check=True).stdout
    assert out.count("Add a discount code field to the checkout form.") == 1
    assert "First prompt:" not in out
    assert "folder /home/dev/shop" in out and "branch main" in out
    assert "3 prompts, 9 replies, 7 tool calls (3 errors), 1 subagent" in out
    assert "Tools: Read×3, Bash×2, Agent×1, Edit×1" in out


def test_search_prints_one_hit_per_line_collapsing_newlines_and_cutting_long_text(wk_home, tmp_path):
    source = tmp_path / "notes"
    source.mkdir()
    long_prompt = "Which notes\n\nmention the move?\n" + " ".join(["and then some more words"] * 20)
    text = NOTES.read_text().replace(json.dumps(NOTES_PROMPT), json.dumps(long_prompt), 1)
    assert text != NOTES.read_text()
    (source / NOTES.name).write_text(text)
    cli("archive", "run", "--source", str(source), check=True)
    lines = cli("archive", "search", "notes", check=True).stdout.splitlines()
    assert lines[0].split() == ["SESSION", "KIND", "WHEN", "TEXT"]
    hit = next(line for line in lines[1:] if line.split()[1] == "prompt")
    assert "Which [notes] mention the move? and then" in hit
    assert hit.endswith("…") and len(hit) < 140
    assert all(line.startswith("5eed0000-3333") for line in lines[1:])


def test_run_with_a_missing_source_is_an_error_naming_the_path(wk_home, tmp_path):
    missing = tmp_path / "nowhere"
    result = cli("archive", "run", "--source", str(missing))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"error: --source: no such file or folder: {missing}\n"
    assert "no archive runs" in cli("archive", "runs", check=True).stdout


