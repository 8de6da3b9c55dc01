"""Orders and matching: priority exactly as the tree orders it, one maker per step, claims,
time in force, fees, self-trade prevention, reduce-only, risk failures, cancels, modify."""

from __future__ import annotations

import contextlib
import random

import pytest

from protocol.accounts import FEE_ACCOUNT
from protocol.block import process_operation
from protocol.commitment import update_state_root
from protocol.errors import (
    AmountOutOfRange,
    NotOrderOwner,
    PendingTaker,
    PostOnlyWouldCross,
    ReduceOnlyViolation,
    ReservedAccount,
    RiskCheckFailed,
    UnknownOrder,
)
from protocol.events import FundingSettled, OrderCancelled, OrderRested, TakerDone, Trade
from protocol.jubjub import compress
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.claim import Claim
from protocol.ops.create_order import OrderKind, TimeInForce
from protocol.ops.deposit import Deposit
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.register_key import RegisterKey
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from tests.protocol.helpers import (
    BTC,
    PRESET,
    Env,
    assert_rejected,
    key_of,
    owner_of,
    total_collateral,
)

BUY, SELL = False, True
GTT, IOC, POST = TimeInForce.GTT, TimeInForce.IOC, TimeInForce.POST_ONLY


def trades(events: list) -> list[tuple[int, int, int]]:
    return [(e.maker, e.price, e.size) for e in events if isinstance(e, Trade)]


@pytest.fixture
def env() -> Env:
    e = Env()
    e.open_many(6, 10_000_000)
    return e


def test_book_order_matches_the_tree_key_order() -> None:
    env = Env()
    env.open_many(4, 10**9)
    rng = random.Random(7)
    for _ in range(120):
        is_ask = rng.random() < 0.5
        price = rng.randrange(10_300, 11_000) if is_ask else rng.randrange(9_000, 9_700)
        account = 3 + rng.randrange(4)
        if env.state.accounts[account].open_orders < env.state.preset.max_open_orders_per_account:
            env.place(account, BTC, is_ask, price, rng.randrange(1, 5))
    book = env.state.markets[BTC].book
    update_state_root(env.state)
    tree = env.state.trees.order_trees[BTC]  # type: ignore[union-attr]
    leaves = tree.leaves()
    tree_asks = [key for key, node in leaves if node[1] > 0]  # best ask = smallest key
    tree_bids = [key for key, node in reversed(leaves) if node[3] > 0]  # best bid = largest key
    assert [o.key for o in book.iter_side(True)] == tree_asks
    assert [o.key for o in book.iter_side(False)] == tree_bids
    assert len(tree_asks) + len(tree_bids) == len(book.orders) > 20
    sums = tree.root()[1:]
    asks, bids = list(book.iter_side(True)), list(book.iter_side(False))
    assert sums[0] == sum(o.remaining for o in asks)
    assert sums[1] == sum(o.remaining * o.price for o in asks)
    assert sums[2] == sum(o.remaining for o in bids)
    assert sums[3] == sum(o.remaining * o.price for o in bids)


def test_price_then_time_priority_and_one_maker_per_step(env: Env) -> None:
    env.place(3, BTC, SELL, 10_010, 2)
    env.place(4, BTC, SELL, 10_000, 1)
    env.place(5, BTC, SELL, 10_000, 1)
    first = env.run(env.order(6, BTC, BUY, 10_010, 3))
    assert trades(list(first)) == [(4, 10_000, 1)]
    assert env.state.pending is not None
    assert_rejected(env, env.order(7, BTC, BUY, 9_000, 1), PendingTaker)
    assert_rejected(env, Claim(7), PendingTaker)
    second = env.run(Claim(6))
    third = env.run(Claim(6))
    assert trades(list(second) + list(third)) == [(5, 10_000, 1), (3, 10_010, 1)]
    assert env.state.pending is None
    assert TakerDone(6, BTC, 0, "filled") in third
    (left,) = env.state.markets[BTC].book.iter_side(SELL)
    assert (left.account, left.remaining) == (3, 1)


def test_gtc_remainder_rests_ioc_remainder_is_cancelled(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 1)
    events = env.place(4, BTC, BUY, 10_000, 3)
    assert TakerDone(4, BTC, 2, "rested") in events
    assert env.state.markets[BTC].book.best(BUY).remaining == 2  # type: ignore[union-attr]
    env.place(5, BTC, BUY, 9_990, 1)
    events = env.place(6, BTC, SELL, 9_995, 5, time_in_force=IOC)
    assert trades(events) == [(4, 10_000, 2)]
    assert TakerDone(6, BTC, 3, "cancelled") in events


