"""`applications`, `goals` and `demo --remove` as a user meets them: real processes, a real data folder."""

from __future__ import annotations

import json
from datetime import date, timedelta

from engine.process.lifecycle import running_instance
from tests.helpers import cli, start_instance, wait_until

APP_KEYS = ["id", "company", "role", "status", "applied_at", "updated_at", "url", "notes"]
GOAL_KEYS = ["id", "domain_id", "domain", "title", "status", "target_date", "created_at", "last_progress_at"]


def _json(*args: str):
    result = cli(*args, "--json", check=True)
    return json.loads(result.stdout)


def test_applications_add_list_set_remove(wk_home):
    added = cli("applications", "add", "Acme Corp", "Backend Engineer", "--applied", "2026-11-20",
                "--url", "https://acme.example/jobs/1", "--notes", "via Jane")
    assert added.returncode == 0, added.stderr
    assert "Recorded application #1 Backend Engineer at Acme Corp: applied (applied 2026-11-20)" in added.stdout
    [app] = _json("applications", "list")
    assert list(app) == APP_KEYS
    assert (app["company"], app["url"], app["notes"], app["applied_at"][:10]) == (
        "Acme Corp", "https://acme.example/jobs/1", "via Jane", "2026-11-20")
    listed = cli("applications", "list", check=True).stdout.splitlines()
    assert listed[0].split() == ["id", "status", "applied", "company", "role"]
    assert listed[1].split()[:3] == ["1", "applied", "2026-11-20"]
    assert cli("applications", "set", "1", "interviewing", check=True).stdout.strip().endswith(": interviewing.")
    bad = cli("applications", "set", "1", "hired")
    assert bad.returncode == 2 and "status must be one of applied, screening" in bad.stderr
    assert cli("applications", "remove", "1", check=True).stdout.strip() == "Application #1 deleted."
    missing = cli("applications", "remove", "1")
    assert missing.returncode == 1 and "no application with id 1" in missing.stderr
    assert _json("applications", "list") == []


def test_a_bad_date_is_refused_naming_the_value(wk_home):
    result = cli("applications", "add", "Acme", "SRE", "--applied", "20.11.2026")
    assert result.returncode == 2
    assert result.stderr.strip() == "watchkeeper: --applied: '20.11.2026' is not a date (use YYYY-MM-DD)"
    assert "Traceback" not in result.stderr
    assert _json("applications", "list") == []


def test_csv_import_is_all_or_nothing_with_errors_naming_row_and_field(wk_home, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("company,role,applied\nInitech,Dev,2026-11-01\nHooli,,2026-11-02\nPied Piper,CTO,2026-02-30\n")
    refused = cli("applications", "import", str(bad))
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [f"watchkeeper: nothing imported from {bad}:",
                                           "  row 3: role must be 1 to 200 characters",
                                           "  row 4: applied: '2026-02-30' is not a date (use YYYY-MM-DD)"]
    assert _json("applications", "list") == []
    good = tmp_path / "good.csv"
    good.write_text("\ufeffcompany,role,applied,notes\nInitech,Dev,2026-11-01,\"likes, commas\"\nHooli,PM,,\n")
    imported = cli("applications", "import", str(good))
    assert imported.returncode == 0 and imported.stdout.strip() == f"Imported 2 applications from {good}."
    assert [(a["company"], a["notes"]) for a in _json("applications", "list")] == [
        ("Initech", "likes, commas"), ("Hooli", None)]
    gone = cli("applications", "import", str(tmp_path / "nope.csv"))
    assert gone.returncode == 1 and f"cannot read {tmp_path / 'nope.csv'}: No such file" in gone.stderr


def test_goals_add_with_a_domain_by_name_progress_and_done(wk_home):
    added = cli("goals", "add", "Run a half marathon", "--domain", "Health", "--target", "2027-04-01", check=True)
    assert added.stdout.strip() == "Goal #1 Run a half marathon added in Health, target 2027-04-01."
    cli("goals", "add", "Read 20 books", check=True)
    progress = cli("goals", "progress", "1", "ran 10 km", "--value", "10", "--at", "2026-11-30", check=True)
    assert progress.stdout.strip() == "Progress on goal #1 Run a half marathon recorded (2026-11-30)."
    assert cli("goals", "progress", "read", check=True).stdout.startswith("Progress on goal #2 Read 20 books")
    assert cli("goals", "done", "2", check=True).stdout.strip() == "Goal #2 Read 20 books: done."
    goals = _json("goals", "list")
    assert [list(g) for g in goals] == [GOAL_KEYS, GOAL_KEYS]
    assert [(g["title"], g["domain"], g["status"], g["target_date"]) for g in goals] == [
        ("Run a half marathon", "Health", "active", "2027-04-01"), ("Read 20 books", None, "done", None)]
    assert goals[0]["last_progress_at"][:10] == "2026-11-30"
    lines = cli("goals", "list", check=True).stdout.splitlines()
    assert lines[0].split() == ["id", "status", "domain", "target", "last", "progress", "title"]
    unknown = cli("goals", "progress", "Swim", "x")
    assert unknown.returncode == 1 and "no active goal whose title starts with 'Swim'" in unknown.stderr
    bad = cli("goals", "add", "Swim", "--target", "soon")
    assert bad.returncode == 2 and "--target: 'soon' is not a date (use YYYY-MM-DD)" in bad.stderr


def test_demo_remove_takes_out_only_the_sample_data(wk_home):
    cli("applications", "add", "Initech", "Dev", check=True)
    cli("goals", "add", "Learn Spanish", "--domain", "Growth", check=True)
    mine = (_json("applications", "list"), _json("goals", "list"))
    assert "Demo data loaded: 2 applications, 2 work_sessions, 2 goals" in cli("demo", check=True).stdout
    assert len(_json("applications", "list")) == 3
    removed = cli("demo", "--remove", check=True)
    assert "Demo data removed: 2 applications, 2 work_sessions, 2 goals" in removed.stdout
    assert (_json("applications", "list"), _json("goals", "list")) == mine


def test_data_commands_work_beside_a_running_instance_which_sees_the_change(wk_home):
    instance = start_instance()
    try:
        wait_until(lambda: running_instance(wk_home) and wk_home.control_file.exists(), timeout=30,
                   message="the instance's control channel")
        ten_days_ago = (date.today() - timedelta(days=10)).isoformat()
        cli("applications", "add", "Acme", "SRE", "--applied", ten_days_ago, check=True)
        [run] = _json("check", "run", "stale_applications")  # evaluated by the running instance
        assert run["findings"] == 1
    finally:
        cli("stop", "--timeout", "30", timeout=60)
        instance.wait(30)
