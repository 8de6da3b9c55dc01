"""The risk unit against ``protocol.risk``: TAV, IMR and MMR of random accounts over every
market at random marks and funding indices (minimal and devnet), the valid-risk-change rule on
random and edge-case pairs (its MMR = 0 branch included), and a broken rule refused by its one
named constraint."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.risk import (
    MarketRiskVars,
    PositionVars,
    RiskVars,
    RiskWidths,
    assert_valid_risk_change,
    compute_risk,
    is_valid_risk_change,
)
from circuits.gadgets.rounding import ceil_div
from circuits.r1cs import Builder, LinearCombination
from protocol.accounts import Account, Position
from protocol.book import OrderBook
from protocol.field import R, from_signed, to_signed
from protocol.markets import Market, MarketData, MarketParams
from protocol.params import Preset
from protocol.risk import Risk
from protocol.risk import compute_risk as native_risk
from protocol.risk import is_valid_risk_change as native_valid
from protocol.types import PPM
from tests.circuits.harness import Gadget, run_gadget
from tests.circuits.trading_samples import PRESETS, failing

Wires = list[LinearCombination]
PRESET_NAMES = ["minimal", "devnet"]


def random_markets(preset: Preset, rng: random.Random) -> list[Market]:
    markets = []
    for m in range(preset.max_markets):
        mmf = rng.randrange(2, 200_000)
        params = MarketParams(imf=rng.randrange(mmf, PPM + 1), mmf=mmf, cmf=mmf // 2)
        mark = rng.choice(
            [1, (1 << preset.price_bits) - 1, rng.randrange(1, 1 << preset.price_bits)]
        )
        index = rng.randrange(-(1 << preset.funding_index_bits) + 1, 1 << preset.funding_index_bits)
        data = MarketData(index_price=mark, mark_price=mark, funding_index=index)
        markets.append(Market(m, params, data, OrderBook(preset.order_nonce_bits)))
    return markets


def random_account(preset: Preset, markets: list[Market], rng: random.Random) -> Account:
    bits = preset.collateral_bits
    account = Account(5, collateral=rng.randrange(-(1 << bits) + 1, 1 << bits))
    size_limit = 1 << preset.base_amount_bits
    for market in markets:
        shape = rng.randrange(4)  # absent, empty-but-leveraged, small, anywhere in range
        if shape == 0:
            continue
        size = 0 if shape == 1 else rng.randrange(-99, 100)
        if shape == 3:
            size = rng.randrange(-size_limit + 1, size_limit)
        snapshot = market.data.funding_index - rng.randrange(-(10**9), 10**9)
        if rng.random() < 0.3:
            f = preset.funding_index_bits
            snapshot = rng.randrange(-(1 << f) + 1, 1 << f)
        imf = rng.choice([0, rng.randrange(market.params.imf, PPM + 1), rng.randrange(PPM)])
        account.positions[market.index] = Position(size, 0, snapshot, imf)
    return account


def risk_inputs(account: Account, markets: list[Market]) -> list[int]:
    values = [from_signed(account.collateral)]
    for market in markets:
        position = account.positions.get(market.index, Position())
        values += [from_signed(position.size), from_signed(position.funding_index), position.imf]
    for market in markets:
        data, params = market.data, market.params
        values += [data.mark_price, from_signed(data.funding_index), params.imf, params.mmf]
    return values


def risk_gadget(preset: Preset) -> Gadget:
    count = preset.max_markets

    def gadget(cs: Builder, ins: Wires) -> Wires:
        positions = [PositionVars(*ins[1 + 3 * m : 4 + 3 * m]) for m in range(count)]
        offset = 1 + 3 * count
        markets = [MarketRiskVars(*ins[offset + 4 * m : offset + 4 * m + 4]) for m in range(count)]
        risk = compute_risk(cs, preset, ins[0], positions, markets)
        return [risk.tav, risk.imr, risk.mmr]

    return gadget


@pytest.mark.parametrize("preset_name", PRESET_NAMES)
@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_risk_matches_the_rules(preset_name: str, seed: int) -> None:
    preset, rng = PRESETS[preset_name], random.Random(seed)
    markets = random_markets(preset, rng)
    account = random_account(preset, markets, rng)
    run = run_gadget(risk_gadget(preset), risk_inputs(account, markets))
    run.check()
    risk = native_risk(account, markets)
    assert [to_signed(v) for v in run.outputs] == [risk.tav, risk.imr, risk.mmr]


def test_the_widths_hold_the_extremes_of_every_preset() -> None:
    """The largest account of the preset passes its own range checks."""
    for preset in PRESETS.values():
        rng = random.Random(1)
        markets = random_markets(preset, rng)
        top = (1 << preset.base_amount_bits) - 1
        f = (1 << preset.funding_index_bits) - 1
        for market in markets:
            market.data.mark_price = (1 << preset.price_bits) - 1
            market.data.funding_index = f
        for size, snapshot in [(top, -f), (-top, f)]:
            account = Account(5, collateral=-(1 << preset.collateral_bits) + 1)
            for market in markets:
                account.positions[market.index] = Position(size, 0, snapshot, PPM)
            run = run_gadget(risk_gadget(preset), risk_inputs(account, markets))
            run.check()
            assert to_signed(run.outputs[0]) == native_risk(account, markets).tav
        widths = RiskWidths.of(preset)
        assert widths.tav + widths.margin + 3 < 253


def test_a_size_beyond_its_width_is_refused() -> None:
    preset, rng = PRESETS["minimal"], random.Random(2)
    markets = random_markets(preset, rng)
    account = Account(5, collateral=0, positions={0: Position(1 << preset.base_amount_bits, 0, 0)})
    run = run_gadget(risk_gadget(preset), risk_inputs(account, markets))
    assert failing(run) == ["risk/market0/magnitude/range/bits_sum"]


@pytest.mark.parametrize(
    ("imf", "shift", "refused_by"),
    [
        # 21 lots of notional at imf 952,381: x = 20,000,001, ceiling 21, remainder 999,999;
        # rounding down (the account's favour) leaves remainder -1
        (952_381, -1, "remainder/range/bits_sum"),
        # at imf 1,000,000: x = 21,000,000 divides; one more (overcharging) leaves 1,000,000
        (1_000_000, 1, "remainder_below_divisor/range/bits_sum"),
    ],
)
def test_a_margin_off_by_one_is_refused(imf: int, shift: int, refused_by: str) -> None:
    preset, rng = PRESETS["minimal"], random.Random(3)
    markets = random_markets(preset, rng)
    markets[0].params = MarketParams(imf=imf, mmf=50_000, cmf=1)
    markets[0].data.mark_price = 3
    snapshot = markets[0].data.funding_index
    account = Account(5, collateral=0, positions={0: Position(7, 0, snapshot)})
    cheat = {"risk/market0/imr/quotient": lambda x: [-(-x // PPM) + shift]}
    run = run_gadget(risk_gadget(preset), risk_inputs(account, markets), cheat)
    assert failing(run) == [f"risk/market0/imr/{refused_by}"]


def test_a_quotient_that_wraps_around_the_field_is_refused() -> None:
    """``(x + rem) / d`` exists in the field for every ``rem``: only ``u``'s range pins it."""
    d, x = PPM, 7 * 100_001 * 3
    wrapped = (x + 5) * pow(d, -1, R) % R  # rem = 5 is in range, but u is huge
    run = run_gadget(
        lambda cs, ins: [ceil_div(cs, ins[0], d, 64, False, "c")],
        [x],
        {"c/quotient": lambda v: [wrapped]},
    )
    assert failing(run) == ["c/quotient/range/bits_sum"]


