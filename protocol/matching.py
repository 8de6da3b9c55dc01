"""Matching: one maker per step, price-time priority exactly as the order-book tree orders it.

A taker (a new order, a fired trigger, a forced order or a liquidation) runs one step when it
arrives; each later step is a ``claim`` the sequencer inserts. A step looks at the best
opposite order (``OrderBook.best``) and, if it crosses the taker's limit, does exactly one of:

- removes it unfilled: dead (its owner cancelled all since it rested: the count was zeroed
  then, so it does not fall), expired (GTT past its expiry), self-trade (same account: the resting
  order is cancelled and the taker goes on: "cancel maker" self-trade prevention), reduce-only
  with nothing left to reduce, or the fill would break the maker's valid-risk-change rule;
- fills ``min(taker remaining, maker remaining)`` (capped by reduce-only) at the maker's price.

Then a taker with nothing left finishes as filled; one with size left stays pending (only a
claim may follow), even when the book no longer crosses it, unless that was its
``trading_slots``-th step: the **step limit** ends it there, its remainder cancelled (outcome
``step-limit``; never rested, since it may still cross), so that a taker and its claims always
fit the heavy slots of one block. A step that finds no crossing maker finishes the taker
instead: its remainder rests (GTC / GTT / post-only limit) or is cancelled (IOC, market,
trigger, liquidation). So a step writes at most one order-book leaf (the maker's, or the rested
remainder's), the one book path the block circuit proves per slot, and a taker that ends with a
remainder after fills needs one more claim than it had makers. A failure of
the *taker* (its own risk check, open interest, reduce-only, resting limits) raises: on the
first step that rejects the whole order; a claim turns it into the end of the taker
(``process_claim``).

Fees: ``ceil(quote * fee / 1e6)`` from each side to the fee account (credited at the block's
end, with the funding settled in it: ``protocol.block.process_block_end``). A liquidation taker
trades at its zero price instead of the fill price and pays no taker fee; the spread between
the two goes to the insurance fund (credited at the block's end, as the fees).
"""

from __future__ import annotations

from protocol.accounts import Account
from protocol.book import Order
from protocol.errors import (
    InvalidTransaction,
    MarketDeleveraging,
    OpenInterestLimit,
    PostOnlyWouldCross,
    ReduceOnlyViolation,
    RiskCheckFailed,
)
from protocol.events import Event, LiquidationFill, TakerDone, Trade
from protocol.markets import Market
from protocol.orders import (
    cancel_order,
    is_live,
    remove_dead_order,
    remove_order,
    rest_order,
    set_order_remaining,
)
from protocol.positions import apply_fill
from protocol.risk import Risk, compute_free_margin, compute_risk, is_valid_risk_change
from protocol.state import State, Taker
from protocol.types import PPM

STEP_LIMIT = "step-limit"  # TakerDone's outcome for a taker the step limit ends

# builds a named-tuple event from a tuple of its fields without the Python-level __new__ of
# named tuples: the same object at half the cost (the two events of every order)
_new_event = tuple.__new__


class _MakerRejected(Exception):
    """The maker side of a fill failed its checks: the maker order is cancelled instead."""


class _NeedsBefore(Exception):
    """A side of an optimistic fill ended unhealthy: the fill is redone with risks before."""


def is_crossing(taker: Taker, price: int) -> bool:
    return price >= taker.limit_price if taker.is_ask else price <= taker.limit_price


def compute_reducible(account: Account, market: int, is_ask: bool) -> int:
    """How many lots an order of this side can trade while only reducing the position."""
    size = account.get_size(market)
    return max(0, size) if is_ask else max(0, -size)


