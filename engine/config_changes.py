"""What changed between two configs, and which of those changes a running instance cannot apply
live (they need a restart). Pure: takes two parsed configs, returns names, never values (a
changed secret is named, not shown)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from engine.config import SECTIONS, Config

RESTART_ONLY = frozenset({
    "api.enabled", "api.port", "api.bind", "api.allow",  # the API server binds once
    "general.timezone", "general.log_level",  # the scheduler's zone and the log handlers are set at start
    "heartbeat.interval_seconds", "scheduler.misfire_grace_seconds",
    "deadman.url", "deadman.interval", "deadman.style",  # the dead-man service starts once
})
"""Settings a running instance keeps until it restarts ("needs a restart"); the data folder is not
in config.toml at all (WATCHKEEPER_HOME or the platform folders)."""


@dataclass(frozen=True)
class ConfigChanges:
    """The settings that differ: applied live, and those kept until a restart."""

    changed: list[str] = field(default_factory=list)
    needs_restart: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.needs_restart)

    def touches(self, *prefixes: str) -> bool:
        """Whether a live change is in one of the sections or checks named by ``prefixes`` (e.g. "telegram.")."""
        return any(name.startswith(prefixes) for name in self.changed)


def _sections(config: Config) -> dict[str, Any]:
    return {**{name: getattr(config, name) for name in SECTIONS}, **config.registered}


def _user_checks(config: Config) -> dict[str, dict[str, Any]]:
    return {str(raw.get("name")): raw for raw in config.user_checks}


def diff(old: Config, new: Config) -> ConfigChanges:
    """Every setting of ``new`` that differs from ``old``: ``section.key`` for sections,
    ``checks.NAME`` for a built-in check's table, ``user_checks.NAME`` for a user check."""
    names: list[str] = []
    old_sections, new_sections = _sections(old), _sections(new)
    for section in new_sections.keys() | old_sections.keys():
        before, after = old_sections.get(section), new_sections.get(section)
        if before is None or after is None:
            continue
        for f in dataclasses.fields(after):
            if getattr(before, f.name, None) != getattr(after, f.name):
                names.append(f"{section}.{f.name}")
    for check in old.checks.keys() | new.checks.keys():
        if old.checks.get(check) != new.checks.get(check):
            names.append(f"checks.{check}")
    old_user, new_user = _user_checks(old), _user_checks(new)
    for check in old_user.keys() | new_user.keys():
        if old_user.get(check) != new_user.get(check):
            names.append(f"user_checks.{check}")
    names.sort()
    return ConfigChanges(changed=[n for n in names if n not in RESTART_ONLY],
                         needs_restart=[n for n in names if n in RESTART_ONLY])


def keep_restart_only(running: Config, new: Config) -> Config:
    """``new`` with the restart-only settings of ``running``: what the instance actually runs with."""
    for name in RESTART_ONLY:
        section, key = name.split(".")
        setattr(getattr(new, section), key, getattr(getattr(running, section), key))
    return new