# -- the valid-risk-change rule --------------------------------------------------------------


def rule_gadget(preset: Preset, asserted: bool) -> Gadget:
    def gadget(cs: Builder, ins: Wires) -> Wires:
        before, after = RiskVars(ins[0], ins[1], ins[2]), RiskVars(ins[3], ins[4], ins[5])
        if asserted:
            assert_valid_risk_change(cs, preset, before, after)
            return []
        return [is_valid_risk_change(cs, preset, before, after)]

    return gadget


def rule_inputs(before: Risk, after: Risk) -> list[int]:
    return [from_signed(v) for r in (before, after) for v in (r.tav, r.imr, r.mmr)]


def risks(preset: Preset) -> st.SearchStrategy[Risk]:
    widths = RiskWidths.of(preset)
    small = st.integers(-20, 20)
    tav = st.one_of(small, st.integers(-(1 << widths.tav) + 1, (1 << widths.tav) - 1))
    margin = st.one_of(st.integers(0, 20), st.integers(0, (1 << widths.margin) - 1))
    return st.builds(lambda t, i, m: Risk(t, max(i, m), m, 0), tav, margin, margin)


@pytest.mark.parametrize("preset_name", PRESET_NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_rule_matches_the_native_one(preset_name: str, data: st.DataObject) -> None:
    preset = PRESETS[preset_name]
    before = data.draw(risks(preset))
    after = data.draw(st.one_of(risks(preset), st.just(before)))
    run = run_gadget(rule_gadget(preset, False), rule_inputs(before, after))
    run.check()
    assert run.outputs == [int(native_valid(before, after))]


CASES = [  # (before, after, valid): each branch of is_valid_risk_change, at its edges
    (Risk(100, 50, 25, 0), Risk(50, 50, 25, 0), True),  # healthy after, exactly
    (Risk(100, 50, 25, 0), Risk(49, 50, 25, 0), False),  # healthy before must stay healthy
    (Risk(40, 50, 25, 0), Risk(40, 50, 25, 0), True),  # unhealthy, unchanged
    (Risk(40, 50, 25, 0), Risk(40, 50, 26, 0), False),  # MMR grew
    (Risk(40, 50, 25, 0), Risk(32, 40, 20, 0), True),  # TAV/MMR 1.6 -> 1.6
    (Risk(40, 50, 25, 0), Risk(31, 40, 20, 0), False),  # TAV/MMR 1.6 -> 1.55
    (Risk(-10, 0, 0, 0), Risk(-10, 0, 0, 0), True),  # MMR = 0: TAV may stay
    (Risk(-10, 0, 0, 0), Risk(-11, 0, 0, 0), False),  # MMR = 0: TAV may not fall
    (Risk(-10, 0, 0, 0), Risk(-9, 10, 5, 0), False),  # MMR = 0: opening a position is MMR grown
    (Risk(-10, 20, 10, 0), Risk(-5, 10, 5, 0), True),  # bankrupt: TAV/MMR -1 -> -1
    (Risk(-10, 20, 10, 0), Risk(-6, 10, 5, 0), False),  # bankrupt: TAV/MMR -1 -> -1.2
]


@pytest.mark.parametrize(("before", "after", "valid"), CASES)
def test_each_branch_of_the_rule(before: Risk, after: Risk, valid: bool) -> None:
    assert native_valid(before, after) is valid
    run = run_gadget(rule_gadget(PRESETS["devnet"], False), rule_inputs(before, after))
    run.check()
    assert run.outputs == [int(valid)]


def test_a_broken_rule_is_refused_by_its_constraint_alone() -> None:
    gadget = rule_gadget(PRESETS["devnet"], True)
    run_gadget(gadget, rule_inputs(Risk(40, 50, 25, 0), Risk(32, 40, 20, 0))).check()
    broken = run_gadget(gadget, rule_inputs(Risk(40, 50, 25, 0), Risk(31, 40, 20, 0)))
    assert failing(broken) == ["valid_risk_change"]


def test_a_flipped_health_comparison_is_refused() -> None:
    """A prover claiming a pre-liquidation account healthy is caught in the comparison."""
    before, after = Risk(100, 50, 25, 0), Risk(49, 50, 25, 0)
    bits = max(RiskWidths.of(PRESETS["devnet"]).tav, RiskWidths.of(PRESETS["devnet"]).margin) + 1

    def flipped(v: int) -> list[int]:
        return [(v >> i) & 1 for i in range(bits)] + [1 - (v >> bits & 1)]

    cheat = {"risk_change/healthy_after/less_than/to_bits/bits": flipped}
    run = run_gadget(rule_gadget(PRESETS["devnet"], True), rule_inputs(before, after), cheat)
    assert failing(run) == ["risk_change/healthy_after/less_than/to_bits/bits_sum"]
