"""The bundled price table, model matching and a user's override file."""

from __future__ import annotations

import json

import pytest

from engine.archive.prices import BUNDLED, FIELDS, OPTIONAL_FIELDS, Price, PriceError, load_prices, parse_table


def test_bundled_table_is_dated_and_prices_claude_and_codex_models():
    table = load_prices()
    assert table.as_of and table.source
    for model in ("claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5", "gpt-5-codex"):
        assert table.price_of(model) is not None


def test_every_bundled_entry_validates_with_all_four_prices():
    raw = json.loads(BUNDLED.read_text(encoding="utf-8"))
    table = parse_table(raw, "bundled")
    assert set(table.models) == set(raw["models"])
    for name, entry in raw["models"].items():
        assert set(FIELDS) <= set(entry) <= set(FIELDS + OPTIONAL_FIELDS), name
        # Claude models carry their 1-hour cache write (twice the input price, as ccusage has it); OpenAI has none
        assert ("cache_write_1h" in entry) == name.startswith("claude-"), name


def test_bundled_table_is_ccusage_20_0_24s_offline_table_dated_by_its_release():
    table = load_prices()
    assert table.as_of == "2026-09-22" and "ccusage 20.0.24" in table.source


@pytest.mark.parametrize(("model", "price"), [
    # read back from ccusage 20.0.24 --offline: the cost of 100,000 tokens of each kind, per million
    ("claude-opus-4-7", Price(5.0, 25.0, 6.25, 0.5, 10.0)),
    ("claude-opus-4-8", Price(5.0, 25.0, 6.25, 0.5, 10.0)),
    ("claude-opus-4-1", Price(15.0, 75.0, 18.75, 1.5, 30.0)),
    ("claude-sonnet-4-6", Price(3.0, 15.0, 3.75, 0.3, 6.0)),
    ("claude-haiku-4-5", Price(1.0, 5.0, 1.25, 0.1, 2.0)),
    ("claude-3-5-haiku", Price(0.8, 4.0, 1.0, 0.08, 1.6)),
    ("gpt-5.2", Price(1.75, 14.0, 0.0, 0.175)),
    ("gpt-5.5", Price(5.0, 30.0, 0.0, 0.5)),
    ("gpt-5.1-codex-mini", Price(0.25, 2.0, 0.0, 0.025)),
])
def test_models_in_use_now_carry_ccusages_prices(model, price):
    assert load_prices().price_of(model) == price


def test_one_hour_cache_writes_cost_their_own_price_and_default_to_the_five_minute_one():
    opus = load_prices().price_of("claude-opus-4-7")
    assert opus is not None
    # 100,000 cache-write tokens of which 40,000 for an hour: 60,000 x $6.25 + 40,000 x $10 per million
    assert opus.cost(0, 0, 100_000, 0, cache_creation_1h_tokens=40_000) == pytest.approx(0.375 + 0.4)
    assert Price(1, 1, 2, 1).cost(0, 0, 1_000_000, 0, cache_creation_1h_tokens=1_000_000) == 2


def test_dated_model_ids_match_their_undated_price():
    table = load_prices()
    assert table.price_of("claude-sonnet-4-5-20250929") == table.price_of("claude-sonnet-4-5")
    assert table.price_of("claude-haiku-4-5@20251001") == table.price_of("claude-haiku-4-5")


def test_openai_snapshot_ids_match_their_undated_price():
    table = load_prices()
    assert table.price_of("gpt-5-2025-08-07") == table.price_of("gpt-5")
    assert table.price_of("gpt-5.2-2025-12-11") == table.price_of("gpt-5.2")


def test_only_a_whole_date_suffix_is_stripped():
    table = load_prices()
    assert table.price_of("gpt-5-2025") is None
    assert table.price_of("claude-opus-4-7-2026") is None


def test_an_unknown_model_of_a_known_family_is_not_guessed():
    table = load_prices()
    assert table.price_of("claude-opus-4-99") is None
    assert table.price_of("gpt-5-codex-turbo") is None
    # ccusage 20 prices these by a looser match (claude-opus-5 as Opus 4.5, o4-mini from another provider's
    # entry at half of OpenAI's price); the table does not follow it there
    assert table.price_of("claude-opus-5") is None
    assert table.price_of("o4-mini") is None


def test_override_file_replaces_and_adds_models(tmp_path):
    mine = tmp_path / "prices.json"
    mine.write_text(json.dumps({"as_of": "2026-11-30", "models": {
        "claude-sonnet-4-5": {"input": 1, "output": 2, "cache_write": 3, "cache_read": 4},
        "my-model": {"input": 0, "output": 0, "cache_write": 0, "cache_read": 0}}}))
    table = load_prices(mine)
    assert table.as_of == "2026-11-30"
    assert table.price_of("claude-sonnet-4-5").output == 2
    assert table.price_of("my-model") is not None and table.price_of("gpt-5") is not None


@pytest.mark.parametrize(("entry", "problem"), [
    ({"input": 1, "output": "x", "cache_write": 0, "cache_read": 0}, "model 'm': 'output' must be a number"),
    ({"input": 1, "output": 1, "cache_write": 0}, "model 'm': 'cache_read' must be a number"),
    ({"input": -1, "output": 1, "cache_write": 0, "cache_read": 0}, "model 'm': 'input' must be a number >= 0"),
    ({"input": 1, "output": 1, "cache_write": 0, "cache_read": 0, "cache_5h": 1}, "unknown field(s) cache_5h"),
    ({"input": 1, "output": 1, "cache_write": 0, "cache_read": 0, "cache_write_1h": "2"},
     "model 'm': 'cache_write_1h' must be a number >= 0"),
])
def test_bad_override_names_the_file_model_and_field(tmp_path, entry, problem):
    mine = tmp_path / "prices.json"
    mine.write_text(json.dumps({"as_of": "2026-11-30", "models": {"m": entry}}))
    with pytest.raises(PriceError) as err:
        load_prices(mine)
    assert str(mine) in str(err.value) and problem in str(err.value)


def test_override_that_is_not_json_or_missing_is_refused(tmp_path):
    bad = tmp_path / "prices.json"
    bad.write_text("{nope")
    with pytest.raises(PriceError, match="not valid JSON"):
        load_prices(bad)
    with pytest.raises(PriceError, match="cannot read"):
        load_prices(tmp_path / "absent.json")


def test_bundled_table_sits_beside_its_module_for_the_one_file_build():
    assert BUNDLED.is_file() and BUNDLED.parent.name == "archive"
