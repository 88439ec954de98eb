"""A broken config.toml does not lock the user out (real processes): the commands that do not need
the new config run with a warning, the others refuse with exit 2, and `run` logs why it refused."""

from __future__ import annotations

from tests.helpers import cli

GARBAGE = "[heartbeat\ninterval_seconds = = 5\n"


def test_status_stop_pause_resume_and_doctor_work_with_a_warning_when_the_config_is_broken(wk_home):
    wk_home.config_file.write_text(GARBAGE)
    for args, code in ((("status",), 1), (("pause", "1h"), 0), (("resume",), 0), (("stop",), 0)):
        result = cli(*args)
        assert result.returncode == code, (args, result.stderr)
        assert f"watchkeeper: warning: config.toml {wk_home.config_file}:" in result.stderr, args
        assert "not valid TOML" in result.stderr and "using defaults" in result.stderr, args
    doctor = cli("doctor")
    assert doctor.returncode == 1
    assert any(line.startswith("PROBLEM config:") and "not valid TOML" in line for line in doctor.stdout.splitlines())


def test_commands_that_need_the_new_config_still_refuse_with_exit_2(wk_home):
    wk_home.config_file.write_text(GARBAGE)
    for args in (("check", "run", "--all"), ("checks",), ("run", "--headless")):
        result = cli(*args)
        assert result.returncode == 2, args
        assert "watchkeeper: config error:" in result.stderr and "not valid TOML" in result.stderr, args


def test_a_config_error_at_start_is_written_to_the_log_file(wk_home):
    wk_home.config_file.write_text('[heartbeat]\ninterval_seconds = "often"\n')
    assert cli("run", "--headless").returncode == 2
    text = wk_home.log_file.read_text()
    assert "cannot start: config error:" in text
    assert "heartbeat.interval_seconds = 'often' is not allowed" in text