def run_step(state: State, taker: Taker, out: list[Event]) -> None:
    """One matching step of ``taker``, writing at most one order-book leaf; see the module
    docstring."""
    market = state.markets[taker.market]
    if market.data.adl_account:  # liquidation.require_no_round inline: the hot path
        raise MarketDeleveraging(f"market {market.index} is in a deleverage round")
    maker = market.book.best_within(not taker.is_ask, taker.limit_price)
    if maker is None:
        finish_taker(state, taker, out)
        return
    if taker.post_only:  # a modified order, checked not to cross before its claim
        raise PostOnlyWouldCross(f"post-only taker would take at {maker.price}")
    if not is_live(state, maker):
        remove_dead_order(state, market, maker, out)
    elif maker.expiry and maker.expiry < state.timestamp:
        cancel_order(state, market, maker, "expired", out)
    elif maker.account == taker.account:
        cancel_order(state, market, maker, "self-trade", out)
    else:
        match_one(state, market, taker, maker, out)
    state.count_taker_step(taker)
    if taker.remaining == 0:
        finish_taker(state, taker, out)  # filled: no book write
    elif taker.steps >= state.preset.trading_slots:
        stop_taker(state, taker, STEP_LIMIT, out)
    elif state.pending is not taker:
        state.set_pending(taker)


def match_one(state: State, market: Market, taker: Taker, maker: Order, out: list[Event]) -> None:
    """Fills the taker against one maker, or removes the maker if its side of the fill fails."""
    taker_account = state.accounts[taker.account]
    maker_account = state.accounts[maker.account]
    size = min(taker.remaining, maker.remaining)
    if taker.reduce_only:
        size = min(size, compute_reducible(taker_account, market.index, taker.is_ask))
        if size == 0:
            raise ReduceOnlyViolation("reduce-only taker has nothing left to reduce")
    if maker.reduce_only:
        size = min(size, compute_reducible(maker_account, market.index, maker.is_ask))
        if size == 0:
            cancel_order(state, market, maker, "reduce-only", out)
            return
    parties = (maker_account, taker_account)
    # the fill's own savepoint: a mark, undone here for a redo or a rejected maker (a failing
    # taker raises on, to the operation's or the claim's savepoint); its events go with it
    journal, mark, events = state.journal, len(state.journal.entries), len(out)
    try:
        try:
            fill(state, market, taker, maker, parties, size, None, out)
        except _NeedsBefore:  # a side ends unhealthy: redo, judging it against its risk before
            journal.rollback_to(mark)
            del out[events:]
            befores = (
                compute_risk(maker_account, state.markets),
                compute_risk(taker_account, state.markets),
            )
            fill(state, market, taker, maker, parties, size, befores, out)
    except _MakerRejected:
        journal.rollback_to(mark)
        del out[events:]
        cancel_order(state, market, maker, "risk", out)


def is_unhealthy_side_valid(state: State, account: Account, before: Risk | None) -> bool:
    """The valid-risk-change rule for a side of a fill that ends unhealthy (a healthy one
    passes whatever the before): needs ``before``, and without it ``_NeedsBefore`` asks for a
    redo (so the common case never computes the risk before the fill)."""
    if before is None:
        raise _NeedsBefore
    return is_valid_risk_change(before, compute_risk(account, state.markets))


def fill(
    state: State,
    market: Market,
    taker: Taker,
    maker: Order,
    parties: tuple[Account, Account],
    size: int,
    befores: tuple[Risk, Risk] | None,
    out: list[Event],
) -> None:
    """One fill: moves size, cash and fees, checks both sides and open interest, then updates
    the taker and the maker order; see match_one."""
    maker_account, taker_account = parties
    markets, oi_before = state.markets, market.data.open_interest
    price, (maker_before, taker_before) = maker.price, befores or (None, None)
    taker_fee, maker_fee = move_fill(state, market, taker, price, parties, size, out)
    maker_ends_unhealthy = compute_free_margin(maker_account, markets) < 0
    if maker_ends_unhealthy and not is_unhealthy_side_valid(state, maker_account, maker_before):
        raise _MakerRejected
    taker_ends_unhealthy = not taker.zero_price and compute_free_margin(taker_account, markets) < 0
    if taker_ends_unhealthy and not is_unhealthy_side_valid(state, taker_account, taker_before):
        raise RiskCheckFailed(f"taker {taker.account} fails the valid-risk-change rule")
    oi, limit = market.data.open_interest, market.params.max_open_interest
    if oi > oi_before and oi > limit:
        raise OpenInterestLimit(f"open interest {oi} over {limit}")
    state.set_taker_remaining(taker, taker.remaining - size)
    if maker.remaining == size:
        remove_order(state, market, maker)
    else:
        set_order_remaining(state, market, maker, maker.remaining - size)
    trade = (market.index, price, size, taker.account, maker.account, maker.key, taker.is_ask)
    out.append(_new_event(Trade, (*trade, taker_fee, maker_fee)))


