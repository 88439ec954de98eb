"""Token prices: the bundled, dated table (prices.json beside this module) or a user's file of the same shape.

Shape: ``{"as_of": "YYYY-MM-DD", "source": "...", "models": {MODEL: {"input", "output", "cache_write",
"cache_read"}}}``, USD per million tokens (``cache_write`` = Anthropic's 5-minute cache write); optional
``cache_write_1h`` = the 1-hour cache write (ccusage prices it at twice the input price; absent: the 5-minute
price). A user's file replaces the bundled models it names and adds new ones; ``as_of`` then is the file's.

Model matching (:meth:`PriceTable.price_of`): the exact id, then the id without a dated suffix
(Anthropic's ``claude-sonnet-4-5-20250929`` or ``...@20250929`` -> ``claude-sonnet-4-5``, OpenAI's snapshot
``gpt-5-2025-08-07`` -> ``gpt-5``). Nothing else: an id not in the table is *unpriced* (listed, never guessed from
a family name, since a newer model of a family may cost differently). ccusage 20 goes further (it prices
``claude-opus-5`` as Opus 4.5 and ``o4-mini`` from another provider's entry); the table does not follow it there.

The bundled table is ccusage 20.0.24's offline table read back black-box, so costs agree with ccusage; its
long-context tiers are not modelled (see ``source`` in prices.json).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

BUNDLED = Path(__file__).resolve().parent / "prices.json"
FIELDS = ("input", "output", "cache_write", "cache_read")
OPTIONAL_FIELDS = ("cache_write_1h",)
_DATED = re.compile(r"(?:[-@]\d{8}|-\d{4}-\d{2}-\d{2})$")


class PriceError(ValueError):
    """A price table that cannot be used (the message names the file, model and field)."""


@dataclass(frozen=True)
class Price:
    """USD per million tokens of one model."""

    input: float
    output: float
    cache_write: float
    cache_read: float
    cache_write_1h: float | None = None

    def cost(self, input_tokens: int, output_tokens: int, cache_creation_tokens: int, cache_read_tokens: int,
             cache_creation_1h_tokens: int = 0) -> float:
        """The USD cost of these token counts; ``cache_creation_1h_tokens`` is the 1-hour part of
        ``cache_creation_tokens`` (Claude's ``cache_creation.ephemeral_1h_input_tokens``)."""
        one_hour = min(cache_creation_1h_tokens, cache_creation_tokens)
        write_1h = self.cache_write if self.cache_write_1h is None else self.cache_write_1h
        return (input_tokens * self.input + output_tokens * self.output
                + (cache_creation_tokens - one_hour) * self.cache_write + one_hour * write_1h
                + cache_read_tokens * self.cache_read) / 1_000_000


@dataclass(frozen=True)
class PriceTable:
    """Prices by model id, with the date they were taken and where from."""

    as_of: str
    source: str
    models: dict[str, Price]

    def price_of(self, model: str) -> Price | None:
        """The price of ``model`` (exact id, then without a dated suffix), or None: unpriced."""
        found = self.models.get(model)
        if found is None:
            found = self.models.get(_DATED.sub("", model))
        return found


def _rate(where: str, model: str, field: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise PriceError(f"{where}: model {model!r}: {field!r} must be a number >= 0 (USD per million tokens)")
    return float(v)


def parse_table(raw: Any, where: str) -> PriceTable:
    """A PriceTable from decoded JSON; PriceError naming ``where``, the model and the field for bad input."""
    if not isinstance(raw, dict):
        raise PriceError(f"{where}: expected an object with 'as_of' and 'models'")
    as_of = raw.get("as_of")
    try:
        date.fromisoformat(as_of) if isinstance(as_of, str) else None
    except ValueError:
        as_of = None
    if not isinstance(as_of, str):
        raise PriceError(f"{where}: 'as_of' must be a date YYYY-MM-DD")
    models = raw.get("models")
    if not isinstance(models, dict) or not models:
        raise PriceError(f"{where}: 'models' must be a non-empty object of model -> prices")
    out: dict[str, Price] = {}
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise PriceError(f"{where}: model {name!r}: expected an object with {', '.join(FIELDS)}")
        unknown = set(entry) - set(FIELDS) - set(OPTIONAL_FIELDS)
        if unknown:
            raise PriceError(f"{where}: model {name!r}: unknown field(s) {', '.join(sorted(unknown))}")
        inp, outp, write, read = (_rate(where, name, f, entry.get(f)) for f in FIELDS)
        one_hour = entry.get("cache_write_1h")
        out[name] = Price(inp, outp, write, read, None if one_hour is None else _rate(where, name, "cache_write_1h",
                                                                                        one_hour))
    source = raw.get("source")
    return PriceTable(as_of, source if isinstance(source, str) else where, out)


def _read(path: Path) -> PriceTable:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PriceError(f"{path}: cannot read the price table ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise PriceError(f"{path}: not valid JSON ({exc})") from None
    return parse_table(raw, str(path))


def load_prices(override: str | Path | None = None) -> PriceTable:
    """The bundled table, with the models of ``override`` (a JSON file of the same shape) replacing or added."""
    table = _read(BUNDLED)
    if not override:
        return table
    mine = _read(Path(override).expanduser())
    return PriceTable(mine.as_of, mine.source, {**table.models, **mine.models})
