"""Thin integer types with units, and the range checks every amount passes through.

Every amount is a Python ``int``; the aliases below name its unit in every signature (they are
aliases, not ``NewType``s, so that callers in every layer pass plain ints and the hot path
pays nothing), and the ``check_*`` functions enforce the widths, which come from
``protocol.params.Preset``:

- ``Price``: an order or mark price in ticks, ``0 < price < 2^price_bits``;
- ``BaseAmount``: a size in lots, ``0 <= size < 2^base_amount_bits``;
- ``QuoteAmount``: USDC micro-units, ``0 <= quote < 2^quote_amount_bits`` (notional = price x size:
  a market's tick and lot are chosen so that one tick times one lot is one micro-USDC);
- ``SignedAmount``: a signed position size, collateral or funding index, ``|v| < 2^bits``.

Fractions (margin fractions, fees, price bands) are parts per million (``PPM``); funding rates
and premiums are parts per 10^8 (``RATE_SCALE``); the cumulative funding index is micro-USDC per
lot times ``FUNDING_INDEX_SCALE``.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeAlias

from protocol.errors import AmountOutOfRange

Price: TypeAlias = int  # ticks
BaseAmount: TypeAlias = int  # lots
QuoteAmount: TypeAlias = int  # micro-USDC
SignedAmount: TypeAlias = int  # signed lots, micro-USDC or funding index
AccountIndex: TypeAlias = int
MarketIndex: TypeAlias = int
Timestamp: TypeAlias = int  # unix seconds

PPM = 1_000_000
RATE_SCALE = 100_000_000
FUNDING_INDEX_SCALE = 1_000_000


def check_unsigned(value: int, bits: int, name: str) -> int:
    """``value`` when ``0 <= value < 2^bits``; raises AmountOutOfRange otherwise."""
    if type(value) is not int or not 0 <= value < 1 << bits:
        raise AmountOutOfRange(f"{name} = {value!r} is not an unsigned {bits}-bit integer")
    return value


def check_positive(value: int, bits: int, name: str) -> int:
    """``value`` when ``0 < value < 2^bits``; raises AmountOutOfRange otherwise."""
    if type(value) is not int or not 0 < value < 1 << bits:
        raise AmountOutOfRange(f"{name} = {value!r} is not a positive {bits}-bit integer")
    return value


def check_signed(value: int, bits: int, name: str) -> int:
    """``value`` when ``|value| < 2^bits``; raises AmountOutOfRange otherwise."""
    if type(value) is not int or not -(1 << bits) < value < 1 << bits:
        raise AmountOutOfRange(f"{name} = {value!r} is not a signed {bits}-bit integer")
    return value


# Copying the state when the engine is compiled (``protocol/__init__.py``): ``copy.deepcopy`` and
# ``pickle`` make an object without calling ``__init__`` and then set its attributes. A compiled
# class's ``__new__`` calls ``__init__`` unless the class is marked to allow interpreted
# subclasses, so every mutable class of the state carries
# ``@mypyc_attr(allow_interpreted_subclasses=True)`` (mypyc's ``serializable=True`` would say it
# better, but in mypyc 2.4 it leaves ``__init__`` uncalled when Python code creates the object),
# and a frozen one rebuilds itself through its constructor with ``reduce_frozen``.


def reduce_frozen(value: Any) -> tuple[type, tuple[object, ...]]:
    """``__reduce__`` of a frozen dataclass: copies and unpickles call its constructor (the
    compiled engine's generic copy would assign to frozen fields)."""
    return type(value), tuple(getattr(value, f.name) for f in fields(value))
