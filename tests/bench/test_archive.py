"""bench/archive.py's side-by-side ccusage timing: finding the pinned native binary and
running it on a corpus (a real process standing in for ccusage)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from bench import archive


def _fake_npx_cache(home: Path, version: str, script: str) -> Path:
    pkg = home / ".npm" / "_npx" / "abc123" / "node_modules"
    (pkg / "ccusage").mkdir(parents=True)
    (pkg / "ccusage" / "package.json").write_text(json.dumps({"name": "ccusage", "version": version}))
    binary = pkg / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"
    binary.parent.mkdir(parents=True)
    binary.write_text(script)
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return binary


# Fails unless it is pointed at an existing corpus directory, as the bench must do.
_SCRIPT = """#!/bin/sh
[ -d "$CLAUDE_CONFIG_DIR" ] || exit 3
printf '{"daily": [], "totals": {"inputTokens": 7, "outputTokens": 9}}'
"""


def test_finds_the_pinned_native_binary_in_the_npx_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = _fake_npx_cache(tmp_path, archive.CCUSAGE_VERSION, _SCRIPT)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert archive.find_ccusage() == str(binary)


def test_ignores_a_cached_ccusage_of_another_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_npx_cache(tmp_path, "17.0.0", _SCRIPT)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert archive.find_ccusage() is None


def test_times_ccusage_on_the_corpus_directory(tmp_path: Path) -> None:
    binary = _fake_npx_cache(tmp_path, archive.CCUSAGE_VERSION, _SCRIPT)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    run = archive.phase_ccusage(str(binary), corpus)
    assert (run["input_tokens"], run["output_tokens"]) == (7, 9)
    assert run["seconds"] > 0 and run["cpu"] >= 0
