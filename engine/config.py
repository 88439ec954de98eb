"""Typed settings from config.toml: defaults live in code, a fully commented copy is written on
first run, bad values are rejected with the key, the value and what is allowed (ConfigError),
unknown keys are warned about. Secrets are never printed (``redacted()``).

Each section is a dataclass; each field carries its documentation and an optional validator in
its metadata, so the template, validation and ``config show`` come from one description. Every
number must be finite (checked once, in ``_build_section``) and every number and duration has an
explicit range: a value that would spin, overflow or never end is refused up front.

The sections below are the engine's own. A unit above config (a channel) declares its own
section next to its code and the composition step hands it in as a :class:`Section`: it is then
parsed, validated, templated, overridden from the environment and redacted like the built-in
ones, and read as ``config.NAME`` (or typed, ``config.section(SettingsClass)``).

Every key of every section can be overridden by the environment variable
``WATCHKEEPER_<SECTION>_<KEY>`` (upper case, see :func:`env_variable`): the text is read per the
key's type (:func:`from_env_text`) and validated like the file, the error naming the variable.
``Config.origins`` records where each value came from (:func:`sources`, for ``config show``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from engine.timeutil import duration_problem


class ConfigError(Exception):
    """A configuration problem; the message names the key, the value and what is allowed."""


Validator = Callable[[Any], str | None]


def opt(default: Any, doc: str, check: Validator | None = None, secret: bool = False,
        number_as_text: bool = False) -> Any:
    """A documented setting with an optional validator (returns an error text or None).

    ``number_as_text``: a text setting that also takes a whole number, kept as its digits (an id that
    the user copies as a number, such as Telegram's chat id)."""
    meta = {"doc": doc, "check": check, "secret": secret, "number_as_text": number_as_text}
    if isinstance(default, (list, dict)):
        return field(default_factory=default.copy, metadata=meta)
    return field(default=default, metadata=meta)


def _duration(low: timedelta, high: timedelta) -> Validator:
    def check(value: Any) -> str | None:
        return duration_problem(value, low, high)

    return check


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def between(low: float, high: float, unit: str = "") -> Validator:
    """A number from ``low`` to ``high`` (both allowed); ``unit`` names what it counts."""
    def check(value: Any) -> str | None:
        if low <= value <= high:
            return None
        return f"a number{' of ' + unit if unit else ''} from {_number(low)} to {_number(high)}"

    return check


def port_number(value: Any) -> str | None:
    return None if 1 <= value <= 65535 else "a port number from 1 to 65535"


def _hhmm(value: Any) -> str | None:
    if value == "" or re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return None
    return 'a time "HH:MM" (24-hour) or "" for none'


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekdays(value: Any) -> str | None:
    bad = [d for d in value if d not in _WEEKDAYS]
    return f"weekday names from {', '.join(_WEEKDAYS)}" if bad else None


def _one_of(*choices: str) -> Validator:
    """A validator accepting only ``choices``."""
    def check(value: Any) -> str | None:
        return None if value in choices else "one of " + ", ".join(repr(c) for c in choices)

    return check


def _timezone(value: Any) -> str | None:
    if value == "":
        return None
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)
    except Exception:
        return 'an IANA time zone name such as "Europe/Berlin", or "" for the local zone'
    return None


def _http_url(value: Any) -> str | None:
    from urllib.parse import urlsplit

    if value == "":
        return None
    parts = urlsplit(value)
    return None if parts.scheme in ("http", "https") and parts.hostname else 'an http:// or https:// URL, or ""'


def _schedule(value: Any) -> str | None:
    from engine.schedule_spec import parse_schedule

    try:
        parse_schedule(value)
    except ValueError as exc:
        return str(exc)
    return None


@dataclass
class GeneralConfig:
    timezone: str = opt("", "IANA time zone for schedules; empty means the machine's zone.", _timezone)
    log_level: str = opt("INFO", "Log level for the log file.", _one_of("DEBUG", "INFO", "WARNING", "ERROR"))
    machine_name: str = opt("", "This machine's name in messages and metrics; empty means the host name.")


