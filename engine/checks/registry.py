"""Check definitions built from config ([checks.NAME] and [[user_checks]]) for the check kinds
the composition root registers (engine.units.CHECK_KINDS), and their part of the config template."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.checks.base import CheckDefinition, CheckKind
from engine.config import Config, ConfigError, EnvTextError, env_variable, from_env_text
from engine.schedule_spec import parse_schedule
from engine.timeutil import duration_problem
from engine.vocabulary import Severity

COMMON_KEYS = ("enabled", "schedule", "cooldown", "severity")
MIN_COOLDOWN = timedelta(seconds=1)
MAX_COOLDOWN = timedelta(days=365)
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


@dataclass(frozen=True)
class CheckKinds:
    """The check kinds of an installation (engine.units.CHECK_KINDS lists them).

    ``builtin`` kinds are always present as ``[checks.NAME]`` (maybe disabled); ``user`` kinds are
    what ``[[user_checks]]`` entries choose with ``kind = "..."``.
    """

    builtin: tuple[type[CheckKind], ...]
    user: tuple[type[CheckKind], ...]

    def builtin_by_name(self) -> dict[str, type[CheckKind]]:
        return {k.kind: k for k in self.builtin}

    def user_by_name(self) -> dict[str, type[CheckKind]]:
        return {k.kind: k for k in self.user}


def _common(where: str, kind: type[CheckKind], raw: dict[str, Any]) -> dict[str, Any]:
    enabled = raw.get("enabled", True)
    schedule = raw.get("schedule", kind.schedule)
    cooldown = raw.get("cooldown", kind.cooldown)
    severity = raw.get("severity", kind.severity)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled = {enabled!r} is not allowed: expected true or false")
    try:
        parse_schedule(schedule)
    except ValueError as exc:
        raise ConfigError(f"{where}.schedule = {schedule!r} is not allowed: expected {exc}") from exc
    problem = duration_problem(cooldown, MIN_COOLDOWN, MAX_COOLDOWN)
    if problem:
        raise ConfigError(f"{where}.cooldown = {cooldown!r} is not allowed: expected {problem}")
    if severity not in tuple(Severity):
        raise ConfigError(f"{where}.severity = {severity!r} is not allowed: expected one of "
                          + ", ".join(Severity))
    return {"enabled": enabled, "schedule": schedule, "cooldown": str(cooldown), "severity": severity}


def _params(where: str, kind: type[CheckKind], raw: dict[str, Any], extra: tuple[str, ...] = ()
            ) -> tuple[dict[str, Any], list[str]]:
    warnings = []
    params = {key: spec.default for key, spec in kind.params.items()}
    given = {}
    for key, value in raw.items():
        if key in COMMON_KEYS or key in extra:
            continue
        if key not in kind.params:
            warnings.append(f"unknown key {where}.{key} (ignored); {kind.kind} takes: "
                            + ", ".join([*COMMON_KEYS, *kind.params]))
            continue
        given[key] = value
    problems = kind.validate_params(given)
    if problems:
        raise ConfigError("; ".join(f"{where}.{problem}" for problem in problems))
    params.update(given)
    return params, warnings


def apply_check_env(config: Config, kinds: CheckKinds, env: dict[str, str]) -> None:
    """Override built-in checks' keys from ``WATCHKEEPER_CHECKS_<NAME>_<KEY>`` (e.g.
    WATCHKEEPER_CHECKS_DISK_SPACE_MIN_FREE_GB=5), each read per its default's type and validated
    by its kind, errors naming the variable; other WATCHKEEPER_CHECKS_ variables are warned about.
    [[user_checks]] have no variables (a list of tables has no names to give them)."""
    targets: dict[str, tuple[str, str, Any]] = {}
    for name, kind in kinds.builtin_by_name().items():
        defaults = {"enabled": True, "schedule": kind.schedule, "cooldown": kind.cooldown, "severity": kind.severity,
                    **{key: spec.default for key, spec in kind.params.items()}}
        for key, default in defaults.items():
            targets[env_variable(f"checks_{name}", key)] = (name, key, default)
    prefix = env_variable("checks", "")
    for variable in sorted(env):
        text = env[variable]
        if not text or not variable.startswith(prefix):
            continue
        if variable not in targets:
            config.warnings.append(f"unknown environment variable {variable} (ignored); checks: "
                                   + ", ".join(kinds.builtin_by_name()) + " (WATCHKEEPER_CHECKS_<NAME>_<KEY>)")
            continue
        name, key, default = targets[variable]
        kind = kinds.builtin_by_name()[name]
        value = _env_value(variable, text, default)
        try:
            if key in COMMON_KEYS:
                _common(f"checks.{name}", kind, {key: value})
            else:
                _params(f"checks.{name}", kind, {key: value})
        except ConfigError as exc:
            raise ConfigError(f"{variable}: {exc}") from None
        config.checks[name] = {**config.checks.get(name, {}), key: value}
        config.origins[f"checks.{name}.{key}"] = f"env {variable}"


def _env_value(variable: str, text: str, default: Any) -> Any:
    """``text`` read as ``default``'s type, as the sections' variables are (engine.config.from_env_text);
    a list's whole-number items become numbers (the defaults are empty lists: no item type to go by)."""
    if isinstance(default, list):
        return [int(item) if item.isdigit() else item for item in (p.strip() for p in text.split(",")) if item]
    try:
        return from_env_text(text, type(default) if isinstance(default, (bool, int, float)) else str)
    except EnvTextError as exc:
        raise ConfigError(f"{variable} = {text!r} is not allowed: expected {exc}") from None


