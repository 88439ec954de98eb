"""docs/FLEET.md: its Prometheus scrape configuration and its alert rules are valid YAML with the
documented jobs and alerts; promtool accepts both and its rule unit test shows each alert firing when
it should and not before. Without promtool those tests skip, unless ``WATCHKEEPER_REQUIRE_PROMTOOL=1``
(CI: .ci/run installs Debian's ``prometheus``), which makes that a failure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT

FLEET = ROOT / "docs" / "FLEET.md"
REQUIRE = os.environ.get("WATCHKEEPER_REQUIRE_PROMTOOL") == "1"
PROMTOOL_TIMEOUT = 60


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


def promtool() -> str:
    """promtool's path; skips the test without it (fails it with WATCHKEEPER_REQUIRE_PROMTOOL=1)."""
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool is not installed (apt-get install prometheus); the YAML is checked above"
        if REQUIRE:
            pytest.fail(f"WATCHKEEPER_REQUIRE_PROMTOOL=1 but {reason}")
        pytest.skip(reason)
    return path


def run_promtool(*args: str, cwd: Path) -> None:
    result = subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=PROMTOOL_TIMEOUT, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr


def write_rules(folder: Path) -> Path:
    rules = folder / "watchkeeper-rules.yml"
    rules.write_text(yaml_block("Alertmanager rules"), encoding="utf-8")
    return rules


def test_promtool_accepts_the_rule_file(tmp_path):
    run_promtool("check", "rules", str(write_rules(tmp_path)), cwd=tmp_path)


def test_promtool_accepts_the_scrape_config_with_its_rule_file(tmp_path):
    # The documented token files live in /etc/prometheus; promtool checks that they exist, so they
    # are made here under tmp_path (the rule file is found beside prometheus.yml, as documented).
    config = yaml_block("Prometheus scrape configuration").replace("/etc/prometheus/", f"{tmp_path}/")
    for job in yaml.safe_load(config)["scrape_configs"]:
        Path(job["authorization"]["credentials_file"]).write_text("scrape-token\n", encoding="utf-8")
    write_rules(tmp_path)
    (tmp_path / "prometheus.yml").write_text(config, encoding="utf-8")
    run_promtool("check", "config", "prometheus.yml", cwd=tmp_path)


# promtool's rule unit test: series sampled each minute from t=0; each alert is checked while pending
# (no alert yet) and once its `for:` has passed. time() is 0 at t=0, so a heartbeat written by a
# running instance is the series 0+60x...: it keeps up with time() until it stops.
RULE_TESTS = """
rule_files: [watchkeeper-rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="watchkeeper-laptop", instance="laptop:8765", machine="laptop"}'
        values: '1 1 0x20'
      - series: 'up{job="watchkeeper-desktop", instance="desktop:8765", machine="desktop"}'
        values: '1x22'
      - series: 'watchkeeper_heartbeat_timestamp_seconds{job="watchkeeper-desktop", instance="desktop:8765",
                 machine="desktop"}'
        values: '0+60x22'
    alert_rule_test:
      - {eval_time: 5m, alertname: WatchkeeperDown, exp_alerts: []}
      - eval_time: 8m
        alertname: WatchkeeperDown
        exp_alerts:
          - exp_labels: {severity: critical, job: watchkeeper-laptop, instance: "laptop:8765", machine: laptop}
            exp_annotations:
              summary: "Watchkeeper on laptop is not running"
              description: "No answer from laptop:8765, or no heartbeat for 5 minutes."
  - interval: 1m
    input_series:
      - series: 'up{job="watchkeeper-homeserver", instance="homeserver:8765", machine="homeserver"}'
        values: '1x30'
      # answers scrapes, but its heartbeat stopped at t=3m: stale past 300 s from t=8m01s
      - series: 'watchkeeper_heartbeat_timestamp_seconds{job="watchkeeper-homeserver", instance="homeserver:8765",
                 machine="homeserver"}'
        values: '0+60x3 180x27'
    alert_rule_test:
      - {eval_time: 12m, alertname: WatchkeeperDown, exp_alerts: []}
      - eval_time: 15m
        alertname: WatchkeeperDown
        exp_alerts:
          - exp_labels: {severity: critical, job: watchkeeper-homeserver, instance: "homeserver:8765",
                         machine: homeserver}
            exp_annotations:
              summary: "Watchkeeper on homeserver is not running"
              description: "No answer from homeserver:8765, or no heartbeat for 5 minutes."
  - interval: 1m
    input_series:
      - series: 'watchkeeper_health{job="watchkeeper-laptop", instance="laptop:8765", machine="laptop",
                 state="degraded"}'
        values: '0 0 1x20'
      - series: 'watchkeeper_health{job="watchkeeper-laptop", instance="laptop:8765", machine="laptop", state="ok"}'
        values: '1 1 0x20'
      - series: 'watchkeeper_health{job="watchkeeper-desktop", instance="desktop:8765", machine="desktop",
                 state="degraded"}'
        values: '0x22'
    alert_rule_test:
      - {eval_time: 10m, alertname: WatchkeeperDegraded, exp_alerts: []}
      - eval_time: 13m
        alertname: WatchkeeperDegraded
        exp_alerts:
          - exp_labels: {severity: warning, job: watchkeeper-laptop, instance: "laptop:8765", machine: laptop,
                         state: degraded}
            exp_annotations:
              summary: "Watchkeeper on laptop is degraded"
              description: "Run `watchkeeper doctor` on laptop: a channel, the API port, the disk or the
                scheduler is broken."
"""


def test_the_alert_rules_fire_after_their_for_duration_and_only_for_the_broken_machine(tmp_path):
    write_rules(tmp_path)
    (tmp_path / "rule-tests.yml").write_text(RULE_TESTS, encoding="utf-8")
    run_promtool("test", "rules", "rule-tests.yml", cwd=tmp_path)
