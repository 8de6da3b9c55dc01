"""The block circuit against the rules over random sessions with crashes and recoveries: the
index falls or rises by up to 15 % a block (the pre-execution of the block's market slot), and
each block opens with what the operator's passes (``sequencer.liquidator``) ask for at the
marks the last block left, through the rules as the builder applies them (every pass of
``PASSES``): open deleverage rounds run on, partial liquidations against the book, takeovers by
the insurance fund, and rounds opened for whoever is bankrupt beyond the fund (the fund
itself included). Users meanwhile trade (``test_trading_session``'s
operations), mint pool shares and burn them. After each block the circuit's public inputs
equal the rules'.

The opening state: 5 funds the insurance fund with pool shares; 3 holds a 6.7x long and 4 a
5x short (100 lots at 10,000 each, from one another), and 5 bids 100 lots at 9,000, the
liquidity a liquidation of 3 sells into.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from protocol.accounts import INSURANCE_FUND
from protocol.block import (
    Block,
    Operation,
    process_block,
    process_block_end,
    process_block_header,
    process_operation_with_claims,
)
from protocol.errors import InvalidTransaction
from protocol.events import (
    Deleveraged,
    DeleverageStarted,
    LiquidationFill,
    PositionTakenOver,
    SharesBurned,
    SharesMinted,
)
from protocol.ops.burn_shares import BurnShares
from protocol.ops.create_order import CreateOrder
from protocol.ops.mint_shares import MintShares
from protocol.ops.noop import Noop
from protocol.ops.transfer import Transfer
from protocol.state import State
from sequencer.liquidator import PASSES
from tests.circuits.test_block import check_block, new_state, signed
from tests.circuits.test_trading_session import OP, PRESET, make_op
from tests.protocol.helpers import BTC, FAR, oracle_price

POOL_OP = st.one_of(
    st.tuples(st.just("mint"), st.sampled_from([3, 5]), st.sampled_from([1, 30_000])),
    st.tuples(st.just("burn"), st.sampled_from([3, 5]), st.sampled_from([1, 50_000, 10**6])),
)
MOVE_PPM = st.sampled_from([None, -150_000, -80_000, -30_000, 0, 40_000, 150_000])
GAP = st.sampled_from([10, 600, 3_600])
BLOCK = st.tuples(st.lists(st.one_of(OP, POOL_OP), max_size=2), MOVE_PPM, GAP)


def opening_state() -> State:
    """``new_state`` at the session's preset, then (natively) the module docstring's
    positions, fund and bid."""
    state = new_state(PRESET)
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    index = state.markets[BTC].data.index_price
    for account, op in (
        (3, Transfer(3, 0, FAR, 5, 850_000)),  # 3 keeps 150,000
        (4, Transfer(4, 0, FAR, 5, 800_000)),  # 4 keeps 200,000
        (5, MintShares(5, 0, FAR, 400_000)),
        (4, CreateOrder(4, 1, FAR, BTC, True, 100, index)),
        (3, CreateOrder(3, 1, FAR, BTC, False, 100, index)),
        (5, CreateOrder(5, 1, FAR, BTC, False, 100, index * 9 // 10)),
    ):
        process_operation_with_claims(state, signed(op, account))
    process_block_end(state)
    assert state.accounts[3].get_size(BTC) == 100 and state.accounts[4].get_size(BTC) == -100
    return state


def make_pool_op(state: State, spec: tuple[Any, ...]) -> Operation:
    kind, account, amount = spec
    nonce = state.accounts[account].nonce
    if kind == "mint":
        return signed(MintShares(account, nonce, FAR, amount), account)
    shares = min(amount, state.accounts[account].pool_shares) or 1
    return signed(BurnShares(account, nonce, FAR, shares), account)


class _Full(Exception):
    """The operation with its claims does not fit in the slots left."""


def take(state: State, ops: list[Operation], op: Operation) -> bool:
    """Applies ``op`` with its claims and adds them to ``ops`` where the rules accept them and
    they fit the operation slots (else ``state`` as it was); False once the block is full."""
    if len(ops) >= PRESET.operation_slots:
        return False
    try:
        with state.transaction():
            group = [o for o, _ in process_operation_with_claims(state, op)]
            if len(ops) + len(group) > PRESET.operation_slots:
                raise _Full
    except InvalidTransaction:
        return True
    except _Full:
        return False
    ops += group
    return True


def build_block(state: State, specs: list[tuple[Any, ...]], move: int | None, gap: int) -> Block:
    """The passes' operations (rounds, partial liquidations, takeovers, new rounds), then the
    users' (each made against the state the ones before it left), each with its claims
    where the rules accept it, while they fit the operation slots; noops; then the market
    slot's pre-execution at the index moved by ``move`` ppm (or a noop)."""
    scratch = copy.deepcopy(state)
    process_block_header(scratch, scratch.block_number + 1, scratch.timestamp + gap)
    ops: list[Operation] = []
    for find in PASSES:
        for op in find(scratch):
            if not take(scratch, ops, op):
                break
    for spec in specs:
        maker = make_pool_op if spec[0] in ("mint", "burn") else make_op
        if not take(scratch, ops, maker(scratch, spec)):
            break
    ops += [Noop()] * (PRESET.operation_slots - len(ops))
    index = state.markets[BTC].data.index_price
    at = state.timestamp + gap
    if move is None:
        ops.append(Noop())
    else:
        ops.append(oracle_price(BTC, index + index * move // 1_000_000, at))
    return Block(state.block_number + 1, at, tuple(ops))


Spec = tuple[Any, ...]
SESSION: tuple[tuple[tuple[Spec, ...], int | None, int], ...] = (
    ((("mint", 5, 30_000),), -107_000, 600),  # 5 mints; the crash: 3 in partial liquidation
    ((), 330_000, 600),  # 3 liquidated into 5's bid; the recovery leaves 4 below close-out
    ((("burn", 5, 50_000),), -30_000, 3_600),  # 4 taken over; 5 burns shares
    ((("order", 5, True, 0, 30, "market"),), None, 10),  # 5 sells into what is left
    ((), 600_000, 600),  # the index up 60 %: the fund, short 100, is bankrupt
    ((), None, 10),  # the fund's own round opens and serves 5, the only long
    ((), None, 10),  # and ends
)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(BLOCK, min_size=1, max_size=3))
@example([(list(specs), move, gap) for specs, move, gap in SESSION])
def test_the_circuit_follows_a_session_with_crashes_and_liquidations(
    blocks: list[tuple[Any, ...]],
) -> None:
    state = opening_state()
    for specs, move, gap in blocks:
        block = build_block(state, specs, move, gap)
        check_block(state, block)  # advances the state


def test_the_example_session_liquidates_takes_over_deleverages_mints_and_burns() -> None:
    """The explicit session does what it is there for (so the property is not hollow)."""
    state = opening_state()
    events: list[Any] = []
    for specs, move, gap in SESSION:
        block = build_block(state, list(specs), move, gap)
        events += [e for op in process_block(state, block).events for e in op]
    assert any(isinstance(e, LiquidationFill) and e.account == 3 for e in events)
    assert any(isinstance(e, PositionTakenOver) and e.account == 4 for e in events)
    assert any(isinstance(e, SharesMinted) and e.account == 5 for e in events)
    assert any(isinstance(e, SharesBurned) and e.account == 5 for e in events)
    assert any(isinstance(e, DeleverageStarted) and e.account == INSURANCE_FUND for e in events)
    moved = [(e.counterparty, e.size) for e in events if isinstance(e, Deleveraged)]
    assert moved == [(5, -100), (INSURANCE_FUND, 0)]  # 5 takes the fund's short whole
    assert state.accounts[INSURANCE_FUND].get_size(BTC) == 0
    assert state.markets[BTC].data.adl_account == 0
