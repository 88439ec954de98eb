"""Bad input on the command line is refused with the reason and exit 2 (real processes)."""

from __future__ import annotations

from tests.helpers import cli


def test_pause_beyond_thirty_days_is_refused_naming_the_maximum(wk_home):
    result = cli("pause", "31d")
    assert result.returncode == 2 and "pause too long: 31d (at most 30 days)" in result.stderr
    assert "paused" not in cli("status").stdout.lower()


def test_log_limit_must_be_positive(wk_home):
    result = cli("log", "--limit", "-5")
    assert result.returncode == 2 and "limit must be from 1 to 1000, not -5" in result.stderr


def test_log_of_an_unknown_check_names_the_known_checks(wk_home):
    result = cli("log", "--check", "NOSUCH")
    assert result.returncode == 2
    assert "no check named 'NOSUCH'; checks: stale_applications, session_crash" in result.stderr


def test_chat_id_written_as_a_number_is_accepted(wk_home):
    with wk_home.config_file.open("a") as fh:
        fh.write("[telegram]\nchat_id = 777\n")
    result = cli("config", "show")
    assert result.returncode == 0 and "chat_id = '777'" in result.stdout


def test_windows_path_in_double_quotes_gets_a_hint(wk_home):
    with wk_home.config_file.open("a") as fh:
        fh.write('[general]\nlog_dir = "C:\\Users\\me"\n')
    result = cli("config", "validate")
    assert result.returncode == 2
    assert "use single quotes for Windows paths: log_dir = 'C:\\Users\\me'" in result.stderr
