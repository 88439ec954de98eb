"""Files and folders only the user can read: secrets (control key, API tokens, config.toml with
the bot token), the database and the log.

POSIX: a private file is created with mode 0600 by ``os.open`` itself, so it is never readable
by others, not even for an instant and whatever the process umask (which is left alone: user
``command`` checks inherit it). Folders are 0700. Existing files and folders with looser modes
are tightened.

Windows: modes mean nothing there; the files live in the per-user profile folders
(%APPDATA%, %LOCALAPPDATA%), whose ACL already keeps other users out. Nothing here changes ACLs.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path

IS_POSIX = sys.platform != "win32"
FILE_MODE = 0o600
DIR_MODE = 0o700


def write_private_file(path: Path, data: bytes | str) -> None:
    """Replace ``path`` atomically with ``data``; the file is 0600 from its first byte (POSIX).

    A temp file in the same folder is created exclusively (O_EXCL: never an existing file or a
    planted link) with mode 0600, written, fsynced, then renamed over ``path``. A missing folder
    is created 0700; an existing one is left as it is (Paths.ensure() tightens Watchkeeper's own).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, FILE_MODE)
    try:
        try:
            if IS_POSIX:
                os.fchmod(fd, FILE_MODE)  # exactly 0600 even under an unusual umask such as 0o277
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def ensure_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if missing; tighten an existing one to 0600 (contents untouched)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    except FileExistsError:
        tighten_private_file(path)
        return
    try:
        if IS_POSIX:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def tighten_private_file(path: Path) -> None:
    """Make an existing file 0600 when group or others can access it.

    A no-op on Windows or when the file is missing; a file we may not chmod is left for `doctor` to report.
    """
    try:
        if others_can_access(path):
            os.chmod(path, FILE_MODE)
    except OSError:
        pass


def ensure_private_dir(path: Path) -> None:
    """Create the folder (and missing parents) with the leaf 0700; tighten the leaf if it is looser."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if IS_POSIX and stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, DIR_MODE)


def others_can_access(path: Path) -> bool:
    """True when group or others have any permission on ``path`` (always False on Windows)."""
    return IS_POSIX and bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
