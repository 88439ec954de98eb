"""Where Watchkeeper keeps its config, data and logs.

platformdirs picks the per-user folders; ``WATCHKEEPER_HOME=DIR`` puts all three under DIR
(tests and portable installs use it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Watchkeeper"


class FolderError(Exception):
    """A folder or file of Watchkeeper's cannot be created or written (a file where a folder
    should be, no permission, a read-only file system); the message names the path and the cause."""


@dataclass(frozen=True)
class Paths:
    """The three folders and the well-known files inside them."""

    config_dir: Path
    data_dir: Path
    log_dir: Path
    home: str | None = None  # WATCHKEEPER_HOME as given, named in error messages

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "watchkeeper.db"

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "watchkeeper.lock"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "watchkeeper.pid"

    @property
    def control_file(self) -> Path:
        return self.data_dir / "control.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "watchkeeper.log"

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def folders(self) -> tuple[Path, Path, Path]:
        return self.config_dir, self.data_dir, self.log_dir

    def ensure(self, *folders: Path) -> Paths:
        """Create the ``folders`` (all three by default) private to the user (0700 on POSIX, tightened
        if looser) and return self; :class:`FolderError` names the folder and the cause."""
        from engine.privatefile import ensure_private_dir

        for folder in folders or self.folders:
            try:
                ensure_private_dir(folder)
            except OSError as exc:
                verb = "use" if folder.is_dir() else "create"
                raise self.error(f"cannot {verb} the {self._kind(folder)} {folder}", exc) from exc
        return self

    def error(self, what: str, exc: OSError) -> FolderError:
        """The :class:`FolderError` for ``what`` failing with ``exc``, naming WATCHKEEPER_HOME when set."""
        return folder_error(what, exc, self.home)

    def _kind(self, folder: Path) -> str:
        return {self.config_dir: "config folder", self.data_dir: "data folder", self.log_dir: "log folder"}.get(
            folder, "folder")


def folder_error(what: str, exc: OSError, home: str | None = None) -> FolderError:
    """``what: cause`` as a :class:`FolderError` (e.g. "cannot create the data folder /x/y: Not a
    directory"), with ``(WATCHKEEPER_HOME=...)`` when ``home`` is given."""
    cause = exc.strerror or str(exc)
    return FolderError(f"{what}: {cause}" + (f" (WATCHKEEPER_HOME={home})" if home else ""))


def resolve_paths(env: dict[str, str] | None = None) -> Paths:
    """The folders for this user, honouring ``WATCHKEEPER_HOME``."""
    env = dict(os.environ) if env is None else env
    home = env.get("WATCHKEEPER_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(config_dir=root / "config", data_dir=root / "data", log_dir=root / "logs", home=home)
    import platformdirs

    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
