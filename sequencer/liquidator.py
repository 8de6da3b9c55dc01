"""The operator's own operations on unhealthy accounts (docs/PROTOCOL.md 7.4, 9.8): each block,
after the priority requests and before the L2 transactions, the builder asks every pass of
``PASSES`` for the operations it would take now and applies each with its claims, as it applies
any operation (``sequencer.builder``).

A pass is a function of the state that yields operations one at a time; the builder applies each
before asking for the next, so a pass reads the state its earlier operations left. Passes are
pure policy: the rules decide what is allowed, so an operation the rules refuse, or that the
block cannot hold, costs nothing but the try (the builder logs it, and the state is as it was),
and the operator never stalls on one. A pass whose operation type the block circuit does not
prove is skipped whole (``builder``; today it proves every type these passes yield).

**Partial liquidation** (``find_liquidations``): every account in partial liquidation
(``CMR <= TAV < MMR``, reserved accounts never), by account index, has its positions liquidated
one market at a time, the largest notional first, each **whole** (size = the position):
closing at the zero price leaves TAV / MMR where it was (up to rounding against the account),
so no partial size brings the account back above MMR; only a position closed, its margin gone,
does. An account is asked again after each liquidation, while it is still in partial
liquidation. A position is liquidated only where the book holds a crossing bid (or ask) at the
zero price: with no liquidity a liquidation would fill nothing and only cancel the account's
orders, every block; its turn comes when a maker arrives, or when it falls below close-out
(takeover).

**Takeover** (``find_takeovers``): every account below close-out margin (``TAV < CMR``,
bankrupt included; reserved accounts never), by account index, that the insurance fund can
absorb (``liquidation.is_takeover_possible``) is taken over whole (8.25). One the fund cannot
absorb is deleveraged (below).

**Deleverage rounds** (PROTOCOL 7.4, docs/ADL.md): ``continue_rounds`` runs first in each block,
so that a market stays frozen as briefly as the block allows: each open round serves its
opposite holders still to serve, in index order (``DeleverageStep``), then ends
(``DeleverageEnd``); a step left out stops its round for the block, since serving the next
holder would skip it for good. ``find_deleverages`` runs after the takeovers: every account
bankrupt beyond the fund (``TAV < 0`` and no takeover possible; the users by index, then the
fund itself when bankrupt) has a round opened in the market of its largest position that has
none open (``Deleverage``), run at once, and another while it is still bankrupt, one round per
market and block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from protocol.accounts import INSURANCE_FUND, RESERVED_ACCOUNTS
from protocol.block import Operation
from protocol.errors import InvalidTransaction
from protocol.liquidation import find_round, is_takeover_possible, list_round_counterparties
from protocol.ops.deleverage import Deleverage
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.ops.deleverage_step import DeleverageStep
from protocol.ops.liquidate import Liquidate, compute_taker
from protocol.ops.takeover import Takeover
from protocol.risk import Health, compute_risk
from protocol.state import State

Pass = Callable[[State], Iterable[Operation]]


def is_in_partial_liquidation(state: State, index: int) -> bool:
    account = state.accounts[index]
    return compute_risk(account, state.markets).health == Health.PARTIAL_LIQUIDATION


def get_liquidation_order(state: State, index: int) -> list[int]:
    """The markets of account ``index``'s positions, the largest notional at the mark first
    (ties by market index)."""
    positions = state.accounts[index].positions
    held = [(m, abs(p.size) * state.markets[m].data.mark_price) for m, p in positions.items()]
    return [m for m, notional in sorted(held, key=lambda x: (-x[1], x[0])) if notional]


def has_liquidity(state: State, op: Liquidate) -> bool:
    """Whether the book holds an order that crosses the liquidation's zero price (its side's
    best order: a dead one of the account's own is removed and the step goes on)."""
    try:
        taker = compute_taker(state, op)
    except InvalidTransaction:
        return False
    book = state.markets[taker.market].book
    return book.best_within(not taker.is_ask, taker.limit_price) is not None


def find_liquidations(state: State) -> Iterator[Operation]:
    """The partial liquidations of the module docstring, one at a time."""
    for index in sorted(state.accounts):
        if index in RESERVED_ACCOUNTS:
            continue
        for market in get_liquidation_order(state, index):
            if not is_in_partial_liquidation(state, index):
                break
            size = abs(state.accounts[index].get_size(market))
            op = Liquidate(index, market, size)
            if size and has_liquidity(state, op):
                yield op


def find_takeovers(state: State) -> Iterator[Operation]:
    """The takeovers of the module docstring, one at a time."""
    for index in sorted(state.accounts):
        if index in RESERVED_ACCOUNTS:
            continue
        account = state.accounts[index]
        risk = compute_risk(account, state.markets)
        if risk.tav < risk.cmr and is_takeover_possible(state, account):
            yield Takeover(index)


def run_round(state: State, market: int) -> Iterator[Operation]:
    """The rest of market ``market``'s open round, if one is open: a step for each
    counterparty it has still to serve (listed once, when the round is reached: a step moves
    nobody onto the opposite side), then its end. A step left out ends it for this block."""
    if not state.markets[market].data.adl_account:
        return
    for counterparty in list_round_counterparties(state, state.markets[market]):
        yield DeleverageStep(market, counterparty)
        if state.markets[market].data.adl_cursor <= counterparty:
            return  # left out: serving the next one would skip it for good; the next block
    yield DeleverageEnd(market)


def continue_rounds(state: State) -> Iterator[Operation]:
    """The open rounds run on, market by market (module docstring)."""
    for market in range(len(state.markets)):
        yield from run_round(state, market)


def is_bankrupt_beyond_fund(state: State, index: int) -> bool:
    """Whether account ``index`` is to be deleveraged: ``TAV < 0`` and the fund cannot take it
    over (the fund: ``TAV < 0``; nothing can take it over)."""
    account = state.accounts[index]
    if compute_risk(account, state.markets).tav >= 0:
        return False
    return index == INSURANCE_FUND or not is_takeover_possible(state, account)


def get_round_market(state: State, index: int, done: set[int]) -> int | None:
    """The market of account ``index``'s next round: its largest position's (at the mark)
    among the markets with no open round and not in ``done``; None while it is in a round, or
    holds nothing else."""
    if find_round(state, index) is not None:
        return None
    for market in get_liquidation_order(state, index):
        if market not in done and not state.markets[market].data.adl_account:
            return market
    return None


def find_deleverages(state: State) -> Iterator[Operation]:
    """The rounds of the accounts bankrupt beyond the fund (module docstring), one operation at
    a time."""
    users = [i for i in sorted(state.accounts) if i not in RESERVED_ACCOUNTS]
    for index in (*users, INSURANCE_FUND):
        done: set[int] = set()  # one round per market and block: a fund that keeps lots waits
        while is_bankrupt_beyond_fund(state, index):
            market = get_round_market(state, index, done)
            if market is None:
                break
            done.add(market)
            yield Deleverage(index, market)
            if state.markets[market].data.adl_account != index + 1:
                break  # refused, or left out
            yield from run_round(state, market)
            if state.markets[market].data.adl_account:
                break  # a step or the end refused: the next block's continue_rounds


PASSES: tuple[Pass, ...] = (continue_rounds, find_liquidations, find_takeovers, find_deleverages)