@dataclass
class HeartbeatConfig:
    interval_seconds: int = opt(60, "Seconds between heartbeats (daemon_state, gap detection).",
                                between(1, 3600, "seconds"))


@dataclass
class SchedulerConfig:
    misfire_grace_seconds: int = opt(
        3600, "A job due while the machine slept still runs once if it is at most this late.",
        between(1, 7 * 86400, "seconds")
    )
    shutdown_wait_seconds: int = opt(10, "How long running jobs may take to finish at shutdown.",
                                    between(1, 3600, "seconds"))


@dataclass
class AlertsConfig:
    quiet_hours_start: str = opt("", 'Start of quiet hours "HH:MM"; "" turns them off.', _hhmm)
    quiet_hours_end: str = opt("", 'End of quiet hours "HH:MM".', _hhmm)
    quiet_hours_weekdays: list[str] = opt(
        list(_WEEKDAYS), "Days on which quiet hours apply (the day the window starts).", _weekdays
    )
    log_retention_days: int = opt(
        90, "Keep heartbeat_log entries this long (never less than the longest cooldown).",
        between(1, 3650, "days")
    )


@dataclass
class DeliveryConfig:
    max_backoff_seconds: int = opt(600, "Longest wait between delivery retries.", between(1, 86400, "seconds"))
    offline_ttl: str = opt(
        "6h", "Pending messages older than this are collapsed into one 'while you were offline'.",
        _duration(timedelta(seconds=1), timedelta(days=365))
    )
    routing: str = opt("both", 'Where alerts go: "both" (toast and Telegram) or "presence" (a toast while you are at '
                       "this machine, Telegram while you are away; critical alerts always both).",
                       _one_of("both", "presence"))
    away_after: str = opt("10m", "With routing = presence: idle this long (no keyboard or mouse input) counts as away.",
                          _duration(timedelta(seconds=1), timedelta(days=1)))
    escalate_after: str = opt("5m", "With routing = presence: an alert shown as a toast and not acknowledged this long "
                              "goes to Telegram too once you are away.",
                              _duration(timedelta(seconds=1), timedelta(days=7)))


@dataclass
class ArchiveConfig:
    enabled: bool = opt(True, "Archive Claude Code and Codex conversation logs nightly.")
    schedule: str = opt("cron 0 2 * * *", "When the nightly archive runs.", _schedule)
    extra_roots: list[str] = opt([], "More folders to search for conversation logs.")
    max_line_bytes: int = opt(64 * 1024 * 1024, "Longest log line parsed; longer lines are recorded as bad.",
                             between(1024, 1024 ** 3, "bytes"))
    active_window_minutes: int = opt(
        30, "A conversation written within this many minutes counts as an active session.",
        between(1, 7 * 1440, "minutes")
    )
    usage_prices: str = opt("", "A JSON price table for `watchkeeper usage` (the bundled one's shape); its models "
                            "replace or add to the bundled prices.")


def _ip_address(value: Any) -> str | None:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return 'an IP address such as "127.0.0.1" or "192.168.1.5" ("0.0.0.0" or "::" for every interface)'
    return None


def _networks(value: Any) -> str | None:
    import ipaddress

    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return f'IP addresses or networks such as "192.168.1.0/24" ({item!r} is neither)'
    return None


def is_loopback_bind(address: str) -> bool:
    """Whether the API bound to ``address`` is reachable from this machine only (127.x, ::1)."""
    import ipaddress

    return ipaddress.ip_address(address).is_loopback


@dataclass
class ApiConfig:
    enabled: bool = opt(True, "Serve the local HTTP API (on 127.0.0.1 unless bind says otherwise).")
    port: int = opt(8765, "Port of the local HTTP API.", port_number)
    bind: str = opt("127.0.0.1", 'The address the API listens on: 127.0.0.1 (this machine only), a LAN address, or '
                    '"0.0.0.0" / "::" for every interface. Any other than loopback needs allow, and then every '
                    "request from another machine needs a token.", _ip_address)
    allow: list[str] = opt([], "With a LAN bind: the addresses or networks allowed to connect, "
                           'e.g. ["192.168.1.0/24"].', _networks)


