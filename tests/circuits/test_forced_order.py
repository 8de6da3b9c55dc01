"""The forced order in the block circuit (``circuits/ops/forced_order.py``): every status the
rules give it is proven, status 0 for each refusal decided before matching and status 1 for
every first step, the steps that end the taker included, and claims follow as for any taker
(docs/PROTOCOL.md 8.7)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from protocol import pubdata
from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.block import process_block, process_block_end, process_block_header
from protocol.events import RequestRejected, TakerDone
from protocol.ops.claim import Claim
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.transfer import Transfer
from protocol.risk import compute_risk
from protocol.state import State
from tests.circuits.test_block import (
    FAR,
    PRICES,
    check_block,
    next_block,
    order,
    resting_state,
    signed,
    with_claims,
)
from tests.protocol.helpers import BTC, owner_of

MARK = PRICES[BTC]
ASK, MARKET = pubdata.ORDER_FLAG_ASK, pubdata.ORDER_FLAG_MARKET


def forced(account: int, flags: int, price: int, size: int = 100, **kw: Any) -> ForcedOrder:
    fields: dict[str, Any] = dict(account=account, owner=owner_of(account), market=BTC)
    return ForcedOrder(**(fields | dict(flags=flags, price=price, size=size) | kw))


def _outcomes(state: State, ops: list[Any]) -> list[object]:
    """Proves ``ops`` as one block and returns how each taker ended (or why the rules refused
    the request)."""
    block = next_block(state, ops)
    events = process_block(copy.deepcopy(state), block).events
    check_block(state, block)
    assert state.pending is None
    done = (TakerDone, RequestRejected)
    return [e.outcome if isinstance(e, TakerDone) else e.reason
            for step in events for e in step if isinstance(e, done)]  # fmt: skip


# resting_state: 3 asks 100 + 100 at MARK + 10, 4 bids 100 at MARK - 10; 3 short, 4 long 500
PLACED: dict[str, tuple[list[Any], list[str]]] = {
    "market buy fills one ask": ([forced(5, MARKET, MARK + 50)], ["filled"]),
    "market sell, remainder cancelled": (
        [forced(5, MARKET | ASK, 1, 150), Claim(5)],
        ["cancelled"],
    ),
    "limit bid rests": ([forced(5, 0, MARK - 20, 30)], ["rested"]),
    "limit ask rests": ([forced(5, ASK, MARK + 20, 30)], ["rested"]),
    "limit bid fills two asks": ([forced(5, 0, MARK + 10, 130), Claim(5)], ["filled"]),
    "limit ask fills, claim rests": ([forced(5, ASK, MARK - 10, 130), Claim(5)], ["rested"]),
    "two steps, step limit": ([forced(4, 0, MARK + 10, 250), Claim(4)], ["step-limit"]),
    "self-trade cancels 3's own asks": (
        [forced(3, MARKET, MARK + 10, 50), Claim(3)],
        ["step-limit"],
    ),
}


@pytest.mark.parametrize("name", sorted(PLACED))
def test_a_placed_forced_order_is_proven(name: str) -> None:
    ops, expected = PLACED[name]
    state = resting_state()
    nonce = state.accounts[ops[0].account].nonce
    assert _outcomes(state, ops) == expected
    assert state.accounts[ops[0].account].nonce == nonce  # no L2 nonce used


REFUSED: dict[str, tuple[ForcedOrder, str]] = {
    "not the owner": (forced(5, 0, MARK, owner=owner_of(4)), "not the owner"),
    "no account": (forced(9, 0, MARK), "not the owner"),
    "absent market": (forced(5, 0, MARK, market=1), "UnknownMarket"),
    "market outside the tree": (forced(5, 0, MARK, market=7), "UnknownMarket"),
    "size zero": (forced(5, MARKET, MARK, 0), "BelowMinOrderSize"),
    "price zero": (forced(5, MARKET, 0), "AmountOutOfRange"),
    "price too large": (forced(5, MARKET, 1 << 16), "AmountOutOfRange"),
    "limit above the band": (forced(5, 0, MARK * 6 // 5 + 1), "PriceOutOfBand"),
    "limit below the band": (forced(5, ASK, MARK * 4 // 5 - 1), "PriceOutOfBand"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_refused_forced_order_is_proven_with_status_0(name: str) -> None:
    op, reason = REFUSED[name]
    state = resting_state()
    before = state.accounts.get(op.account)
    assert _outcomes(state, [op, signed(Transfer(5, 0, FAR, 3, 7), 5)]) == [reason]
    assert state.accounts.get(op.account) == before or op.account == 5


@pytest.mark.parametrize("index", [INSURANCE_FUND, FEE_ACCOUNT, FUNDING_POOL])
def test_a_reserved_account_is_refused_with_status_0(index: int) -> None:
    state = resting_state()
    state.accounts[index].owner = owner_of(7)  # only its reservation refuses it
    state.dirty.accounts.add(index)
    assert _outcomes(state, [forced(index, MARKET, MARK + 50, owner=owner_of(7))]) == [
        "ReservedAccount"
    ]


def _free_margin(state: State, account: int, left: int) -> None:
    """``account`` keeps ``left`` above its initial margin."""
    holder = state.accounts[account]
    risk = compute_risk(holder, state.markets)
    state.set_collateral(holder, holder.collateral - (risk.tav - risk.imr) + left)


def test_a_first_step_that_fails_the_takers_risk_ends_it_with_status_1() -> None:
    state = resting_state()
    _free_margin(state, 5, 1)
    holder = state.accounts[5]
    before = (holder.collateral, holder.nonce, holder.open_orders, dict(holder.positions))
    assert _outcomes(state, [forced(5, MARKET, MARK + 50, 100)]) == ["RiskCheckFailed"]
    assert (holder.collateral, holder.nonce, holder.open_orders, holder.positions) == before


def test_a_remainder_that_cannot_rest_is_cancelled_with_status_1() -> None:
    state = resting_state()
    _free_margin(state, 5, 1)  # a bid of 30 at MARK - 20 needs its own margin
    assert _outcomes(state, [forced(5, 0, MARK - 20, 30)]) == ["RiskCheckFailed"]
    state = resting_state()
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    for nonce in range(state.preset.max_open_orders_per_account):
        process_block(state, next_block(state, [order(5, nonce, False, MARK - 30 - nonce, 1)]))
    process_block_end(state)
    assert _outcomes(state, [forced(5, 0, MARK - 20, 30)]) == ["TooManyOpenOrders"]


def test_a_claim_after_a_forced_order_may_end_it() -> None:
    state = resting_state()
    _free_margin(state, 5, 150_000)  # one fill of 100 lots at MARK + 10 fits, not two
    assert _outcomes(state, [forced(5, MARKET, MARK + 50, 200), Claim(5)]) == ["RiskCheckFailed"]
    assert state.accounts[5].positions[BTC].size == 100


FORCED_SPEC = st.tuples(
    st.sampled_from([3, 4, 5, 5, 0, 1, 9]),  # 0 the fund, 1 the fee account, 9 no account
    st.sampled_from([True, True, True, False]),  # the requester owns it
    st.sampled_from([BTC, BTC, BTC, 1, 7]),  # market 1 is absent, 7 outside the tree
    st.integers(0, 3),  # flags: sell, market
    # prices: 0, out of the band, around the mark, past 2^price_bits
    st.sampled_from([0, MARK - 2_001, MARK - 20, MARK - 10, MARK, MARK + 10, MARK + 20])
    | st.sampled_from([MARK + 2_001, 1 << 16]),
    st.sampled_from([0, 1, 50, 100, 250, 10**6]),
)


def make_forced(spec: tuple[Any, ...]) -> ForcedOrder:
    account, owned, market, flags, price, size = spec
    owner = owner_of(account if owned else account + 1)
    return ForcedOrder(account, owner, market, flags, price, size)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(FORCED_SPEC, min_size=1, max_size=2), min_size=1, max_size=2))
@example([[(5, True, BTC, MARKET, MARK + 20, 150)], [(3, True, BTC, ASK, MARK - 10, 50)]])
def test_the_circuit_proves_forced_orders_as_the_rules_do(
    blocks: list[list[tuple[Any, ...]]],
) -> None:
    """Forced orders (each with the claims it needs) against a book with asks above the mark
    and a bid below it: every one is consumed, and each block is proven with the rules' public
    inputs."""
    state = resting_state()
    for specs in blocks:
        ops = with_claims(state, [make_forced(s) for s in specs])
        check_block(state, next_block(state, ops))
        assert state.pending is None
