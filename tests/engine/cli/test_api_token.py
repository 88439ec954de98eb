"""`watchkeeper api token --scrape` through a real process: a separate token, private from its first byte."""

from __future__ import annotations

import os
import stat
import sys

from engine.api.tokens import read_token, token_file
from tests.helpers import cli


def test_api_token_scrape_creates_a_private_third_token_once(wk_home):
    first = cli("api", "token", "--scrape", check=True).stdout.strip()
    assert first == read_token(wk_home, scrape=True)
    assert first not in (read_token(wk_home), read_token(wk_home, read_only=True))
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(token_file(wk_home, scrape=True)).st_mode) == 0o600
    assert cli("api", "token", "--scrape", check=True).stdout.strip() == first
    rotated = cli("api", "token", "--scrape", "--rotate", check=True).stdout.strip()
    assert rotated != first and rotated == read_token(wk_home, scrape=True)


def test_api_token_refuses_read_only_and_scrape_together(wk_home):
    result = cli("api", "token", "--scrape", "--read-only")
    assert result.returncode == 2 and "not allowed with argument" in result.stderr
    assert read_token(wk_home, scrape=True) is None