def test_fees_go_to_the_fee_account_and_collateral_is_conserved(env: Env) -> None:
    total = total_collateral(env.state)
    env.place(3, BTC, SELL, 10_000, 10)
    env.place(4, BTC, BUY, 10_000, 10)
    quote, fees = 100_000, 100_000 * 200 // 10**6 + 100_000 * 500 // 10**6
    accounts = env.state.accounts
    assert (accounts[FEE_ACCOUNT].collateral, env.state.accrued_fees) == (0, fees)
    env.end_block()  # the fee account is credited at the block's end
    assert (accounts[FEE_ACCOUNT].collateral, env.state.accrued_fees) == (fees, 0)
    assert accounts[3].collateral == 10_000_000 + quote - 20
    assert accounts[4].collateral == 10_000_000 - quote - 50
    assert (accounts[3].positions[BTC].size, accounts[4].positions[BTC].size) == (-10, 10)
    assert env.state.markets[BTC].data.open_interest == 10
    assert total_collateral(env.state) == total


def test_the_block_end_can_always_credit_the_fees(env: Env) -> None:
    """A fill, or a deposit into the fee account, that would take the fee account's collateral
    past its bound once the block's fees are credited is refused at once (the state as it was),
    so the block's end never fails."""
    fee_account = env.state.accounts[FEE_ACCOUNT]
    env.state.set_collateral(fee_account, (1 << 64) - 50)  # room for 49 micro-USDC
    env.place(3, BTC, SELL, 10_000, 10)
    assert_rejected(env, env.order(4, BTC, BUY, 10_000, 10), AmountOutOfRange)  # 70 in fees
    env.place(4, BTC, BUY, 10_000, 5)  # 10 + 25 in fees: fits
    assert env.state.accrued_fees == 35
    assert_rejected(env, Deposit(FEE_ACCOUNT, owner_of(1), 15), AmountOutOfRange)
    env.run(Deposit(FEE_ACCOUNT, owner_of(1), 14))
    env.end_block()
    assert (fee_account.collateral, env.state.accrued_fees) == ((1 << 64) - 1, 0)


def test_the_fee_account_does_not_trade(env: Env) -> None:
    """So no fill moves the fee account's collateral beside the fees it accrues (PROTOCOL 7.2)."""
    env.run(Deposit(FEE_ACCOUNT, owner_of(1), 10_000_000))
    env.run(RegisterKey(FEE_ACCOUNT, owner_of(1), compress(key_of(1).public_key)))
    nonce = env.state.accounts[FEE_ACCOUNT].nonce
    assert_rejected(env, env.order(FEE_ACCOUNT, BTC, SELL, 10_000, 1), ReservedAccount)
    assert env.state.accounts[FEE_ACCOUNT].nonce == nonce


def test_post_only_never_takes(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 1)
    assert_rejected(env, env.order(4, BTC, BUY, 10_000, 1, time_in_force=POST), PostOnlyWouldCross)
    events = env.place(4, BTC, BUY, 9_999, 1, time_in_force=POST)
    assert any(isinstance(e, OrderRested) for e in events)


def test_market_order_respects_its_worst_price(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 1)
    env.place(3, BTC, SELL, 10_050, 1)
    env.place(3, BTC, SELL, 10_100, 1)
    events = env.place(4, BTC, BUY, 10_060, 5, kind=OrderKind.MARKET, time_in_force=IOC)
    assert [t[1] for t in trades(events)] == [10_000, 10_050]
    assert TakerDone(4, BTC, 3, "cancelled") in events


def test_self_trade_cancels_the_resting_order(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 1)
    env.place(4, BTC, SELL, 10_001, 1)
    events = env.place(3, BTC, BUY, 10_001, 1)
    assert OrderCancelled(BTC, events[0].key, 3, 1, "self-trade") == events[0]  # type: ignore[union-attr]
    assert trades(events) == [(4, 10_001, 1)]


def test_expired_gtt_maker_is_removed_not_filled(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 1, time_in_force=GTT, order_expiry=1_100)
    env.next_block(1_200)
    events = env.place(4, BTC, BUY, 10_000, 1)
    assert isinstance(events[0], OrderCancelled) and events[0].reason == "expired"
    assert trades(events) == []


