"""Liquidate in the block circuit (``circuits/ops/liquidate.py``): a crash that puts an account
in partial liquidation, then its liquidation with claims, proven with the rules' roots; and a
liquidation the rules refuse, or priced at anything but the zero price, refused at a named
constraint (docs/PROTOCOL.md 7.4, 8.24)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from circuits.block import build_block_circuit
from circuits.r1cs import UnsatisfiedConstraintError
from protocol.accounts import INSURANCE_FUND
from protocol.block import process_block
from protocol.errors import InvalidTransaction
from protocol.events import AllOrdersCancelled, LiquidationFill, TakerDone
from protocol.ops.claim import Claim
from protocol.ops.liquidate import Liquidate
from protocol.risk import Health, compute_risk, compute_zero_price
from protocol.state import State
from sequencer.witness import build_slot_witness
from tests.circuits.forced import forced_witness
from tests.circuits.test_block import (
    CHAIN_ID,
    TRADING,
    check_block,
    next_block,
    order,
    started_block,
    trading_state,
    with_claims,
)
from tests.protocol.helpers import BTC

CRASH = 8_400  # 4's long of 500 at 10,000: TAV 197,500 against MMR 210,000 and CMR 105,000


def crashed_state(mark: int = CRASH) -> State:
    """``trading_state`` (3 short, 4 long 500 BTC at 10,000), then 4 bids 10 lots at 8,398 (an
    order the liquidation cancels, which its first step then meets, dead) and 5 bids 300 at
    8,395 (proven), and the mark falls to ``mark``."""
    state = trading_state()
    check_block(
        state, next_block(state, [order(4, 1, False, 8_398, 10), order(5, 0, False, 8_395, 300)])
    )
    state.set_market_data(state.markets[BTC], "mark_price", mark)
    return state


def health(state: State, account: int) -> Health:
    return compute_risk(state.accounts[account], state.markets).health


def test_a_partial_liquidation_is_proven_with_its_claims() -> None:
    """4's orders die (its own bid is removed when the first step meets it), its claim sells
    300 lots to 5 at 8,395; 4 is charged the zero price, the spread goes to the fund at the
    block's end; then, with no bid left, a liquidation that fills nothing is proven too."""
    state = crashed_state()
    assert health(state, 4) == Health.PARTIAL_LIQUIDATION
    risk = compute_risk(state.accounts[4], state.markets)
    zero = compute_zero_price(risk, state.markets[BTC], True)
    ops = with_claims(state, [Liquidate(4, BTC, 500)])
    assert ops == [Liquidate(4, BTC, 500), Claim(4)]
    events = [
        e
        for step in process_block(copy.deepcopy(state), next_block(state, ops)).events
        for e in step
    ]
    (cancelled,) = [e for e in events if isinstance(e, AllOrdersCancelled)]
    (fill,) = [e for e in events if isinstance(e, LiquidationFill)]
    assert (cancelled.cancelled, fill.zero_price, fill.price, fill.size) == (1, zero, 8_395, 300)
    fund = state.accounts[INSURANCE_FUND].collateral
    check_block(state, next_block(state, ops))
    assert state.accounts[INSURANCE_FUND].collateral == fund + (8_395 - zero) * 300
    assert state.accounts[4].get_size(BTC) == 200 and state.accounts[4].open_orders == 0
    assert not state.markets[BTC].book.orders  # 4's dead bid and 5's filled one are gone
    assert health(state, 4) == Health.PARTIAL_LIQUIDATION
    check_block(state, next_block(state, [Liquidate(4, BTC, 200)]))  # no bid: cancelled
    assert state.accounts[4].get_size(BTC) == 200


