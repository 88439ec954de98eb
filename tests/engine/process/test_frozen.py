"""engine.process.frozen: leftover _MEI folders are removed only when safe; std streams for a windowed exe."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from engine.process import frozen

OLD = time.time() - 3600


def _leftover(tmp: Path, name: str, *, marker: bool = True, age: float = OLD) -> Path:
    folder = tmp / name
    (folder / "assets").mkdir(parents=True)
    (folder / "assets" / "x.png").write_bytes(b"png")
    if marker:
        (folder / frozen.MARKER).write_text("marker")
    os.utime(folder, (age, age))
    return folder


def _no_refs() -> tuple[set[str], object]:
    return set(), lambda _p: False


def test_removes_only_our_old_unused_leftovers(tmp_path):
    own = _leftover(tmp_path, "_MEIown111")
    stale = _leftover(tmp_path, "_MEIstale1")
    foreign = _leftover(tmp_path, "_MEIforeign", marker=False)
    fresh = _leftover(tmp_path, "_MEIfresh1", age=time.time())
    named = _leftover(tmp_path, "_MEIenv111")
    mapped = _leftover(tmp_path, "_MEImapped")
    other = _leftover(tmp_path, "not_mei_dir")
    link = tmp_path / "_MEIlink11"
    link.symlink_to(stale)

    def refs():
        return {os.path.normcase(str(named))}, lambda p: p == mapped

    report = frozen.cleanup_stale_extractions(tmp_path, own=own, references=refs)
    assert report.removed == [stale]
    assert not stale.exists()
    for kept in (own, foreign, fresh, named, mapped, other):
        assert kept.exists(), kept
    assert link.is_symlink()
    assert report.skipped[fresh] == "too recent"
    assert report.skipped[named] == report.skipped[mapped] == "in use by a live process"


def test_does_nothing_from_source_unless_asked(tmp_path):
    stale = _leftover(tmp_path, "_MEIstale1")
    assert not hasattr(sys, "_MEIPASS")
    assert frozen.cleanup_stale_extractions(tmp_path, references=_no_refs).removed == []
    assert stale.exists()
    report = frozen.cleanup_stale_extractions(tmp_path, references=_no_refs, only_when_frozen=False)
    assert report.removed == [stale]


def test_live_reference_probe_sees_this_process_maps(tmp_path):
    # The real probe reads other processes' environments and mapped files; for a folder nobody
    # uses it must say "not in use", and it must never raise.
    named, in_use = frozen._live_references()
    assert isinstance(named, set)
    assert in_use(tmp_path / "_MEInobody") is False


def test_live_process_holding_a_file_in_the_folder_is_detected(tmp_path):
    folder = _leftover(tmp_path, "_MEIheld11")
    lib = folder / "lib.so"
    import shutil

    shutil.copy(sys.executable, lib)  # any mappable file
    os.utime(folder, (OLD, OLD))
    import mmap

    with open(lib, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ):
        report = frozen.cleanup_stale_extractions(tmp_path, only_when_frozen=False)
        assert folder.exists() and report.skipped[folder] == "in use by a live process"
    report = frozen.cleanup_stale_extractions(tmp_path, only_when_frozen=False)
    assert report.removed == [folder]


def test_a_half_removed_folder_is_retried(tmp_path):
    half = _leftover(tmp_path, "_MEIabc123-stale-99", marker=False)
    assert frozen.cleanup_stale_extractions(tmp_path, references=_no_refs, only_when_frozen=False).removed == [half]


def test_ensure_std_streams_replaces_none(monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    frozen.ensure_std_streams()
    sys.stdout.write("ignored")
    sys.stderr.write("ignored")
    assert sys.stdout.name == os.devnull
