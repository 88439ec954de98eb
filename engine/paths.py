"""Where Watchkeeper keeps its config, data and logs.

platformdirs picks the per-user folders; ``WATCHKEEPER_HOME=DIR`` puts all three under DIR
(tests and portable installs use it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Watchkeeper"


@dataclass(frozen=True)
class Paths:
    """The three folders and the well-known files inside them."""

    config_dir: Path
    data_dir: Path
    log_dir: Path

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

    def ensure(self) -> Paths:
        """Create the folders private to the user (0700 on POSIX, tightened if looser) and return self."""
        from engine.privatefile import ensure_private_dir

        for folder in self.folders:
            ensure_private_dir(folder)
        return self


def resolve_paths(env: dict[str, str] | None = None) -> Paths:
    """The folders for this user, honouring ``WATCHKEEPER_HOME``."""
    env = dict(os.environ) if env is None else env
    home = env.get("WATCHKEEPER_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(config_dir=root / "config", data_dir=root / "data", log_dir=root / "logs")
    import platformdirs

    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