def build_definitions(config: Config, kinds: CheckKinds) -> tuple[list[CheckDefinition], list[str]]:
    """Every configured check (built-in ones always present, maybe disabled) and warnings;
    raises ConfigError for a bad check."""
    builtins = kinds.builtin_by_name()
    defs: list[CheckDefinition] = []
    warnings: list[str] = []
    for name in config.checks:
        if name not in builtins:
            warnings.append(f"unknown check [checks.{name}] (ignored); built-in checks: {', '.join(builtins)}")
    for name, kind in builtins.items():
        raw = config.checks.get(name, {})
        where = f"checks.{name}"
        common = _common(where, kind, raw)
        params, warns = _params(where, kind, raw)
        warnings += warns
        defs.append(CheckDefinition(name=name, kind=kind, params=params, **common))
    user_kinds = kinds.user_by_name()
    seen = set(builtins)
    for i, raw in enumerate(config.user_checks):
        where = f"user_checks[{i}]"
        raw_name = raw.get("name")
        if not isinstance(raw_name, str) or not _NAME_RE.match(raw_name):
            raise ConfigError(f"{where}.name = {raw_name!r} is not allowed: expected lower-case letters, digits "
                              "and _ starting with a letter (at most 48)")
        name = raw_name
        if name in seen:
            raise ConfigError(f"{where}.name = {name!r} is not allowed: the name is already used")
        seen.add(name)
        kind_name = raw.get("kind")
        if kind_name not in user_kinds:
            raise ConfigError(f"{where}.kind = {kind_name!r} is not allowed: expected one of "
                              + ", ".join(repr(k) for k in user_kinds))
        kind = user_kinds[kind_name]
        common = _common(where, kind, raw)
        params, warns = _params(where, kind, raw, extra=("name", "kind"))
        warnings += warns
        missing = [k for k, spec in kind.params.items() if spec.default is None and params.get(k) is None]
        if missing:
            raise ConfigError(f"{where} ({name}): missing required key(s): {', '.join(missing)}")
        defs.append(CheckDefinition(name=name, kind=kind, params=params, **common))
    return defs, warnings


def checks_template(kinds: CheckKinds) -> list[str]:
    """Commented [checks.*] blocks and a [[user_checks]] example for the config template."""
    lines = ["# Built-in checks. Each takes enabled, schedule, cooldown, severity and its own keys."]
    for name, kind in kinds.builtin_by_name().items():
        lines.append(f"# {kind.description}")
        lines.append(f"# [checks.{name}]")
        lines.append("# enabled = true")
        lines.append(f'# schedule = "{kind.schedule}"')
        lines.append(f'# cooldown = "{kind.cooldown}"')
        lines.append(f'# severity = "{kind.severity}"')
        for key, spec in kind.params.items():
            lines.append(f"# {key} = {_toml(spec.default)}    # {spec.doc}")
        lines.append("")
    lines += [
        "# Your own checks, no code needed:",
        "# [[user_checks]]",
        '# name = "overdue_invoices"',
        '# kind = "sql"                      # each row the query returns is a finding',
        '# database = "C:/Users/me/finance.db"',
        "# query = \"SELECT id, 'Invoice ' || id || ' overdue' FROM invoices WHERE due < date('now')\"",
        '# schedule = "every 6h"',
        '# cooldown = "1d"',
        "#",
        "# [[user_checks]]",
        '# name = "backup_fresh"',
        '# kind = "command"                  # non-zero exit, or each output line, is a finding',
        '# command = ["python", "check_backup.py"]',
        "# timeout_seconds = 30",
        "",
    ]
    return lines


def _toml(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)