def move_fill(
    state: State,
    market: Market,
    taker: Taker,
    price: int,
    parties: tuple[Account, Account],
    size: int,
    out: list[Event],
) -> tuple[int, int]:
    """The money of one fill at ``price``: both positions, the fees to the fee account, and for
    a liquidation the spread to the insurance fund. Returns (taker fee, maker fee)."""
    maker_account, taker_account = parties
    params, quote = market.params, price * size
    sign = -1 if taker.is_ask else 1
    maker_fee = -(-quote * params.maker_fee // PPM)
    apply_fill(state, maker_account, market, -sign * size, -sign * quote, out, maker_fee)
    if taker.zero_price:
        taker_quote, taker_fee = taker.zero_price * size, 0
        spread = sign * (taker_quote - quote)
        state.accrue_insurance(spread)  # the insurance fund's, at the block's end
        out.append(
            LiquidationFill(taker.account, market.index, size, taker.zero_price, price, spread)
        )
    else:
        taker_quote, taker_fee = quote, -(-quote * params.taker_fee // PPM)
    apply_fill(state, taker_account, market, sign * size, sign * taker_quote, out, taker_fee)
    if maker_fee or taker_fee:
        state.accrue_fees(maker_fee + taker_fee)  # the fee account's, at the block's end
    state.check_accrued()
    return taker_fee, maker_fee


def require_order_margin(
    state: State, account: Account, market: Market, price: int, size: int
) -> None:
    """A resting order that may open exposure needs ``TAV >= IMR + its own initial margin``
    (other open orders are not counted: the fill-time risk check is the binding one)."""
    position = account.positions.get(market.index)
    imf = max(market.params.imf, 0 if position is None else position.imf)
    margin = -(-price * size * imf // PPM)
    if compute_free_margin(account, state.markets) < margin:
        risk = compute_risk(account, state.markets)
        raise RiskCheckFailed(
            f"account {account.index}: TAV {risk.tav} < IMR {risk.imr} + order margin {margin}"
        )


def finish_taker(state: State, taker: Taker, out: list[Event]) -> None:
    """Ends the taker: rests its remainder (GTC / GTT) or cancels it."""
    if state.pending is not None:
        state.set_pending(None)
    if taker.remaining == 0:
        outcome = "filled"
    elif taker.rests:
        market, account = state.markets[taker.market], state.accounts[taker.account]
        if not taker.reduce_only:
            require_order_margin(state, account, market, taker.limit_price, taker.remaining)
        rest_order(
            state,
            market,
            account,
            taker.is_ask,
            taker.limit_price,
            taker.remaining,
            taker.reduce_only,
            taker.expiry,
            out,
        )
        outcome = "rested"
    else:
        outcome = "cancelled"
    out.append(_new_event(TakerDone, (taker.account, taker.market, taker.remaining, outcome)))


def stop_taker(state: State, taker: Taker, outcome: str, out: list[Event]) -> None:
    """Ends the taker with its remainder cancelled, for ``outcome`` (TakerDone's)."""
    if state.pending is not None:
        state.set_pending(None)
    out.append(TakerDone(taker.account, taker.market, taker.remaining, outcome))


def end_taker(state: State, taker: Taker, error: InvalidTransaction, out: list[Event]) -> None:
    """A taker whose step failed on its own side (after its first step): its remainder is
    cancelled, and the failure named."""
    stop_taker(state, taker, type(error).__name__, out)
