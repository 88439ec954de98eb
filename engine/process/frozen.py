"""Helpers for the PyInstaller one-file build: is this frozen, usable std streams in a windowed
exe, and removal of leftover ``_MEIxxxxxx`` extraction folders from killed runs.

A one-file exe unpacks itself into ``<temp>/_MEIxxxxxx`` on every start and deletes that folder
on a normal exit; a killed run (Task Manager, forced logoff, SIGKILL) leaves it behind (60-120 MB
each). :func:`cleanup_stale_extractions` removes such leftovers at the next start, under a rule
that never touches a folder a live process may still use:

1. the name matches ``_MEI*`` and it is a real directory (not a symlink) in the temp folder
   that holds our own extraction (``dirname(sys._MEIPASS)``, else ``tempfile.gettempdir()``);
2. it is not our own ``sys._MEIPASS``;
3. it holds ``watchkeeper.bundle`` (the marker the spec bundles), so other PyInstaller apps'
   folders are never touched;
4. on POSIX it is owned by the current user;
5. it was last modified more than ``min_age`` seconds ago (default 10 min: a bootloader that is
   still extracting, before its Python child exists, is not mistaken for a leftover);
6. no live process references it: no process's environment names it
   (``_PYI_APPLICATION_HOME_DIR``/``_MEIPASS2``, set by the bootloader for its child), and no
   process has a file mapped from inside it (the child maps libpython/python3x.dll from there);
7. it can be renamed (on Windows a folder with a loaded DLL cannot be: the final guard). The
   renamed folder keeps the ``_MEI`` prefix, so a half-finished delete is retried next start.

Everything is best effort: any error skips that folder; nothing is raised to the caller.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("watchkeeper")

MARKER = "watchkeeper.bundle"
PREFIX = "_MEI"
DEFAULT_MIN_AGE = 600.0
_ENV_KEYS = ("_PYI_APPLICATION_HOME_DIR", "_MEIPASS2", "_PYI_ARCHIVE_FILE")


def bundle_dir() -> Path | None:
    """The running one-file extraction folder (``sys._MEIPASS``), or None from source."""
    root = getattr(sys, "_MEIPASS", None)
    return Path(root) if root else None


_no_console = False


def has_console() -> bool:
    """False in the windowed build started without a console (what it prints reaches no one)."""
    return not _no_console


def mark_no_console() -> None:
    """Record that this process has no console (the windowed entry point replaced its std streams)."""
    global _no_console
    _no_console = True


def ensure_std_streams() -> None:
    """Give a windowed exe (``console=False``: ``sys.stdout``/``stderr`` are None) usable streams.

    Started from a console (cmd, PowerShell), attach to it so ``watchkeeper.exe startup status``
    prints like the source CLI; otherwise write to the null device so ``sys.stdout.write`` never
    raises. A no-op when both streams exist (console builds, source runs, redirected output).
    """
    if sys.stdout is not None and sys.stderr is not None:
        return
    attached = sys.platform == "win32" and _attach_parent_console()
    if not attached:
        mark_no_console()
    target = "CONOUT$" if attached else os.devnull
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            try:
                setattr(sys, name, open(target, "w", encoding="utf-8", errors="replace"))  # noqa: SIM115
            except OSError:
                setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def _attach_parent_console() -> bool:  # pragma: no cover - Windows only
    import ctypes

    attach_parent_process = -1
    try:
        return bool(ctypes.windll.kernel32.AttachConsole(attach_parent_process))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return False


@dataclass
class CleanupReport:
    """What :func:`cleanup_stale_extractions` did, for the log and tests."""

    removed: list[Path] = field(default_factory=list)
    skipped: dict[Path, str] = field(default_factory=dict)


def _live_references() -> tuple[set[str], Callable[[Path], bool]]:
    """Extraction folders named in live processes' environments, and a mapped-file probe."""
    named: set[str] = set()
    mapped: list[str] = []
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return named, lambda _p: True  # cannot tell: treat everything as in use
    for proc in psutil.process_iter():
        try:
            env = proc.environ()
        except (psutil.Error, OSError):
            env = {}
        for key in _ENV_KEYS:
            value = env.get(key)
            if value:
                named.add(os.path.normcase(os.path.abspath(value)))
        try:
            mapped.extend(m.path for m in proc.memory_maps(grouped=True) if PREFIX in m.path)
        except (psutil.Error, OSError, NotImplementedError):  # psutil raises the last where memory maps are unsupported
            pass
    norm = [os.path.normcase(p) for p in mapped]

    def in_use(folder: Path) -> bool:
        prefix = os.path.normcase(str(folder)) + os.sep
        return any(p.startswith(prefix) for p in norm)

    return named, in_use


