"""The check contract: a kind declares its parameters and evaluates to findings."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any, ClassVar

from peewee import SqliteDatabase

from engine.checks.children import ChildRegistry
from engine.config import unusable_value
from engine.findings import Finding
from engine.vocabulary import Severity

MAX_TIMEOUT_SECONDS = 86400  # one day: longer is a hung child kept forever, not a timeout


class CheckError(Exception):
    """A check could not evaluate (bad parameters, unreachable data); recorded as an error run."""


@dataclass
class CheckContext:
    """What a check may read: the database, the time, its own parameters, persistent state."""

    db: SqliteDatabase
    now: datetime
    params: dict[str, Any]
    name: str
    get_state: Callable[[str], str | None] = lambda key: None
    set_state: Callable[[str, str | None], None] = lambda key, value: None
    children: ChildRegistry | None = None  # where programs a check starts are tracked (killed at shutdown)
    zone: tzinfo = timezone.utc  # the zone times in titles and details are shown in ([general] timezone)


def number_in(low: float, high: float, unit: str, *, low_open: bool = False) -> Callable[[Any], str | None]:
    """A Param validator for a number from ``low`` (excluded when ``low_open``) to ``high``."""
    def check(value: Any) -> str | None:
        if (low < value if low_open else low <= value) and value <= high:
            return None
        lower = f"greater than {_number(low)} and at most" if low_open else f"from {_number(low)} to"
        return f"a number of {unit} {lower} {_number(high)}"

    return check


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


timeout_seconds = number_in(0, MAX_TIMEOUT_SECONDS, "seconds", low_open=True)
"""The validator every ``timeout_seconds`` parameter uses (more than 0, at most one day)."""


@dataclass(frozen=True)
class Param:
    """A documented check parameter with its type and an optional validator."""

    default: Any
    doc: str
    check: Callable[[Any], str | None] | None = None


class CheckKind(ABC):
    """Base of every check kind. Subclasses set ``kind``, ``schedule``, ``cooldown``, ``params``
    and implement ``evaluate``."""

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    schedule: ClassVar[str] = "every 1h"
    cooldown: ClassVar[str] = "24h"
    severity: ClassVar[str] = Severity.WARNING
    params: ClassVar[dict[str, Param]] = {}
    builtin: ClassVar[bool] = True
    timeout_seconds: ClassVar[float] = 60.0
    # A kind that keeps a baseline (state "baseline", a JSON list) names what it holds, for `check baseline NAME`.
    baseline_noun: ClassVar[str] = ""

    @abstractmethod
    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        """The findings for ``ctx``; raise CheckError when the check cannot evaluate."""

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> list[str]:
        """Problems with ``params`` (beyond the common keys); empty when valid."""
        problems = []
        for key, value in params.items():
            spec = cls.params.get(key)
            if spec is None:
                continue
            if spec.default is not None and not _same_type(value, spec.default):
                problem: str | None = type(spec.default).__name__
            else:
                problem = (spec.check(value) if spec.check is not None else None) or unusable_value(value)
            if problem:
                problems.append(f"{key} = {_shown(value)} is not allowed: expected {problem}")
        return problems


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def _shown(value: Any) -> str:
    """A value for an error message, with URL credentials (user:password@) hidden."""
    return _USERINFO.sub("***@", repr(value))


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(default))


@dataclass(frozen=True)
class CheckDefinition:
    """A configured check: a kind plus its effective settings."""

    name: str
    kind: type[CheckKind]
    enabled: bool
    schedule: str
    cooldown: str
    severity: str
    params: dict[str, Any] = field(default_factory=dict)
