"""disk_space: thresholds, severity escalation, missing volumes, the real volume of tmp_path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.checks.base import CheckContext
from engine.checks.disk_space import GB, DiskSpaceCheck, Usage, assess, default_volumes


def _ctx(**params) -> CheckContext:
    defaults = {"volumes": [], "min_free_percent": 10.0, "min_free_gb": 1.0}
    return CheckContext(db=None, now=datetime(2025, 1, 1, tzinfo=UTC), params={**defaults, **params},
                        name="disk_space")


def _fake(usages: dict[str, Usage]):
    def disk_usage(path: str) -> Usage:
        if path not in usages:
            raise FileNotFoundError(2, "No such file or directory", path)
        return usages[path]

    return disk_usage


def test_volume_above_both_thresholds_is_fine():
    assert assess("/data", Usage(100 * GB, 50 * GB, 50 * GB), 10.0, 1.0) is None


def test_low_percentage_alone_fires_a_warning():
    finding = assess("/data", Usage(1000 * GB, 920 * GB, 80 * GB), 10.0, 1.0)
    assert finding is not None
    assert finding.subject == "/data"
    assert finding.severity == "warning"
    assert "80.0 GB free (8.0%)" in finding.title
    assert "thresholds: 10% and 1 GB" in finding.detail


def test_low_absolute_space_alone_fires_even_with_a_high_percentage():
    finding = assess("/small", Usage(2 * GB, int(1.3 * GB), int(0.7 * GB)), 10.0, 1.0)
    assert finding is not None and finding.severity == "warning"


def test_below_half_of_the_percentage_threshold_is_critical():
    finding = assess("/data", Usage(1000 * GB, 960 * GB, 40 * GB), 10.0, 1.0)
    assert finding is not None and finding.severity == "critical"


def test_below_half_of_the_gb_threshold_is_critical():
    finding = assess("/data", Usage(100 * GB, 100 * GB - GB // 4, GB // 4), 0.0, 1.0)
    assert finding is not None and finding.severity == "critical"


def test_zero_sized_volume_counts_as_full():
    finding = assess("/empty", Usage(0, 0, 0), 10.0, 0.0)
    assert finding is not None and finding.severity == "critical"


def test_evaluate_reports_only_the_low_volumes():
    check = DiskSpaceCheck(disk_usage=_fake({
        "/ok": Usage(100 * GB, 10 * GB, 90 * GB),
        "/low": Usage(100 * GB, 95 * GB, 5 * GB),
    }))
    findings = check.evaluate(_ctx(volumes=["/ok", "/low"]))
    assert [f.subject for f in findings] == ["/low"]


def test_missing_volume_is_a_finding_not_a_crash():
    check = DiskSpaceCheck(disk_usage=_fake({}))
    (finding,) = check.evaluate(_ctx(volumes=["/mnt/backup"]))
    assert finding.subject == "/mnt/backup"
    assert "missing" in finding.title


def test_unreadable_volume_is_a_finding_with_the_reason():
    def denied(path: str) -> Usage:
        raise PermissionError(13, "Permission denied", path)

    (finding,) = DiskSpaceCheck(disk_usage=denied).evaluate(_ctx(volumes=["/secret"]))
    assert finding.subject == "/secret"
    assert finding.detail == "Permission denied"


def test_no_volumes_configured_watches_the_home_folder():
    seen = []

    def disk_usage(path: str) -> Usage:
        seen.append(path)
        return Usage(100 * GB, 0, 100 * GB)

    assert DiskSpaceCheck(disk_usage=disk_usage).evaluate(_ctx(volumes=[])) == []
    assert seen == [str(Path.home())] == default_volumes()


def test_real_volume_fires_when_the_threshold_is_unreachable(tmp_path):
    (finding,) = DiskSpaceCheck().evaluate(_ctx(volumes=[str(tmp_path)], min_free_percent=100.0))
    assert finding.subject == str(tmp_path)
    assert "GB free" in finding.title


def test_real_volume_is_quiet_with_tiny_thresholds(tmp_path):
    findings = DiskSpaceCheck().evaluate(_ctx(volumes=[str(tmp_path)], min_free_percent=0.0001,
                                              min_free_gb=0.0001))
    assert findings == []


def test_real_missing_folder_is_reported_missing(tmp_path):
    (finding,) = DiskSpaceCheck().evaluate(_ctx(volumes=[str(tmp_path / "gone")]))
    assert "missing" in finding.title


@pytest.mark.parametrize(("params", "problem"), [
    ({"min_free_percent": 150.0}, "a percentage from 0 to 100"),
    ({"min_free_gb": -1}, "a number of GB from 0 to 1000000"),
    ({"min_free_gb": float("inf")}, "a number of GB from 0 to 1000000"),
    ({"volumes": ["/ok", ""]}, "a list of folder paths"),
    ({"volumes": "/data"}, "expected list"),
])
def test_bad_params_are_rejected_with_the_reason(params, problem):
    problems = DiskSpaceCheck.validate_params(params)
    assert len(problems) == 1 and problem in problems[0]


def test_good_params_pass_validation():
    assert DiskSpaceCheck.validate_params({"volumes": ["C:/", "~/data"], "min_free_percent": 5,
                                           "min_free_gb": 2.5}) == []
