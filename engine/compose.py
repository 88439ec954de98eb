"""The composition step: the kinds of unit an installation has (:class:`Units`, filled in by
``engine.units``) and what needs them together: the config with its check definitions
validated and the full config template, the channels' own sections included.

``engine.config`` parses sections only (its own and those handed to it: each channel declares
its section on its spec, and :func:`config_sections` hands them in); the check kinds validate ``[checks.*]`` and
``[[user_checks]]`` here, with the same ConfigError messages, so every command that loads the
config refuses a bad check.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from engine import config as config_file
from engine.channels.base import ChannelSpec, Converse
from engine.checks.registry import CheckKinds, apply_check_env, build_definitions, checks_template
from engine.config import Config, Section
from engine.modules.base import ScheduledModule
from engine.store.migrations import Migration


class Service(Protocol):
    """A unit with its own threads that the engine starts after its jobs and closes at stop.

    It may also have ``problem`` (shown in health) and ``url`` (shown in the snapshot)."""

    def start(self) -> None: ...
    def close(self) -> None: ...


ServiceFactory = Callable[[Any], Service | None]
"""Builds a service for a started engine (engine.engine.Engine), or None when its configuration turns it off."""

CliGroup = Callable[[Any], None]
"""Adds a command group to the CLI: ``register(subparsers)``."""


@dataclass(frozen=True)
class Units:
    """Every registered unit, by kind (see engine.units)."""

    check_kinds: CheckKinds
    modules: tuple[ScheduledModule, ...]
    migrations: tuple[Migration, ...]
    channels: tuple[ChannelSpec, ...]
    conversations: Mapping[str, Converse]
    services: tuple[ServiceFactory, ...]
    cli_groups: tuple[CliGroup, ...]


def config_sections(channels: Sequence[ChannelSpec]) -> tuple[Section, ...]:
    """The config sections the channels declare (each spec's ``settings`` and ``env``)."""
    return tuple(Section(spec.name, spec.settings, spec.env) for spec in channels if spec.settings is not None)


def validate_checks(config: Config, kinds: CheckKinds, env: dict[str, str] | None = None) -> Config:
    """``config`` with its checks' environment overrides applied and the warnings about its checks
    added; raises ConfigError for a bad check."""
    apply_check_env(config, kinds, dict(os.environ) if env is None else env)
    config.warnings.extend(build_definitions(config, kinds)[1])
    return config


def parse_config(raw: dict[str, Any], units: Units, env: dict[str, str] | None = None) -> Config:
    """engine.config.parse_config with the units' sections, checks validated too."""
    return validate_checks(config_file.parse_config(raw, env, sections=config_sections(units.channels)),
                           units.check_kinds, env)


def load_config(path: Path, units: Units, env: dict[str, str] | None = None) -> Config:
    """engine.config.load_config with the units' sections, checks validated too; raises ConfigError."""
    return validate_checks(config_file.load_config(path, env, sections=config_sections(units.channels)),
                           units.check_kinds, env)


def default_config(units: Units) -> Config:
    """Every section at its default, the units' included (no file, no environment)."""
    return config_file.parse_config({}, env={}, sections=config_sections(units.channels))


def config_template(units: Units) -> str:
    """The fully commented default config.toml: every section, the units' included, and the [checks.*] blocks."""
    return config_file.render_template(checks_template(units.check_kinds), sections=config_sections(units.channels))


def ensure_config_file(path: Path, units: Units) -> bool:
    """Write the full commented template if no config exists; True when it was written."""
    return config_file.ensure_config_file(path, config_template(units))