@dataclass
class DeadmanConfig:
    url: str = opt("", "Dead-man's switch: ping URL of a Healthchecks check or an Uptime Kuma push monitor; "
                   "empty turns it off.", _http_url, secret=True)
    interval: str = opt("5m", "How often the agent pings while it runs.",
                        _duration(timedelta(seconds=10), timedelta(days=1)))
    style: str = opt("healthchecks", 'How the URL is pinged: "healthchecks" or "uptime-kuma".',
                     _one_of("healthchecks", "uptime-kuma"))


@dataclass
class WeeklyConfig:
    schedule: str = opt("cron 0 3 * * sun", "When the weekly digest, pruning and backup run.", _schedule)
    keep_backups: int = opt(4, "How many database backups to keep.", between(1, 1000))


SECTIONS: dict[str, type] = {
    "general": GeneralConfig,
    "heartbeat": HeartbeatConfig,
    "scheduler": SchedulerConfig,
    "alerts": AlertsConfig,
    "delivery": DeliveryConfig,
    "archive": ArchiveConfig,
    "weekly": WeeklyConfig,
    "api": ApiConfig,
    "deadman": DeadmanConfig,
}

# Free-form tables validated by their owners (checks validate their own parameters).
FREEFORM = {"checks", "user_checks"}

REGISTERED_AFTER = "alerts"
"""Registered sections (the channels') follow this one, by name: first what decides what to tell,
then how it is delivered."""


@dataclass(frozen=True)
class Section:
    """A settings section owned by a unit above config (a channel): its ``[name]`` table, the
    dataclass of :func:`opt` fields describing it, and ``env``: more environment variable names ->
    field (every field already has ``WATCHKEEPER_<NAME>_<KEY>``; a non-empty variable overrides it)."""

    name: str
    settings: type
    env: Mapping[str, str] = field(default_factory=dict)


def layout(registered: Sequence[Section] = ()) -> dict[str, type]:
    """Every section's dataclass by name, in template order (registered ones after REGISTERED_AFTER,
    by name); raises ValueError for a registered name that is already taken."""
    taken = {*SECTIONS, *FREEFORM}
    for section in registered:
        if section.name in taken:
            raise ValueError(f"config section [{section.name}] is registered twice")
        taken.add(section.name)
    out: dict[str, type] = {}
    for name, cls in SECTIONS.items():
        out[name] = cls
        if name == REGISTERED_AFTER:
            out.update((s.name, s.settings) for s in sorted(registered, key=lambda s: s.name))
    return out


T = TypeVar("T")


