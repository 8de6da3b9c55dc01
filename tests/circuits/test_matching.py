"""The fill gadget against the engine: a maker rests, a taker crosses it, and the gadget's size,
quote, fees, collateral changes and remaining sizes equal the engine's trade; then each named
check alone refuses the cheat it is there for."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.matching import MakerVars, TakerVars, compute_fill, compute_reducible
from circuits.gadgets.positions import compute_sign
from circuits.r1cs import Builder, LinearCombination
from protocol.accounts import FEE_ACCOUNT, Account, Position
from protocol.events import Trade
from protocol.field import R, to_signed
from protocol.markets import MarketParams
from protocol.matching import compute_reducible as native_reducible
from protocol.params import Preset
from tests.circuits.harness import Gadget, Run, run_gadget
from tests.circuits.trading_samples import MID, PRESETS, failing
from tests.protocol.helpers import BTC, Env

Wires = list[LinearCombination]
MAKER, TAKER = 3, 4


def fill_gadget(preset: Preset) -> Gadget:
    """Inputs: taker (is_ask, limit, remaining), maker (is_ask, price, remaining), the taker and
    maker fee rates, the claimed price and size."""

    def gadget(cs: Builder, ins: Wires) -> Wires:
        taker, maker = TakerVars(*ins[0:3]), MakerVars(*ins[3:6])
        fill = compute_fill(cs, preset, taker, maker, (ins[6], ins[7]), ins[8], ins[9])
        return [
            fill.quote,
            fill.taker_fee,
            fill.maker_fee,
            fill.taker_collateral_change,
            fill.maker_collateral_change,
            fill.taker_lots,
            fill.taker_remaining,
            fill.maker_remaining,
        ]

    return gadget


def fill_inputs(
    taker: tuple[bool, int, int],
    maker: tuple[int, int],
    fees: tuple[int, int],
    fill: tuple[int, int],
) -> list[int]:
    is_ask, limit, remaining = taker
    return [int(is_ask), limit, remaining, int(not is_ask), *maker, *fees, *fill]


def run_fill(
    preset: str,
    taker: tuple[bool, int, int],
    maker: tuple[int, int],
    fill: tuple[int, int],
    fees: tuple[int, int] = (500, 200),
) -> Run:
    return run_gadget(fill_gadget(PRESETS[preset]), fill_inputs(taker, maker, fees, fill))


@pytest.mark.parametrize("preset", ["minimal", "devnet"])
@settings(max_examples=8, deadline=None)
@given(
    taker_is_ask=st.booleans(),
    maker_price=st.integers(MID - 900, MID + 900),
    room=st.integers(0, 50),
    sizes=st.tuples(st.integers(1, 10**6), st.integers(1, 10**6)),
    fees=st.tuples(st.integers(0, 2_000), st.integers(0, 1_000)),
)
def test_a_fill_matches_the_engines_trade(
    preset: str,
    taker_is_ask: bool,
    maker_price: int,
    room: int,
    sizes: tuple[int, int],
    fees: tuple[int, int],
) -> None:
    env = Env(params=MarketParams(taker_fee=fees[0], maker_fee=fees[1]))
    env.open_many(2, 10**12)
    maker_size, taker_size = sizes
    env.place(MAKER, BTC, not taker_is_ask, maker_price, maker_size)
    limit = maker_price - room if taker_is_ask else maker_price + room
    accounts = env.state.accounts
    # the fee account's: its collateral and the fees the open block accrued for it
    fees_owed = lambda: accounts[FEE_ACCOUNT].collateral + env.state.accrued_fees  # noqa: E731
    before = [accounts[TAKER].collateral, accounts[MAKER].collateral, fees_owed()]
    events = env.run(env.order(TAKER, BTC, taker_is_ask, limit, taker_size))
    (trade,) = [e for e in events if isinstance(e, Trade)]
    after = [accounts[TAKER].collateral, accounts[MAKER].collateral, fees_owed()]

    taker = (taker_is_ask, limit, taker_size)
    run = run_fill(preset, taker, (maker_price, maker_size), (trade.price, trade.size), fees)
    run.check()
    quote, taker_fee, maker_fee, taker_change, maker_change, lots, taker_left, maker_left = [
        to_signed(v) for v in run.outputs
    ]
    assert (quote, taker_fee, maker_fee) == (
        trade.price * trade.size,
        trade.taker_fee,
        trade.maker_fee,
    )
    assert [taker_change, maker_change] == [after[0] - before[0], after[1] - before[1]]
    assert taker_fee + maker_fee == after[2] - before[2]
    assert lots == accounts[TAKER].get_size(BTC) == -accounts[MAKER].get_size(BTC)
    assert [taker_left, maker_left] == [taker_size - trade.size, maker_size - trade.size]


# -- each check alone --------------------------------------------------------------------------


def test_a_fill_at_another_price_than_the_makers_is_refused() -> None:
    # a bid taker with limit MID + 5 against an ask at MID: the cheat fills at MID + 3
    run = run_fill("devnet", (False, MID + 5, 10), (MID, 10), (MID + 3, 10))
    assert failing(run) == ["fill/at_makers_price"]


@pytest.mark.parametrize("taker_is_ask", [False, True])
def test_a_fill_past_the_takers_limit_is_refused(taker_is_ask: bool) -> None:
    # the maker is one tick beyond the limit: the fill is at the maker's price, but too far
    maker_price = MID - 1 if taker_is_ask else MID + 1
    run = run_fill("devnet", (taker_is_ask, MID, 10), (maker_price, 10), (maker_price, 10))
    assert failing(run) == ["fill/within_limit/range/bits_sum"]


def test_a_fill_at_the_limit_itself_is_accepted() -> None:
    run_fill("devnet", (False, MID, 10), (MID, 10), (MID, 10)).check()
    run_fill("devnet", (True, MID, 10), (MID, 10), (MID, 10)).check()


@pytest.mark.parametrize("size", [6, 8])
def test_a_size_other_than_the_smaller_remaining_is_refused(size: int) -> None:
    run = run_fill("devnet", (False, MID, 7), (MID, 9), (MID, size))
    assert failing(run) == ["fill/size_is_min"]


def test_a_fill_of_nothing_is_refused() -> None:
    run = run_fill("devnet", (False, MID, 0), (MID, 9), (MID, 0))
    assert failing(run) == ["fill/size_positive"]


def test_a_maker_on_the_takers_side_is_refused() -> None:
    inputs = fill_inputs((False, MID, 7), (MID, 9), (500, 200), (MID, 7))
    inputs[3] = 0  # the maker is a bid too
    run = run_gadget(fill_gadget(PRESETS["devnet"]), inputs)
    assert failing(run) == ["fill/maker_opposite"]


def test_a_fee_rounded_down_is_refused() -> None:
    # quote 7 * 10,001 = 70,007 at 500 ppm: 35.0035, so the fee is 36
    cheat = {"fill/taker_fee/quotient": lambda x: [x // 1_000_000]}
    taker, maker = (False, 10_001, 7), (10_001, 9)
    inputs = fill_inputs(taker, maker, (500, 200), (10_001, 7))
    run = run_gadget(fill_gadget(PRESETS["devnet"]), inputs, cheat)
    assert run.outputs[1] == 35
    assert failing(run) == ["fill/taker_fee/remainder/range/bits_sum"]


def test_amounts_are_signed_field_elements() -> None:
    run = run_fill("minimal", (True, MID, 3), (MID, 5), (MID, 3), (0, 0))
    run.check()
    assert run.outputs[5] == R - 3  # the ask taker sells 3 lots


# -- reduce-only ---------------------------------------------------------------------------------


def reducible_gadget(cs: Builder, ins: Wires) -> Wires:
    sign = compute_sign(cs, ins[0], PRESETS["devnet"].base_amount_bits, "position")
    return [compute_reducible(cs, sign, ins[1])]


@pytest.mark.parametrize("size", [-7, 0, 7])
@pytest.mark.parametrize("is_ask", [True, False])
def test_reducible_lots_match_the_rules(size: int, is_ask: bool) -> None:
    account = Account(5, positions={BTC: Position(size)})
    run = run_gadget(reducible_gadget, [size % R, int(is_ask)])
    run.check()
    assert run.outputs == [native_reducible(account, BTC, is_ask)]


@pytest.mark.parametrize("reduce_only_side", ["taker", "maker"])
@pytest.mark.parametrize("taker_is_ask", [True, False])
def test_a_reduce_only_side_caps_the_fill_as_the_engine_does(
    reduce_only_side: str, taker_is_ask: bool
) -> None:
    env = Env()
    env.open_many(3, 10**12)
    reducer = MAKER if reduce_only_side == "maker" else TAKER
    # the reducer holds 4 lots on the side its order will reduce (its order sells a long when
    # it is an ask); account 5 is its counterparty
    reducer_is_ask = (not taker_is_ask) if reducer == MAKER else taker_is_ask
    env.place(5, BTC, reducer_is_ask, MID, 4)
    env.place(reducer, BTC, not reducer_is_ask, MID, 4)
    held = env.state.accounts[reducer].get_size(BTC)
    maker_ro, taker_ro = reducer == MAKER, reducer == TAKER
    env.place(MAKER, BTC, not taker_is_ask, MID, 10, reduce_only=maker_ro)
    events = env.run(env.order(TAKER, BTC, taker_is_ask, MID, 10, reduce_only=taker_ro))
    (trade,) = [e for e in events if isinstance(e, Trade)]
    assert trade.size == 4  # capped

    def vars_for(account: int, is_ask: bool) -> list[int]:
        size = held if account == reducer else 0
        return [size % R, int(is_ask), int(account == reducer)]

    def gadget(cs: Builder, ins: Wires) -> Wires:
        preset = PRESETS["devnet"]
        caps = []
        for offset in (0, 3):
            with cs.scope(f"side{offset}"):
                sign = compute_sign(cs, ins[offset], preset.base_amount_bits, "position")
                caps.append(compute_reducible(cs, sign, ins[offset + 1]))
        taker = TakerVars(ins[1], ins[6], ins[7], ins[2], caps[0])
        maker = MakerVars(ins[4], ins[8], ins[9], ins[5], caps[1])
        fill = compute_fill(cs, preset, taker, maker, (ins[10], ins[11]), ins[12], ins[13])
        return [fill.size]

    inputs = [*vars_for(TAKER, taker_is_ask), *vars_for(MAKER, not taker_is_ask)]
    inputs += [MID, 10, MID, 10, 500, 200, MID, trade.size]
    run = run_gadget(gadget, inputs)
    run.check()
    inputs[-1] = trade.size + 1  # the cheat fills past the reduce-only cap
    assert failing(run_gadget(gadget, inputs)) == ["fill/size_is_min"]
