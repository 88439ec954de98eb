"""disk_space: a watched volume is below its free-space threshold.

A volume is low when its free share is under ``min_free_percent`` or its free space is under
``min_free_gb``; it is critical when under half of either. A configured volume that does not
exist (an unplugged drive, a typo) is itself a finding, so it is not silently unwatched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from engine.checks.base import CheckContext, CheckKind, Param, number_in
from engine.findings import Finding
from engine.vocabulary import Severity

GB = 1024**3


class Usage(NamedTuple):
    """Bytes of a volume, as shutil.disk_usage reports them."""

    total: int
    used: int
    free: int


DiskUsageFn = Callable[[str], Any]


def _str_list(value: Any) -> str | None:
    if all(isinstance(v, str) and v.strip() for v in value):
        return None
    return "a list of folder paths (non-empty strings)"


def _percent(value: Any) -> str | None:
    return None if 0 <= value <= 100 else "a percentage from 0 to 100"


def default_volumes() -> list[str]:
    """The volumes watched when none are configured: the one holding the user's home folder."""
    return [str(Path.home())]


def assess(volume: str, usage: Usage, min_free_percent: float, min_free_gb: float,
           severity: str = Severity.WARNING) -> Finding | None:
    """The finding for one volume's usage, or None when it is above both thresholds."""
    free_percent = 100.0 * usage.free / usage.total if usage.total else 0.0
    free_gb = usage.free / GB
    if free_percent >= min_free_percent and free_gb >= min_free_gb:
        return None
    critical = free_percent < min_free_percent / 2 or free_gb < min_free_gb / 2
    return Finding(
        subject=volume,
        severity=Severity.CRITICAL if critical else severity,
        title=f"Low disk space on {volume}: {free_gb:.1f} GB free ({free_percent:.1f}%)",
        detail=(f"free {free_gb:.2f} GB of {usage.total / GB:.2f} GB ({free_percent:.1f}%); "
                f"thresholds: {min_free_percent:g}% and {min_free_gb:g} GB"),
    )


class DiskSpaceCheck(CheckKind):
    """Free space of the watched volumes against a percentage and an absolute threshold."""

    kind = "disk_space"
    description = "A watched volume is below its free-space threshold."
    schedule = "every 15m"
    cooldown = "6h"
    severity = Severity.WARNING
    params = {
        "volumes": Param([], "Folders whose volume to watch (~ allowed); empty means the home folder's.",
                         _str_list),
        "min_free_percent": Param(10.0, "Alert when the free share falls below this percentage.", _percent),
        "min_free_gb": Param(1.0, "Alert when free space falls below this many GB.",
                             number_in(0, 1_000_000, "GB")),
    }

    def __init__(self, disk_usage: DiskUsageFn = shutil.disk_usage) -> None:
        self._disk_usage = disk_usage

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        """One finding per volume that is low on space or unavailable."""
        volumes = ctx.params.get("volumes") or default_volumes()
        min_percent = float(ctx.params.get("min_free_percent", 10.0))
        min_gb = float(ctx.params.get("min_free_gb", 1.0))
        findings = []
        for volume in volumes:
            try:
                total, used, free = self._disk_usage(os.path.expanduser(volume))
            except FileNotFoundError:
                findings.append(Finding(volume, self.severity, f"Watched volume {volume} is missing",
                                        "the path does not exist (drive unplugged or path mistyped?)"))
                continue
            except OSError as exc:
                findings.append(Finding(volume, self.severity, f"Cannot read free space of {volume}",
                                        exc.strerror or str(exc)))
                continue
            finding = assess(volume, Usage(total, used, free), min_percent, min_gb, self.severity)
            if finding is not None:
                findings.append(finding)
        return findings