def test_a_short_is_liquidated_at_its_zero_price_rounded_up() -> None:
    """3's short of 500 after the mark rises to 11,600, bought back from 5's ask."""
    state = trading_state()
    check_block(state, next_block(state, [order(5, 0, True, 11_610, 100)]))
    state.set_market_data(state.markets[BTC], "mark_price", 11_600)
    assert health(state, 3) == Health.PARTIAL_LIQUIDATION
    risk = compute_risk(state.accounts[3], state.markets)
    zero = compute_zero_price(risk, state.markets[BTC], False)
    assert zero > 11_610
    events = [
        e
        for step in process_block(
            copy.deepcopy(state), next_block(state, [Liquidate(3, BTC, 100)])
        ).events
        for e in step
    ]
    (fill,) = [e for e in events if isinstance(e, LiquidationFill)]
    assert (fill.zero_price, fill.price, fill.size, fill.fund_fee) == (
        zero,
        11_610,
        100,
        (zero - 11_610) * 100,
    )
    check_block(state, next_block(state, [Liquidate(3, BTC, 100)]))
    assert state.accounts[3].get_size(BTC) == -400


def _refused_at(
    state: State, op: Liquidate, overrides: dict[str, Callable[..., list[int]]] | None = None
) -> str:
    """The first constraint the forced slot of ``op`` breaks (with the prover's hints)."""
    witness = forced_witness(started_block(state), op)
    cs, values = build_block_circuit(TRADING, CHAIN_ID, witness, overrides)
    assert values is not None
    with pytest.raises(UnsatisfiedConstraintError) as err:
        cs.check(values)
    return err.value.name


@pytest.mark.parametrize(
    ("mark", "size", "expected"),
    [
        (10_000, 100, "slot0/liquidate/below_maintenance"),  # healthy
        (8_500, 100, "slot0/liquidate/below_maintenance"),  # pre-liquidation
        (8_100, 100, "slot0/liquidate/not_below_close_out"),  # full liquidation: a takeover's
        (CRASH, 501, "slot0/liquidate/size_within_position/range/bits_sum"),
        (CRASH, 0, "slot0/liquidate/size_positive"),
    ],
    ids=["healthy", "pre-liquidation", "below close-out", "more than the position", "size 0"],
)
def test_a_liquidation_the_rules_refuse_cannot_be_proven(
    mark: int, size: int, expected: str
) -> None:
    state = crashed_state(mark)
    scratch = started_block(state)
    with pytest.raises(InvalidTransaction, match=r"size|is |exceeds"):
        build_slot_witness(copy.deepcopy(scratch), Liquidate(4, BTC, size))
    assert _refused_at(state, Liquidate(4, BTC, size)) == expected


@pytest.mark.parametrize(
    ("shift", "expected"),
    [
        (1, "slot0/liquidate/zero_price/not_in_favour/range/bits_sum"),  # the long sells higher
        (-1, "slot0/liquidate/zero_price/within_a_tick/range/bits_sum"),  # or lower
        (-500, "slot0/liquidate/zero_price/within_a_tick/range/bits_sum"),
    ],
    ids=["rounded in the account's favour", "a tick below", "any other price"],
)
def test_only_the_zero_price_rounded_against_the_account_is_proven(
    shift: int, expected: str
) -> None:
    state = crashed_state()
    risk = compute_risk(state.accounts[4], state.markets)
    zero = compute_zero_price(risk, state.markets[BTC], True)
    hint = {"slot0/liquidate/zero_price/zero": lambda *_: [zero + shift]}
    assert _refused_at(state, Liquidate(4, BTC, 300), hint) == expected


def test_the_claim_of_a_liquidation_keeps_the_zero_price() -> None:
    """The step limit ends the liquidation's taker in its claim (TRADING: two heavy slots)."""
    state = crashed_state()
    ops = with_claims(state, [Liquidate(4, BTC, 500)])
    events = [
        e
        for step in process_block(copy.deepcopy(state), next_block(state, ops)).events
        for e in step
    ]
    (done,) = [e for e in events if isinstance(e, TakerDone)]
    assert (done.remaining, done.outcome) == (200, "step-limit")
