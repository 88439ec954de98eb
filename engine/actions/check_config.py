"""A check's configuration as the dashboard shows it (read-only): its settings and parameters with
secrets hidden: values under secret-looking keys become ``<set>`` (or empty), and passwords in URLs
(``user:password@``) become ``***`` wherever they appear, in lists and tables too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.actions.checks import CheckInfo, check_detail
from engine.actions.target import Target

SECRET_SET = "<set>"
_SECRET_KEY = re.compile(r"token|secret|passw|api_?key|auth|credential|cookie|private", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@\s:]*):[^/@\s]*@", re.IGNORECASE)


@dataclass(frozen=True)
class CheckConfig:
    """A configured check's settings and its parameters (secrets hidden)."""

    check: CheckInfo
    params: dict[str, Any]


def hide_secrets(value: Any, key: str = "") -> Any:
    """``value`` with secrets hidden (see the module doc). Pure."""
    if key and _SECRET_KEY.search(key):
        return SECRET_SET if value else ""
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\g<scheme>\g<user>:***@", value)
    if isinstance(value, dict):
        return {k: hide_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [hide_secrets(v) for v in value]
    return value


def check_config(target: Target, name: str) -> CheckConfig:
    """The settings and parameters of check ``name`` with secrets hidden (NotFound for an unknown check)."""
    detail = check_detail(target, name, runs=1)
    params = hide_secrets(detail.params)
    return CheckConfig(detail.check, params if isinstance(params, dict) else {})
