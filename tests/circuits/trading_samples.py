"""Samples for the trading gadgets' tests: real books and accounts made by the engine's own
rules (``tests.protocol.helpers.Env``), and the list of every constraint a witness breaks (a
tampered witness must break exactly the constraint under test: removing it would accept)."""

from __future__ import annotations

import random

from circuits.r1cs import ConstraintSystem
from protocol.book import Order
from protocol.commitment import compute_quote_shift, update_state_root
from protocol.field import R
from protocol.params import DEVNET, MINIMAL, Preset
from tests.circuits.harness import Run
from tests.protocol.helpers import BTC, Env

PRESETS = {
    "minimal": MINIMAL.with_overrides(ops_per_block=1024),
    "devnet": DEVNET.with_overrides(ops_per_block=1024),
}
MID = 10_000  # BTC's index price in the engine's test harness


def failing(run: Run) -> list[str]:
    """The names of every constraint the witness breaks (in order)."""
    return failing_in(run.system, run.witness)


def failing_in(system: ConstraintSystem, witness: list[int]) -> list[str]:
    def dot(lc: dict[int, int]) -> int:
        return sum(c * witness[k] for k, c in lc.items())

    return [c.name for c in system.constraints if (dot(c.a) * dot(c.b) - dot(c.c)) % R]


def sample_book(preset: Preset, seed: int, orders: int = 24, spread: int = 4) -> Env:
    """An engine state whose BTC book holds ``orders`` resting orders of random sizes on
    ``spread`` price levels a side (asks from MID up, bids below), placed in random order by
    several accounts, with its trees up to date."""
    env = Env(preset=preset)
    accounts = env.open_many(6, 10**12)
    rng = random.Random(seed)
    for i in range(orders):
        is_ask = rng.random() < 0.5
        price = MID + rng.randrange(spread) if is_ask else MID - 1 - rng.randrange(spread)
        env.place(accounts[i % len(accounts)], BTC, is_ask, price, rng.randrange(1, 50))
    update_state_root(env.state)
    return env


def side_in_priority(env: Env, is_ask: bool) -> list[Order]:
    return list(env.state.markets[BTC].book.iter_side(is_ask))


def quote_shift(env: Env) -> int:
    return compute_quote_shift(env.state.preset)
