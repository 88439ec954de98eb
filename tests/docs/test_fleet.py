"""docs/FLEET.md: its Prometheus scrape configuration and its alert rules are valid YAML with the
documented jobs and alerts, and promtool (when installed) accepts the rule file."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import ROOT

FLEET = ROOT / "docs" / "FLEET.md"


def yaml_block(heading: str) -> str:
    """The first ```yaml block under ``## heading``."""
    text = FLEET.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, f"no yaml block under {heading!r}"
    return match.group(1)


def test_the_rule_file_is_yaml_with_the_down_and_degraded_alerts():
    rules = yaml.safe_load(yaml_block("Alertmanager rules"))
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    assert set(alerts) == {"WatchkeeperDown", "WatchkeeperDegraded"}
    assert "watchkeeper_heartbeat_timestamp_seconds" in alerts["WatchkeeperDown"]["expr"]
    assert 'watchkeeper_health{state="degraded"}' in alerts["WatchkeeperDegraded"]["expr"]


def test_the_scrape_config_is_yaml_with_one_job_per_machine_and_a_token_file():
    config = yaml.safe_load(yaml_block("Prometheus scrape configuration"))
    jobs = config["scrape_configs"]
    assert len(jobs) >= 3
    for job in jobs:
        assert job["authorization"]["credentials_file"]
        assert job["static_configs"][0]["labels"]["machine"]


def test_promtool_accepts_the_rule_file(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt-get install prometheus); the YAML is checked above")
    rules = tmp_path / "watchkeeper-rules.yml"
    rules.write_text(yaml_block("Alertmanager rules"), encoding="utf-8")
    result = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
