"""The position gadgets against ``protocol.positions``: the cost basis on random and edge-case
trades (increase, reduce, close, flip, from and to zero), and a fill applied to both sides of
a real engine trade after a funding move; then the size's range and the sign of zero."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.positions import PositionLeafVars, apply_fill, compute_entry_quote
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.accounts import Position
from protocol.events import Trade
from protocol.field import from_signed, to_signed
from protocol.positions import compute_entry_quote as native_entry_quote
from protocol.risk import compute_unsettled_funding
from tests.circuits.harness import Run, run_gadget
from tests.circuits.trading_samples import MID, PRESETS, failing
from tests.protocol.helpers import BTC, Env

Wires = list[LinearCombination]
PRESET = PRESETS["devnet"]
LOTS = 1 << PRESET.base_amount_bits
QUOTE = 1 << PRESET.quote_amount_bits


def entry_gadget(cs: Builder, ins: Wires) -> Wires:
    return [compute_entry_quote(cs, PRESET, *ins)]


def run_entry(size: int, entry: int, delta: int, quote: int) -> Run:
    return run_gadget(entry_gadget, [from_signed(v) for v in (size, entry, delta, quote)])


def sizes() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(-5, 5), st.integers(-LOTS + 1, LOTS - 1))


def quotes() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(-50, 50), st.integers(-QUOTE // 2, QUOTE // 2))


@settings(max_examples=60, deadline=None)
@given(size=sizes(), entry=quotes(), quote=quotes(), data=st.data())
def test_the_cost_basis_matches_the_rules(
    size: int, entry: int, quote: int, data: st.DataObject
) -> None:
    delta = data.draw(st.one_of(st.just(-size), sizes()))
    if abs(size + delta) >= LOTS:
        delta = -delta
    run = run_entry(size, entry, delta, quote)
    run.check()
    assert to_signed(run.outputs[0]) == native_entry_quote(size, entry, delta, quote)


@pytest.mark.parametrize(
    ("size", "entry", "delta", "quote"),
    [
        (0, 0, 7, 700),  # opens
        (5, 500, 3, 330),  # increases a long
        (-5, -500, -3, -330),  # increases a short
        (5, 500, -5, -520),  # closes
        (5, 501, -2, -200),  # reduces a long: 501 * 3 / 5 = 300.6 -> 300
        (-5, -501, 2, 200),  # reduces a short: -300.6 -> -300 (toward zero)
        (5, 500, -8, -777),  # flips to short: -777 * -3 / -8 = -291.375 -> -291
        (-5, -500, 8, 777),  # flips to long: 291
        (5, 500, 0, 0),  # no lots: kept
        (-5, -500, 0, 0),  # no lots on a short: the rules' "increasing" branch
    ],
)
def test_each_branch_of_the_cost_basis(size: int, entry: int, delta: int, quote: int) -> None:
    run = run_entry(size, entry, delta, quote)
    run.check()
    assert to_signed(run.outputs[0]) == native_entry_quote(size, entry, delta, quote)


def fill_side_gadget(cs: Builder, ins: Wires) -> Wires:
    # the snapshot before is the risk unit's (in ``owed``): apply_fill only replaces it
    position = PositionLeafVars(ins[0], ins[1], ZERO, ins[2])
    applied = apply_fill(cs, PRESET, position, *ins[3:])
    after = applied.position
    return [
        after.size,
        after.entry_quote,
        after.funding_index,
        after.imf,
        applied.collateral_change,
        applied.long_change,
    ]


def run_side(position: Position, index: int, owed: int, lots: int, paid: int, fee: int) -> Run:
    values = [position.size, position.entry_quote, position.imf, index, owed, lots, paid, fee]
    return run_gadget(fill_side_gadget, [from_signed(v) for v in values])


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_a_fill_moves_both_positions_as_the_engine_does(seed: int) -> None:
    rng = random.Random(seed)
    env = Env()
    makers_side = rng.random() < 0.5
    env.open_many(2, 10**12)
    opened = rng.randrange(1, 500)
    env.place(3, BTC, makers_side, MID, opened)
    env.place(4, BTC, not makers_side, MID, opened)  # opens both positions, empties the book
    market = env.state.markets[BTC]
    market.data.funding_index += rng.randrange(-(10**9), 10**9)  # a funding move, unsettled
    befores, owed = {}, {}
    for account in (3, 4):
        position = env.state.accounts[account].positions.get(BTC, Position())
        befores[account] = replace(position)
        owed[account] = compute_unsettled_funding(position, market) if position.size else 0
    collateral = {a: env.state.accounts[a].collateral for a in (3, 4)}
    interest = market.data.open_interest
    price, is_ask = MID + rng.randrange(-50, 50), rng.random() < 0.5
    env.place(3, BTC, not is_ask, price, rng.randrange(1, 800))
    events = env.place(4, BTC, is_ask, price, rng.randrange(1, 800))
    (trade,) = [e for e in events if isinstance(e, Trade)]
    lots = -trade.size if is_ask else trade.size
    long_change = 0
    for account, sign, fee in ((4, 1, trade.taker_fee), (3, -1, trade.maker_fee)):
        run = run_side(
            befores[account],
            market.data.funding_index,
            owed[account],
            sign * lots,
            sign * lots * trade.price,
            fee,
        )
        run.check()
        after = env.state.accounts[account].positions.get(BTC, Position())
        size, entry, index, imf, change, grown = (to_signed(v) for v in run.outputs)
        assert (size, entry, imf) == (after.size, after.entry_quote, after.imf)
        if after.size or after.entry_quote:
            assert index == after.funding_index
        assert change == env.state.accounts[account].collateral - collateral[account]
        long_change += grown
    assert long_change == market.data.open_interest - interest


def test_a_size_beyond_its_width_is_refused() -> None:
    run = run_side(Position(LOTS - 1, 0, 0, 0), 0, 0, 1, MID, 0)
    assert failing(run) == ["apply_fill/new/magnitude/range/bits_sum"]


def test_zero_claimed_negative_is_refused() -> None:
    """At 0, ``0 = |0| - 2 * negative * |0|`` holds for either sign bit: the pin decides."""
    cheat = {"entry_quote/size/magnitude/sign_and_magnitude": lambda v: [1, 0]}
    inputs = [from_signed(v) for v in (0, 0, 7, 700)]
    run = run_gadget(entry_gadget, inputs, cheat)
    assert failing(run) == ["entry_quote/size/zero_is_not_negative"]
