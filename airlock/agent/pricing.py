"""Estimated cost of tokens, per model family (USD per million tokens)."""

from __future__ import annotations

from pydantic import BaseModel

# (input, output) per million tokens; cache writes cost 1.25x input, reads 0.1x.
PRICES: tuple[tuple[str, float, float], ...] = (
    ("demo-model", 0.0, 0.0),
    ("claude-opus-4-1", 15.0, 75.0),
    ("claude-opus-4-0", 15.0, 75.0),
    ("claude-opus-4-2025", 15.0, 75.0),
    ("claude-opus", 5.0, 25.0),
    ("claude-haiku-3", 0.8, 4.0),
    ("claude-haiku", 1.0, 5.0),
    ("claude-sonnet", 3.0, 15.0),
)
DEFAULT_PRICE = (3.0, 15.0)


class TokenCount(BaseModel):
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0


def price_of(model: str) -> tuple[float, float]:
    for prefix, input_price, output_price in PRICES:
        if model.startswith(prefix):
            return input_price, output_price
    return DEFAULT_PRICE


def cost_usd(model: str, tokens: TokenCount) -> float:
    input_price, output_price = price_of(model)
    return (
        tokens.input * input_price
        + tokens.cache_write * input_price * 1.25
        + tokens.cache_read * input_price * 0.1
        + tokens.output * output_price
    ) / 1_000_000