def test_reduce_only_caps_and_rejects(env: Env) -> None:
    assert_rejected(env, env.order(3, BTC, SELL, 10_000, 1, reduce_only=True), ReduceOnlyViolation)
    env.place(4, BTC, SELL, 10_000, 2)
    env.place(3, BTC, BUY, 10_000, 2)  # 3 is long 2
    env.place(5, BTC, BUY, 9_990, 5)
    events = env.place(3, BTC, SELL, 9_990, 5, reduce_only=True, time_in_force=IOC)
    assert trades(events) == [(5, 9_990, 2)]
    assert 3 not in [a for a, acct in env.state.accounts.items() if BTC in acct.positions]


def test_taker_failing_its_risk_check_rejects_the_order(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 100)
    # 10 USDC of collateral, 10 % initial margin: 11 lots of 10,000 need 11,000 of margin
    env.run(env.signed(Transfer, 4, to=5, amount=10_000_000 - 10_000))
    assert_rejected(env, env.order(4, BTC, BUY, 10_000, 11, time_in_force=IOC), RiskCheckFailed)
    events = env.place(4, BTC, BUY, 10_000, 9, time_in_force=IOC)
    assert trades(events) == [(3, 10_000, 9)]


def test_maker_failing_its_risk_check_is_cancelled(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 50)  # needs 50,000 of initial margin once filled
    env.run(env.signed(Transfer, 3, to=5, amount=10_000_000 - 40_000))
    env.place(4, BTC, SELL, 10_001, 50)
    events = env.place(6, BTC, BUY, 10_001, 50)
    cancelled = [e for e in events if isinstance(e, OrderCancelled)]
    assert [(c.account, c.reason) for c in cancelled] == [(3, "risk")]
    assert trades(events) == [(4, 10_001, 50)]


def test_a_rejected_maker_leaves_no_event_of_its_undone_fill() -> None:
    """The fill is tried, redone against the risk before, then undone: the funding it settled
    on the way is undone too, and so are the events that reported it."""
    env = Env()
    env.open(3, 2_200)
    env.open(4, 10**9)
    env.place(4, BTC, SELL, 10_000, 1)
    env.place(3, BTC, BUY, 10_000, 1)  # 3 long 1 at 10,000: IMR 1,000
    env.place(3, BTC, BUY, 10_000, 1)  # rests
    env.run(env.signed(Withdraw, 3, amount=600))  # a second lot would leave 3 unhealthy
    env.state.markets[BTC].data.funding_index += 10**8  # both positions owe or earn 100
    collateral = env.state.accounts[3].collateral
    events = env.place(4, BTC, SELL, 10_000, 1)
    assert [(e.account, e.reason) for e in events if isinstance(e, OrderCancelled)] == [(3, "risk")]
    assert not trades(events) and env.state.accounts[3].collateral == collateral
    assert not [e for e in events if isinstance(e, FundingSettled)]


def test_cancel_cancel_all_and_modify(env: Env) -> None:
    env.place(3, BTC, SELL, 10_100, 1)
    env.place(3, BTC, SELL, 10_100, 3)
    env.place(4, BTC, SELL, 10_100, 1)
    book = env.state.markets[BTC].book
    first, second, third = book.iter_side(SELL)
    env.run(env.signed(ModifyOrder, 3, market=BTC, key=second.key, price=10_100, size=2))
    assert [o.key for o in book.iter_side(SELL)] == [first.key, second.key, third.key]
    modify = env.signed(ModifyOrder, 3, market=BTC, key=first.key, price=10_100, size=5)
    cancelled = env.run(modify)
    assert OrderCancelled(BTC, first.key, 3, 1, "modified") in cancelled
    assert env.state.pending is not None and env.state.pending.post_only
    rested = env.run(Claim(3))  # the new order rests in the claim that follows
    assert TakerDone(3, BTC, 5, "rested") in rested and env.state.pending is None
    assert [o.account for o in book.iter_side(SELL)] == [3, 4, 3]  # re-queued at the back
    env.run(env.signed(CancelOrder, 4, market=BTC, key=third.key))
    assert env.state.accounts[3].open_orders == 2
    env.run(env.signed(CancelAll, 3))
    assert env.state.accounts[3].open_orders == 0 and not env.state.accounts[3].orders
    assert all(o.epoch != env.state.accounts[3].cancel_epoch for o in book.orders.values())


def test_cancel_someone_elses_order_is_rejected(env: Env) -> None:
    env.place(3, BTC, SELL, 10_100, 1)
    (order,) = env.state.markets[BTC].book.iter_side(SELL)
    assert_rejected(env, env.signed(CancelOrder, 4, market=BTC, key=order.key), NotOrderOwner)
    assert_rejected(env, env.signed(CancelOrder, 4, market=BTC, key=order.key + 1), UnknownOrder)


