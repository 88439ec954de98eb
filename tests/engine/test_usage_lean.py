"""engine.usage_lean: what it leaves to the full CLI, and that its options are the archive's."""

from __future__ import annotations

from engine import usage_lean
from engine.archive import usage
from engine.archive.schema import MIGRATIONS


def test_lean_options_are_the_archive_groupings_and_agents():
    assert usage_lean._GROUPS == usage.GROUPS and usage_lean._AGENTS == usage.AGENTS


def test_leaves_other_commands_help_and_unknown_options_to_the_full_cli():
    assert usage_lean.answer(["status"]) is None
    assert usage_lean.answer(["usage", "--help"]) is None
    assert usage_lean.answer(["usage", "--js"]) is None  # an abbreviation: argparse decides
    assert usage_lean.answer(["usage", "--by", "year"]) is None


def test_lean_path_checks_the_archive_s_latest_migration():
    assert MIGRATIONS[-1].name == usage_lean.LATEST_ARCHIVE_MIGRATION
