"""``watchkeeper usage`` through real processes: the JSON shape, the text table, bad input (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.engine.archive.usage_logs import assistant, claude_file
from tests.helpers import ROOT, cli

SID = "aaaaaaaa-0000-4000-8000-000000000001"


def _archived(wk_home, tmp_path):
    logs = tmp_path / "logs"
    claude_file(logs, SID, [
        assistant(SID, "msg_1", uuid="u1", ts="2026-03-02T10:00:00.000Z"),
        assistant(SID, "msg_2", uuid="u2", ts="2026-03-03T10:00:00.000Z", rid="req_2", model="claude-next-9"),
    ])
    cli("archive", "run", "--source", str(logs), "--json", check=True)
    return logs


def test_json_has_totals_and_rows_with_the_documented_keys(wk_home, tmp_path):
    logs = _archived(wk_home, tmp_path)
    for f in logs.rglob("*.jsonl"):  # answered from the archive alone
        f.unlink()
    out = json.loads(cli("usage", "--json", check=True).stdout)
    assert set(out["totals"]) == {"input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens",
                                  "cost_usd"}
    assert out["totals"]["output_tokens"] == 200 and out["totals"]["cost_usd"] > 0
    assert [r["key"] for r in out["rows"]] == ["2026-03-02", "2026-03-03"]
    assert out["rows"][1]["unpriced"] == ["claude-next-9"] and out["rows"][1]["cost_usd"] is None
    assert out["unpriced"] == ["claude-next-9"] and out["group_by"] == "day" and out["timezone"]
    assert out["prices_as_of"]


def test_text_table_has_a_totals_row_the_price_date_and_unpriced_models(wk_home, tmp_path):
    _archived(wk_home, tmp_path)
    text = cli("usage", "--by", "model", check=True).stdout
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["model", "input", "output"]
    assert any(line.startswith("total") and "200" in line and "2,000" in line for line in lines)
    assert "as of " in text and "unpriced: claude-next-9" in text


def test_bad_date_exits_2_naming_the_value(wk_home):
    result = cli("usage", "--since", "2026-13-01")
    assert result.returncode == 2 and "'2026-13-01' is not a date" in result.stderr


def test_since_after_until_exits_2(wk_home):
    result = cli("usage", "--since", "2026-03-05", "--until", "2026-03-01")
    assert result.returncode == 2 and "2026-03-05 is after --until 2026-03-01" in result.stderr


def test_bad_price_file_exits_2_naming_the_model_and_field(wk_home, tmp_path):
    prices = tmp_path / "p.json"
    prices.write_text(json.dumps({"as_of": "2026-11-30", "models": {"m": {"input": 1}}}))
    with wk_home.config_file.open("a") as fh:
        fh.write(f'[archive]\nusage_prices = "{prices}"\n')
    result = cli("usage")
    assert result.returncode == 2 and "model 'm': 'output' must be a number" in result.stderr


def test_usage_json_imports_no_fastapi_telegram_apscheduler_nor_every_unit(wk_home, tmp_path):
    _archived(wk_home, tmp_path)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "engine", "usage", "--json"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=dict(os.environ))
    assert proc.returncode == 0 and json.loads(proc.stdout)["totals"]["output_tokens"] == 200
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "engine.archive.usage" in imported
    assert not {"fastapi", "telegram", "apscheduler", "engine.units", "engine.cli"} & imported


def _imports(*args, env=None):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "engine", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env={**os.environ, **(env or {})})
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return proc, imported


_FULL_CLI = "import sys; from engine.cli import main; from engine.units import UNITS; sys.exit(main(units=UNITS))"


def _full_cli(*args):
    """The full CLI run as a process, without the lean path."""
    return subprocess.run([sys.executable, "-c", _FULL_CLI, *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env=dict(os.environ))


def test_usage_with_broken_channel_and_check_sections_takes_the_lean_path_and_gives_the_same_json(wk_home, tmp_path):
    _archived(wk_home, tmp_path)
    lean = json.loads(cli("usage", "--json", check=True).stdout)
    with wk_home.config_file.open("a") as fh:  # channel and check sections the full commands warn about
        fh.write('[telegram]\nchat_id = "not a number"\nbogus = 1\n[toast]\nenabled = true\n'
                 "[checks.disk_space]\nthreshold_percent = 500\n")
    proc, imported = _imports("usage", "--json", env={"WATCHKEEPER_TELEGRAM_TOKEN": "123:abc"})
    assert proc.returncode == 0 and json.loads(proc.stdout) == lean
    assert not {"peewee", "engine.units", "engine.cli"} & imported
    assert "threshold_percent" in _full_cli("usage", "--json").stderr  # the full commands still check them


def test_usage_with_a_config_that_is_not_toml_hands_over_to_the_full_cli_and_exits_as_it(wk_home, tmp_path):
    _archived(wk_home, tmp_path)
    wk_home.config_file.write_text("[general\n")
    proc, imported = _imports("usage", "--json")
    full = _full_cli("usage", "--json")
    assert (proc.returncode, proc.stdout) == (full.returncode, full.stdout) and full.returncode != 0
    assert "not valid TOML" in proc.stderr
    assert "engine.units" in imported


def test_usage_with_an_invalid_built_in_section_hands_over_to_the_full_cli_and_exits_as_it(wk_home, tmp_path):
    _archived(wk_home, tmp_path)
    with wk_home.config_file.open("a") as fh:
        fh.write('[general]\ntimezone = "Mars/Olympus"\n')
    proc, imported = _imports("usage", "--json")
    full = _full_cli("usage", "--json")
    assert (proc.returncode, proc.stdout) == (full.returncode, full.stdout) and full.returncode != 0
    assert "Mars/Olympus" in proc.stderr
    assert "engine.units" in imported


def test_usage_on_a_home_without_a_database_creates_it_and_reports_nothing(wk_home):
    result = cli("usage", check=True)
    assert "no token usage archived" in result.stdout and wk_home.db_file.is_file()
