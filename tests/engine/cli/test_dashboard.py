"""`watchkeeper dashboard --no-browser`: the one-time login URL as the last line, or exit 1."""

from __future__ import annotations

from tests.engine.api.instance import running_instance
from tests.engine.api.ui.live import CONFIG, URL, login_url, post_token
from tests.helpers import cli, start_instance, wait_until


def test_it_prints_a_login_url_that_works_once(wk_home):
    with running_instance(wk_home, CONFIG):
        port, token = login_url()
        assert post_token(port, token).status == 204
        assert post_token(port, token).status == 401  # the URL is refused the second time
        again = cli("dashboard", "--no-browser")
        assert again.returncode == 0 and URL.match(again.stdout.splitlines()[-1])
        assert token not in again.stdout  # a fresh token each time


def test_it_exits_1_when_no_instance_runs(wk_home):
    result = cli("dashboard", "--no-browser")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "watchkeeper is not running" in result.stderr


def test_it_exits_1_naming_the_setting_when_the_api_is_off(wk_home):
    wk_home.config_file.write_text("[api]\nenabled = false\n\n[toast]\nenabled = false\n")
    proc = start_instance()
    try:
        wait_until(wk_home.control_file.exists, timeout=60, message="the instance's control channel")
        result = cli("dashboard", "--no-browser")
        assert result.returncode == 1
        assert result.stdout == ""
        assert "[api] enabled = true" in result.stderr
    finally:
        proc.terminate()
        proc.wait(30)
