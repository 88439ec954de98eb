"""API tokens: created once, private from the first byte, reloaded by a running server when rotated."""

from __future__ import annotations

import os
import stat
import sys

from engine.api.tokens import TokenStore, ensure_token, read_token, token_file


def test_token_created_once_private_and_reloaded(wk_home):
    assert read_token(wk_home) is None
    first = ensure_token(wk_home)
    assert ensure_token(wk_home) == first and len(first) >= 40
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(token_file(wk_home)).st_mode) == 0o600
    store = TokenStore(wk_home)
    assert store.current().full == first and store.current().read_only is None
    read_only = ensure_token(wk_home, read_only=True)
    assert store.current().read_only == read_only
    rotated = ensure_token(wk_home, rotate=True)
    os.utime(token_file(wk_home), ns=(1, 1))  # a different stamp even on coarse clocks
    assert rotated != first and store.current().full == rotated


def test_a_new_scrape_token_reaches_a_running_store(wk_home):
    store = TokenStore(wk_home)
    assert store.current().scrape is None
    scrape = ensure_token(wk_home, scrape=True)
    assert store.current().scrape == scrape and scrape in store.secrets()
    assert token_file(wk_home, scrape=True).name == "api-token-scrape"
