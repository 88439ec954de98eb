"""The config watcher notices edits of config.toml (content, creation, removal), not mere reads."""

from __future__ import annotations

from engine.config_watch import ConfigWatcher, fingerprint
from tests.helpers import wait_until


def test_fingerprint_changes_with_content_and_is_none_without_a_file(tmp_path):
    path = tmp_path / "config.toml"
    assert fingerprint(path) is None
    path.write_text("a = 1\n")
    first = fingerprint(path)
    assert first is not None and fingerprint(path) == first
    path.write_text("a = 2\n")
    assert fingerprint(path) != first


def test_watcher_calls_back_once_per_edit(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("a = 1\n")
    seen: list[int] = []
    watcher = ConfigWatcher(path, lambda: seen.append(1), interval=0.05)
    watcher.start()
    try:
        path.write_text("a = 2\n")
        wait_until(lambda: len(seen) == 1, message="the edit to be noticed")
        path.unlink()
        wait_until(lambda: len(seen) == 2, message="the removal to be noticed")
    finally:
        watcher.close()


def test_an_applied_file_is_not_reported_again(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("a = 1\n")
    seen: list[int] = []
    watcher = ConfigWatcher(path, lambda: seen.append(1), interval=3600)
    path.write_text("a = 2\n")
    watcher.mark_seen()
    assert watcher._last == fingerprint(path) and seen == []