def test_claims_must_continue_the_pending_taker(env: Env) -> None:
    with pytest.raises(PendingTaker):
        process_operation(env.state, Claim(3))


def test_a_remainder_left_after_the_book_stops_crossing_rests_in_one_more_claim(
    env: Env,
) -> None:
    env.place(3, BTC, SELL, 10_000, 1)
    env.place(4, BTC, SELL, 10_005, 1)
    first = env.run(env.order(5, BTC, BUY, 10_005, 4))
    assert trades(list(first)) == [(3, 10_000, 1)] and env.state.pending is not None
    second = env.run(Claim(5))  # fills the last crossing maker: the taker still stays pending
    assert trades(list(second)) == [(4, 10_005, 1)]
    assert not any(isinstance(e, TakerDone) for e in second)
    assert env.state.pending is not None and env.state.markets[BTC].book.best(SELL) is None
    third = env.run(Claim(5))  # no crossing maker left: the remainder rests, nothing fills
    assert trades(list(third)) == [] and TakerDone(5, BTC, 2, "rested") in third
    assert any(isinstance(e, OrderRested) for e in third)
    assert env.state.pending is None
    assert env.state.markets[BTC].book.best(BUY).remaining == 2


def test_the_step_limit_ends_a_taker_at_its_last_step_with_the_remainder_cancelled() -> None:
    """At most ``trading_slots`` steps (here 2) per taker: a GTC bid of 5 meets an expired ask
    (a step), fills the next, and is then ended, its 4 lots cancelled, not rested, although
    more asks cross it; one that fills in its last step finishes as filled."""
    env = Env(preset=PRESET.with_overrides(trading_slots=2))
    env.open_many(6, 10_000_000)
    env.place(5, BTC, SELL, 10_000, 1, time_in_force=GTT, order_expiry=env.state.timestamp + 1)
    for price in (10_001, 10_002):
        env.place(3, BTC, SELL, price, 1)
    env.state.set_clock(env.state.timestamp + 2, env.state.block_number)
    events = env.place(4, BTC, BUY, 10_002, 5)
    assert env.ops[-2:] == [env.ops[-2], Claim(4)] and env.state.pending is None
    assert trades(events) == [(3, 10_001, 1)] and TakerDone(4, BTC, 4, "step-limit") in events
    book = env.state.markets[BTC].book
    assert [o.price for o in book.iter_side(SELL)] == [10_002] and book.best(BUY) is None
    env.place(3, BTC, SELL, 10_003, 1)
    events = env.place(4, BTC, BUY, 10_003, 2)  # two makers, two steps: filled in the last
    assert TakerDone(4, BTC, 0, "filled") in events


def test_an_ioc_remainder_is_cancelled_in_its_own_claim(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 1)
    events = env.run_with_claims(env.order(5, BTC, BUY, 10_000, 3, time_in_force=IOC))
    assert env.ops[-2:] == [env.ops[-2], Claim(5)]
    assert TakerDone(5, BTC, 2, "cancelled") in events and env.state.pending is None


def test_a_taker_filled_by_its_last_maker_finishes_in_that_step(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 1)
    env.place(4, BTC, SELL, 10_000, 2)
    events = env.run(env.order(5, BTC, BUY, 10_000, 1))
    assert TakerDone(5, BTC, 0, "filled") in events and env.state.pending is None


def test_a_cancelled_maker_keeps_the_taker_pending_for_its_own_claim(env: Env) -> None:
    env.place(5, BTC, SELL, 10_000, 1)  # the taker's own order: self-trade, cancelled
    first = env.run(env.order(5, BTC, BUY, 10_000, 1))
    assert any(isinstance(e, OrderCancelled) for e in first)
    assert not any(isinstance(e, OrderRested | TakerDone) for e in first)
    rest = env.run(Claim(5))
    assert TakerDone(5, BTC, 1, "rested") in rest and env.state.pending is None


def test_no_matching_step_writes_two_order_book_leaves(env: Env) -> None:
    rng = random.Random(11)
    for _ in range(60):
        user, is_ask = rng.randrange(3, 9), rng.random() < 0.5
        price, size = 10_000 + rng.randrange(-20, 21), rng.randrange(1, 6)
        tif = rng.choice([TimeInForce.GTC, IOC, POST])
        with contextlib.suppress(PostOnlyWouldCross, RiskCheckFailed):
            env.run_steps(env.order(user, BTC, is_ask, price, size, time_in_force=tif))
    claims = sum(isinstance(op, Claim) for op in env.ops)
    assert claims > 10  # the run did match (run_steps checked every step)