def cleanup_stale_extractions(
    temp_dir: Path | None = None,
    *,
    own: Path | None = None,
    min_age: float = DEFAULT_MIN_AGE,
    now: float | None = None,
    references: Callable[[], tuple[set[str], Callable[[Path], bool]]] = _live_references,
    only_when_frozen: bool = True,
) -> CleanupReport:
    """Remove leftover one-file extraction folders of Watchkeeper (rule in the module docstring).

    From source (not frozen) this does nothing unless ``only_when_frozen=False`` (tests).
    """
    report = CleanupReport()
    try:
        own = own if own is not None else bundle_dir()
        if only_when_frozen and own is None:
            return report
        if temp_dir is None:
            temp_dir = own.parent if own is not None else Path(tempfile.gettempdir())
        now = time.time() if now is None else now
        candidates = list(_candidates(temp_dir, own, min_age, now, report))
        if not candidates:
            return report
        named, in_use = references()
        for folder in candidates:
            key = os.path.normcase(os.path.abspath(folder))
            if key in named or in_use(folder):
                report.skipped[folder] = "in use by a live process"
                continue
            _remove(folder, report)
    except Exception:  # noqa: BLE001 - best effort, never break start-up
        log.debug("leftover extraction cleanup failed", exc_info=True)
    for folder in report.removed:
        log.info("removed leftover one-file extraction folder %s", folder)
    return report


def _candidates(temp_dir: Path, own: Path | None, min_age: float, now: float,
                report: CleanupReport) -> Iterable[Path]:
    own_key = os.path.normcase(os.path.abspath(own)) if own is not None else None
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        entries = list(os.scandir(temp_dir))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        folder = Path(entry.path)
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            if os.path.normcase(os.path.abspath(folder)) == own_key:
                continue
            if "-stale-" not in entry.name and not (folder / MARKER).is_file():
                continue
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if uid is not None and st.st_uid != uid:
            report.skipped[folder] = "owned by another user"
            continue
        if now - st.st_mtime < min_age:
            report.skipped[folder] = "too recent"
            continue
        yield folder


def _remove(folder: Path, report: CleanupReport) -> None:
    doomed = folder.with_name(f"{folder.name}-stale-{os.getpid()}") if "-stale-" not in folder.name else folder
    try:
        if doomed != folder:
            os.rename(folder, doomed)  # fails on Windows while a DLL inside is loaded
    except OSError as exc:
        report.skipped[folder] = f"cannot rename: {exc}"
        return
    shutil.rmtree(doomed, ignore_errors=True)
    if doomed.exists():
        report.skipped[folder] = "partly removed; retried next start"
    else:
        report.removed.append(folder)


def cleanup_in_background() -> None:
    """Run :func:`cleanup_stale_extractions` on a daemon thread (start-up is not delayed; an
    exit mid-delete leaves a ``_MEI*-stale-*`` folder that the next start finishes)."""
    if bundle_dir() is None:
        return
    import threading

    threading.Thread(target=cleanup_stale_extractions, name="mei-cleanup", daemon=True).start()
