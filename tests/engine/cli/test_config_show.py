"""`config show` prints TOML: every block reads back (tomllib) as the effective settings, so a user can
paste it into config.toml; each key still names its source."""

from __future__ import annotations

import datetime
import json
import math
import tomllib

from engine.cli.config import settings_toml, toml_value
from tests.helpers import cli

TRICKY = ["plain", "it's", 'say "hi"', "C:\\Users\\me", "two\nlines", "tab\there", "del\x7f", "nul\x00", "ünï 🙂", ""]


def test_every_value_reads_back_as_itself():
    values = {f"k{i}": v for i, v in enumerate(TRICKY)}
    values.update(yes=True, no=False, n=-3, f=0.25, big=1e300, inf=math.inf, ninf=-math.inf, lst=[1, "a'b", [True]],
                  table={"a b": 1, "c": "d"}, when=datetime.datetime(2026, 12, 1, 17, 0, tzinfo=datetime.UTC),
                  day=datetime.date(2026, 12, 1), empty=[])
    text = "\n".join(f"{k} = {toml_value(v)}" for k, v in values.items())
    assert tomllib.loads(text) == values
    assert math.isnan(tomllib.loads(f"x = {toml_value(math.nan)}")["x"])


def test_strings_stay_literal_where_they_can_so_windows_paths_read_as_written():
    assert toml_value("C:\\Users\\me") == "'C:\\Users\\me'"
    assert toml_value("it's") == '"it\'s"'
    assert toml_value(True) == "true"


def test_sections_checks_and_user_checks_render_as_tables_with_their_sources():
    data = {"api": {"port": 8765, "enabled": True, "bind": "127.0.0.1"},
            "checks": {"disk space": {"min_free_mb": 500, "paths": ["C:\\", "/"]}},
            "user_checks": [{"name": "web", "url": "https://example.org/?a='1'"}, {"name": "db", "port": 5432}]}
    origins = {"api": {"port": "env WATCHKEEPER_API_PORT", "enabled": "default", "bind": "file"}}
    lines = settings_toml(data, origins)
    assert "port = 8765  # env WATCHKEEPER_API_PORT" in lines and "enabled = true  # default" in lines
    assert '[checks."disk space"]' in lines and lines.count("[[user_checks]]") == 2
    assert tomllib.loads("\n".join(lines)) == data


def test_a_value_that_is_not_set_is_a_comment_not_invalid_toml():
    lines = settings_toml({"general": {"timezone": None, "log_level": "INFO"}}, {"general": {}})
    assert "# timezone is not set  # default" in lines
    assert tomllib.loads("\n".join(lines)) == {"general": {"log_level": "INFO"}}


def test_config_show_output_is_valid_toml_equal_to_the_json_settings(wk_home):
    with wk_home.config_file.open("a") as fh:
        fh.write("[checks.disk_space]\nmin_free_mb = 512\n\n"
                 "[[user_checks]]\nname = \"greet\"\nkind = \"command\"\ncommand = [\"echo\", \"it's \\\"here\\\"\"]\n")
    text = cli("config", "show", check=True).stdout
    settings = json.loads(cli("config", "show", "--json", check=True).stdout)["settings"]
    assert settings["user_checks"][0]["command"] == ["echo", "it's \"here\""]
    assert tomllib.loads(text) == settings
    assert "enabled = true  # default" in text.splitlines()
