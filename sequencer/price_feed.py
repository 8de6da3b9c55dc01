"""Index prices for pre-execution: the operator's oracle feed (PROTOCOL 8.23).

At the start of each block the operator inserts one pre-execution operation per market, with
the index price the feed gives for the block's timestamp (``sequencer.builder``; only once the
block circuit proves pre-execution: ``circuits.ops.slot.PROVEN_TYPES``). Two feeds:

- ``ScriptedFeed`` (the devnet default): deterministic, a function of the timestamp alone, so a
  replayed block gets its prices again. Market ``m`` swings around its genesis index ``base_m``
  in a triangle wave of period ``period_s`` and amplitude ``amplitude_ppm``, each market a
  quarter period after the one before; integers only (``price = base · (10^6 + deviation) //
  10^6``).
- ``FilePriceFeed``: prices from a file (``zkperp operator run --prices FILE``). One price a
  line, as CSV ``timestamp,market,price`` (blank lines and lines starting with ``#`` skipped,
  an optional header line ``timestamp,market,price``) or as JSON Lines
  ``{"timestamp": T, "market": M, "price": P}`` (a file whose first line starts with ``{``).
  ``timestamp`` in unix seconds, ``market`` the market's index, ``price`` its index price in
  the market's units (USDC micro-units per lot), ``0 < price < 2^price_bits``. A block at time
  ``t`` gets, per market, the price of the last line at or before ``t`` (lines in any order;
  for the same timestamp and market the later line wins); a market without such a line keeps
  its current index.

Either way a feed only proposes, and the oracle signs: the devnet operator signs each price
with the deployment's oracle key (``sequencer.genesis.get_devnet_oracle_key``) at the block's
timestamp (``sign_prices``), and the rules refuse a price that is not signed, is stale or moves
too far (PROTOCOL 8.23). The signed prices are recorded with the sealed block
(``BlockRecord.index_prices``), so a restarted operator replays the blocks it sealed whatever
feed (or key) it now has.
"""

from __future__ import annotations

import bisect
import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

from protocol.eddsa import SecretKey, Signature
from protocol.oracle import sign_price
from protocol.types import PPM

DEFAULT_PERIOD_S = 4 * 3600  # a full swing every four hours
DEFAULT_AMPLITUDE_PPM = 20_000  # +-2 % around the genesis index
CSV_HEADER = ["timestamp", "market", "price"]


class SignedPrice(NamedTuple):
    """One market's index price as its oracle signed it (what a pre-execution carries)."""

    price: int
    timestamp: int  # when the oracle observed it, unix seconds
    signature: Signature


def sign_prices(
    key: SecretKey, chain_id: int, prices: Sequence[int], timestamp: int
) -> tuple[SignedPrice, ...]:
    """Each market's price signed at ``timestamp`` (market ``m`` is the ``m``-th price)."""
    return tuple(
        SignedPrice(price, timestamp, sign_price(key, chain_id, market, price, timestamp))
        for market, price in enumerate(prices)
    )


class PriceFeedError(ValueError):
    """A price file that cannot be read; the message names the line."""


class PriceFeed(Protocol):
    def get_index_prices(self, timestamp: int, current: Sequence[int]) -> tuple[int, ...]:
        """Each market's index price for a block at ``timestamp``, given each market's current
        index (``current``, one per market, in market order)."""
        ...


@dataclass(frozen=True)
class ScriptedFeed:
    """The deterministic devnet feed; see the module docstring."""

    bases: tuple[int, ...]  # each market's genesis index price
    period_s: int = DEFAULT_PERIOD_S
    amplitude_ppm: int = DEFAULT_AMPLITUDE_PPM

    def compute_deviation_ppm(self, timestamp: int, market: int) -> int:
        """The triangle wave: ``-amplitude`` at phase 0, ``+amplitude`` at half the period."""
        period = self.period_s
        phase = (timestamp + market * period // 4) % period
        distance = abs(2 * phase - period)  # period at phase 0, 0 at the half
        return self.amplitude_ppm * (period - 2 * distance) // period

    def get_index_prices(self, timestamp: int, current: Sequence[int]) -> tuple[int, ...]:
        return tuple(
            max(1, base * (PPM + self.compute_deviation_ppm(timestamp, m)) // PPM)
            for m, base in enumerate(self.bases[: len(current)])
        )


@dataclass(frozen=True)
class FilePriceFeed:
    """Prices from a file; see the module docstring (``load``)."""

    # per market: (timestamps ascending, prices), the last price for each timestamp
    series: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, markets: int, price_bits: int) -> FilePriceFeed:
        """Reads ``path``; raises PriceFeedError naming the first bad line."""
        try:
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise PriceFeedError(f"cannot read the price file {path}: {e}") from None
        points: dict[int, dict[int, int]] = {}
        try:
            parsed = parse_lines(lines)
        except PriceFeedError as e:
            raise PriceFeedError(f"{path}: {e}") from None
        for number, (timestamp, market, price) in parsed:
            if not 0 <= market < markets:
                raise PriceFeedError(f"{path}:{number}: no market {market} (0..{markets - 1})")
            if not 0 < price < 1 << price_bits:
                raise PriceFeedError(f"{path}:{number}: price {price} not in (0, 2^{price_bits})")
            if timestamp < 0:
                raise PriceFeedError(f"{path}:{number}: negative timestamp {timestamp}")
            points.setdefault(market, {})[timestamp] = price
        series = {m: (sorted(p), [p[t] for t in sorted(p)]) for m, p in points.items()}
        return cls(series)

    def get_index_prices(self, timestamp: int, current: Sequence[int]) -> tuple[int, ...]:
        return tuple(self.get_price(m, timestamp, index) for m, index in enumerate(current))

    def get_price(self, market: int, timestamp: int, current: int) -> int:
        times, prices = self.series.get(market, ([], []))
        at = bisect.bisect_right(times, timestamp)
        return prices[at - 1] if at else current


def parse_lines(lines: Sequence[str]) -> list[tuple[int, tuple[int, int, int]]]:
    """``(line number, (timestamp, market, price))`` per price line, CSV or JSON Lines."""
    numbered = [(n, line.strip()) for n, line in enumerate(lines, 1)]
    numbered = [(n, line) for n, line in numbered if line and not line.startswith("#")]
    if numbered and numbered[0][1].startswith("{"):
        return [(n, _parse_json(n, line)) for n, line in numbered]
    rows = [(n, next(csv.reader([line]))) for n, line in numbered]
    if rows and [cell.strip() for cell in rows[0][1]] == CSV_HEADER:
        rows = rows[1:]
    return [(n, _parse_row(n, row)) for n, row in rows]


def _parse_json(number: int, line: str) -> tuple[int, int, int]:
    try:
        body = json.loads(line)
    except ValueError as e:
        raise PriceFeedError(f"line {number}: not JSON: {e}") from None
    if not isinstance(body, dict) or set(body) != set(CSV_HEADER):
        raise PriceFeedError(f"line {number}: need exactly the keys {CSV_HEADER}")
    values = [body[k] for k in CSV_HEADER]
    if any(type(v) is not int for v in values):
        raise PriceFeedError(f"line {number}: timestamp, market and price must be integers")
    return values[0], values[1], values[2]


def _parse_row(number: int, row: list[str]) -> tuple[int, int, int]:
    if len(row) != 3:
        raise PriceFeedError(f"line {number}: need timestamp,market,price")
    try:
        timestamp, market, price = (int(cell.strip()) for cell in row)
    except ValueError:
        raise PriceFeedError(f"line {number}: {','.join(row)!r} is not three integers") from None
    return timestamp, market, price