@dataclass
class Config:
    general: GeneralConfig = field(default_factory=GeneralConfig)
    heartbeat: HeartbeatConfig = field(default_factory=HeartbeatConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    weekly: WeeklyConfig = field(default_factory=WeeklyConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    deadman: DeadmanConfig = field(default_factory=DeadmanConfig)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    user_checks: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source: Path | None = None
    registered: dict[str, Any] = field(default_factory=dict)
    """The registered sections' values by section name, in template order."""
    origins: dict[str, str] = field(default_factory=dict)
    """Where a setting came from, by "section.key": "file" or "env VARIABLE"; absent means the default."""

    def __getattr__(self, name: str) -> Any:
        """A registered section by name (``config.telegram``); only called for names not found otherwise."""
        registered = self.__dict__.get("registered")
        if registered is not None and name in registered:
            return registered[name]
        raise AttributeError(f"{type(self).__name__!r} has no section or attribute {name!r}")

    def section(self, cls: type[T]) -> T:
        """The registered section whose settings dataclass is ``cls`` (typed); raises LookupError when absent."""
        for value in self.registered.values():
            if type(value) is cls:
                return value
        raise LookupError(f"no registered config section holds {cls.__name__}")


def _type_ok(value: Any, annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is list:
        (item,) = get_args(annotation)
        return isinstance(value, list) and all(_type_ok(v, item) for v in value)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    return True


_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a quoted string"}


def _type_word(annotation: Any) -> str:
    if get_origin(annotation) is list:
        return "a list of " + _type_word(get_args(annotation)[0]).replace("a ", "", 1) + "s"
    return _TYPE_WORDS.get(annotation, str(annotation))


def unusable_value(value: Any) -> str | None:
    """The rules every setting obeys, sections and check parameters alike (the text after
    "expected"), or None: numbers finite (TOML reads inf and nan), text without NUL characters."""
    if isinstance(value, float) and not math.isfinite(value):
        return "a finite number"
    if isinstance(value, str) and "\0" in value:
        return "text without NUL characters"
    if isinstance(value, list):
        return next((p for p in map(unusable_value, value) if p), None)
    return None


def _validated(where: str, shown: str, value: Any, f: dataclasses.Field[Any], annotation: Any) -> Any:
    """``value`` (the file's, or the environment's once read per its type) checked like every setting:
    its type, its validator, finite and without NUL; raises ConfigError naming ``where`` (the key or
    the variable) and ``shown`` (its value, or "<secret>")."""
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if annotation is str and f.metadata.get("number_as_text") and type(value) is int:
        value = str(value)
    if not _type_ok(value, annotation):
        raise ConfigError(f"{where} = {shown} is not allowed: expected {_type_word(annotation)}")
    check = f.metadata.get("check")
    problem = (check(value) if check is not None else None) or unusable_value(value)
    if problem:
        raise ConfigError(f"{where} = {shown} is not allowed: expected {problem}")
    return value


def _build_section(name: str, cls: type, raw: Any, warnings: list[str], origins: dict[str, str]) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table, got {raw!r}")
    hints = get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            warnings.append(f"unknown key {name}.{key} (ignored); known keys: {', '.join(known)}")
            continue
        f = known[key]
        shown = "<secret>" if f.metadata.get("secret") else repr(value)
        values[key] = _validated(f"{name}.{key}", shown, value, f, hints[key])
        origins[f"{name}.{key}"] = "file"
    return cls(**values)


def parse_config(raw: dict[str, Any], env: dict[str, str] | None = None, source: Path | None = None,
                 sections: Sequence[Section] = ()) -> Config:
    """Build and validate a Config's sections, the built-in and the registered ``sections``, from
    parsed TOML (and environment overrides).

    [checks.*] and [[user_checks]] are only checked for shape here: the check kinds validate
    them in the composition step (engine.compose.load_config)."""
    env = dict(os.environ) if env is None else env
    every = layout(sections)
    warnings: list[str] = []
    origins: dict[str, str] = {}
    built: dict[str, Any] = {}
    for key, value in raw.items():
        if key in every:
            built[key] = _build_section(key, every[key], value, warnings, origins)
        elif key not in FREEFORM:
            warnings.append(f"unknown section or key {key!r} (ignored); known: {', '.join([*every, *FREEFORM])}")
    checks = raw.get("checks", {})
    if not isinstance(checks, dict) or not all(isinstance(v, dict) for v in checks.values()):
        raise ConfigError("[checks] must hold one table per check, e.g. [checks.disk_space]")
    user_checks = raw.get("user_checks", [])
    if not isinstance(user_checks, list) or not all(isinstance(v, dict) for v in user_checks):
        raise ConfigError("user_checks must be a list of tables: [[user_checks]]")
    registered = {name: built.pop(name) if name in built else cls()
                  for name, cls in every.items() if name not in SECTIONS}
    config = Config(**built, checks=checks, user_checks=user_checks, warnings=warnings, source=source,
                    registered=registered, origins=origins)
    _apply_env(config, every, sections, env)
    _check_api_exposure(config.api)
    return config


def _check_api_exposure(api: ApiConfig) -> None:
    """A bind other than loopback opens the API to the network: refuse it without an allow-list."""
    if api.enabled and not is_loopback_bind(api.bind) and not api.allow:
        raise ConfigError(f"[api] bind = {api.bind} needs [api] allow = [...]: the addresses allowed to connect "
                          '(e.g. allow = ["192.168.1.0/24"])')


ENV_PREFIX = "WATCHKEEPER_"


def env_variable(section: str, key: str) -> str:
    """The environment variable that overrides ``[section] key``: ``WATCHKEEPER_<SECTION>_<KEY>``."""
    return f"{ENV_PREFIX}{section}_{key}".upper()


_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


class EnvTextError(ValueError):
    """Environment text that is not of the setting's type (the text after "expected")."""


def from_env_text(text: str, annotation: Any) -> Any:
    """An environment variable's text read as ``annotation``: int, float, bool (true/false, 1/0,
    yes/no), a list as comma-separated items; text stays text. Raises EnvTextError."""
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return [from_env_text(part.strip(), item) for part in text.split(",") if part.strip()]
    word = text.strip().lower()
    if annotation is bool:
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise EnvTextError("true or false (or 1/0, yes/no)")
    if annotation is int:
        try:
            return int(word)
        except ValueError:
            raise EnvTextError("a whole number") from None
    if annotation is float:
        try:
            return float(word)
        except ValueError:
            raise EnvTextError("a number") from None
    return text


def _env_owner(variable: str, every: Mapping[str, type]) -> str | None:
    """The section whose prefix ``variable`` starts with (the longest such name), or None."""
    owners = [name for name in [*every, *FREEFORM] if variable.startswith(env_variable(name, ""))]
    return max(owners, key=len, default=None)


def _apply_env(config: Config, every: Mapping[str, type], sections: Sequence[Section],
               env: Mapping[str, str]) -> None:
    """Override settings from ``WATCHKEEPER_<SECTION>_<KEY>`` variables (and the registered sections'
    own ``env`` names), validated like the file; a non-empty variable wins. A variable naming a known
    section but no key of it is warned about; other WATCHKEEPER_ variables (WATCHKEEPER_HOME) are not config."""
    targets = {env_variable(name, f.name): (name, f.name) for name, cls in every.items()
               for f in dataclasses.fields(cls)}
    for section in sections:
        targets.update((variable, (section.name, key)) for variable, key in section.env.items())
    for variable in sorted(env):
        text = env[variable]
        if not text or not variable.startswith(ENV_PREFIX):
            continue
        target = targets.get(variable)
        if target is None:
            _warn_unknown_variable(config, variable, every)
            continue
        name, key = target
        settings = getattr(config, name)
        f = next(f for f in dataclasses.fields(settings) if f.name == key)
        shown = "<secret>" if f.metadata.get("secret") else repr(text)
        annotation = get_type_hints(type(settings))[key]
        try:
            value = from_env_text(text, annotation)
        except EnvTextError as exc:
            raise ConfigError(f"{variable} = {shown} is not allowed: expected {exc}") from None
        setattr(settings, key, _validated(variable, shown, value, f, annotation))
        config.origins[f"{name}.{key}"] = f"env {variable}"


def _warn_unknown_variable(config: Config, variable: str, every: Mapping[str, type]) -> None:
    owner = _env_owner(variable, every)
    if owner == "checks":
        return  # the check kinds read these (engine.checks.registry.apply_check_env)
    if owner in FREEFORM:
        config.warnings.append(f"environment variable {variable} ignored: [{owner}] is set in config.toml only")
    elif owner is not None:
        known = ", ".join(env_variable(owner, f.name) for f in dataclasses.fields(every[owner]))
        config.warnings.append(f"unknown environment variable {variable} (ignored); known for [{owner}]: {known}")


def load_config(path: Path, env: dict[str, str] | None = None, sections: Sequence[Section] = ()) -> Config:
    """Read ``path`` (missing file = defaults) and validate its sections (the built-in and the
    registered ``sections``); raises ConfigError."""
    if not path.exists():
        return parse_config({}, env, source=None, sections=sections)
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}{windows_path_hint(text)}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_config(raw, env, source=path, sections=sections)


# key = "C:\..." or "\\server\...": a Windows path in a basic string, where TOML reads the backslashes as escapes
_WINDOWS_PATH_IN_BASIC_STRING = re.compile(r'^\s*([A-Za-z0-9_-]+)\s*=\s*"((?:[A-Za-z]:)?\\[^"]*)"', re.MULTILINE)


def windows_path_hint(text: str) -> str:
    r"""For TOML that does not parse: a hint to single-quote the first Windows path written in double
    quotes (``path = "C:\Users\me"``), or "" when there is none."""
    found = _WINDOWS_PATH_IN_BASIC_STRING.search(text)
    if found is None:
        return ""
    key, value = found.groups()
    return f"; use single quotes for Windows paths: {key} = '{value}'"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_template(extra: Sequence[str] = (), sections: Sequence[Section] = ()) -> str:
    """The fully commented default config.toml (every key of the built-in and the registered
    ``sections``, commented out, with its doc), followed by the ``extra`` lines (the composition
    step adds the [checks.*] blocks)."""
    lines = [
        "# Watchkeeper configuration.",
        "# Every setting is shown with its default, commented out. Uncomment and edit to change it.",
        "# Check with: watchkeeper config validate",
        "",
    ]
    for name, cls in layout(sections).items():
        lines.append(f"[{name}]")
        for f in dataclasses.fields(cls):
            default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
            lines.append(f"# {f.metadata['doc']}")
            lines.append(f"# {f.name} = {_toml_value(default)}")
        lines.append("")
    lines.extend(extra)
    return "\n".join(lines) + "\n"


def ensure_config_file(path: Path, template: str | None = None) -> bool:
    """Write ``template`` (the sections-only one by default) if no config exists; True when it was
    written (FolderError when it cannot be). engine.compose.ensure_config_file writes the full one,
    check blocks included."""
    from engine.paths import folder_error
    from engine.privatefile import ensure_private_dir, tighten_private_file, write_private_file

    if path.exists():
        tighten_private_file(path)  # a config.toml from an older version or another tool may be 0644
        return False
    try:
        ensure_private_dir(path.parent)
        write_private_file(path, template or render_template())  # 0600 from the first byte: it will hold the bot token
    except OSError as exc:
        raise folder_error(f"cannot write the config file {path}", exc) from exc
    return True


def redacted(config: Config) -> dict[str, Any]:
    """The effective settings as plain data, secrets replaced by '<set>' or ''."""
    out: dict[str, Any] = {}
    for name in layout([Section(name, type(value)) for name, value in config.registered.items()]):
        section = getattr(config, name)
        values = {}
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if f.metadata.get("secret"):
                value = "<set>" if value else ""
            values[f.name] = value
        out[name] = values
    out["checks"] = config.checks
    out["user_checks"] = config.user_checks
    return out


def sources(config: Config) -> dict[str, dict[str, Any]]:
    """Where each setting of :func:`redacted` came from: "file", "env VARIABLE" or "default";
    ``checks`` maps each [checks.NAME] table's keys ("file" or "env VARIABLE")."""
    out: dict[str, dict[str, Any]] = {
        name: {key: config.origins.get(f"{name}.{key}", "default") for key in values}
        for name, values in redacted(config).items() if name not in FREEFORM}
    out["checks"] = {name: {key: config.origins.get(f"checks.{name}.{key}", "file") for key in table}
                     for name, table in config.checks.items()}
    return out


def set_config_values(path: Path, section: str, values: dict[str, Any], *, template: str | None = None,
                      sections: Sequence[Section] = ()) -> None:
    """Set keys of one section in config.toml, keeping the user's comments and layout.

    A commented-out default (``# key = ...``) is replaced in place; otherwise the key goes right
    after the section header (added at the end when missing). A missing file starts as ``template``
    (see ensure_config_file). The result's sections (the built-in and the registered ``sections``)
    are validated.
    """
    ensure_config_file(path, template)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = f"[{section}]"
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    if start is None:
        lines += ["", header]
        start = len(lines) - 1
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    for key, value in values.items():
        rendered = f"{key} = {_toml_value(value)}"
        pattern = re.compile(rf"^\s*#?\s*{re.escape(key)}\s*=")
        index = next((i for i in range(start + 1, end) if pattern.match(lines[i])), None)
        if index is None:
            lines.insert(start + 1, rendered)
            end += 1
        else:
            lines[index] = rendered
    from engine.privatefile import write_private_file

    # 0600 from the first byte (it may now hold the bot token); a symlinked config.toml stays a link.
    write_private_file(path.resolve(), "\n".join(lines) + "\n")
    load_config(path, env={}, sections=sections)
