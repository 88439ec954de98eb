"""Reloading the settings of a running instance: config.toml read again and what changed applied
live (the instance also does this by itself within seconds of an edit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from engine.actions.errors import Invalid
from engine.actions.target import Instance
from engine.config import ConfigError

if TYPE_CHECKING:
    from engine.config_changes import ConfigChanges


class Reloadable(Instance, Protocol):
    """A running instance that can apply an edited config (the Engine)."""

    def reload_config(self) -> ConfigChanges: ...


@dataclass(frozen=True)
class Reloaded:
    """The settings that changed: applied now, and those kept until the next start."""

    changed: list[str] = field(default_factory=list)
    needs_restart: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"changed": list(self.changed), "needs_restart": list(self.needs_restart)}

    @property
    def text(self) -> str:
        """One or two lines for a person: what changed, what needs a restart."""
        lines = [f"reloaded config.toml: {', '.join(self.changed)}" if self.changed
                 else "reloaded config.toml: no change to apply"]
        if self.needs_restart:
            lines.append(f"needs a restart: {', '.join(self.needs_restart)}")
        return "\n".join(lines)


def reload_settings(instance: Reloadable) -> Reloaded:
    """Apply config.toml to the running instance; Invalid (naming the problem) when the file is
    invalid, in which case the last good settings keep running and health is DEGRADED."""
    try:
        changes = instance.reload_config()
    except ConfigError as exc:
        raise Invalid(f"config.toml invalid: {exc}; still running with the last good settings") from exc
    return Reloaded(changed=list(changes.changed), needs_restart=list(changes.needs_restart))
