"""Cases of ``test_necessity`` for the amounts the fill unit picks and writes: the selected
market, the positions, funding and fee rates it reads, each side's position changes.

Each starts from ``fill()`` (account 3 buys 40 lots of account 4's ask) and moves one product
of ``circuits/ops/fill_unit.py`` to what a cheating prover gains by; the rest follows, and
every other check still passes. Where the positions before matter, both sides already hold
one (``_holding``), and where funding matters the market's funding index has moved since
their snapshot."""

from __future__ import annotations

from collections.abc import Callable

from protocol.state import State
from tests.circuits.tracing import WireFn
from tests.circuits.violations import MARK, Violation, add, fill, to, violation

FUNDING_INDEX = 3_000_000  # 3 micro-USDC per lot since the positions' snapshot: longs pay


def _holding(taker: int, maker: int, index: int = 0) -> Callable[[State], None]:
    """Account 3 (the taker) holds ``taker`` lots of market 0, account 4 (the maker)
    ``maker`` (signed), both bought or sold at the mark and snapshotted at funding index 0,
    which has since moved to ``index``."""

    def prepare(state: State) -> None:
        for account, size in ((3, taker), (4, maker)):
            holder = state.get_account(account)
            state.set_position_field(holder, 0, "size", size)
            state.set_position_field(holder, 0, "entry_quote", size * MARK)
            state.set_collateral(holder, holder.collateral - size * MARK)
        market = state.markets[0]
        state.set_open_interest(market, max(taker, 0) + max(maker, 0))
        state.set_market_data(market, "funding_index", index)

    return prepare


OWING = _holding(10, -10, FUNDING_INDEX)  # 3 owes 30, 4 is owed 30
REDUCING = _holding(-100, 100)  # the fill reduces both positions by 40


def _fill(
    wire: str, change: WireFn, holding: Callable[[State], None] | None = None
) -> Callable[[], Violation]:
    """The fill with ``slot0/step/fill_step/<wire>`` changed (after ``holding``)."""

    def make() -> Violation:
        op, rest = fill()

        def prepare(state: State) -> None:
            if holding is not None:
                holding(state)
            rest(state)

        return violation(op, prepare=prepare, wires={f"slot0/step/fill_step/{wire}": change})

    return make


FILL_AMOUNTS_CASES: dict[str, Callable[[], Violation]] = {
    # the market selected twice: each side's position moves by 80 lots for the quote of 40
    # (and twice the fees)
    "step/fill_step/selected#": _fill("selected0", to(2)),
    # the market's funding index read as 0: both snapshots go back, the short (the maker)
    # collects the 3 per lot once more
    "step/fill_step/funding_index#": _fill("funding_index0", to(0), OWING),
    # the taker's long of 10 read as a short of 10: it looks flipped, the open interest grows
    # by 30 instead of 40 (past its cap unseen) and the entry quote is the flip's
    "step/fill_step/taker_size#": _fill("taker_size0", to(-10), OWING),
    # the taker's short's cost basis read as twice its own: reduced, it stays shifted (the
    # deleverage ranking reads it)
    "step/fill_step/taker_entry_quote#": _fill("taker_entry_quote0", to(-200 * MARK), REDUCING),
    # the taker's snapshot read as -3: its new one is 6, a long's funding received later
    "step/fill_step/taker_funding_index#": _fill("taker_funding_index0", to(-FUNDING_INDEX), OWING),
    # the taker's funding not settled: it keeps the 30 it owes, the funding pool goes without
    "step/fill_step/taker_owed#": _fill("taker_owed0", to(0), OWING),
    # the taker pays no fee
    "step/fill_step/taker_fee_rate#": _fill("taker_fee_rate0", to(0)),
    # the maker's short of 10 read as a long of 10 (the open interest grows by 30, not 40)
    "step/fill_step/maker_size#": _fill("maker_size0", to(10), OWING),
    "step/fill_step/maker_entry_quote#": _fill("maker_entry_quote0", to(200 * MARK), REDUCING),
    # the maker's snapshot read as 6: its new one is -3, a short's funding received later
    "step/fill_step/maker_funding_index#": _fill(
        "maker_funding_index0", to(2 * FUNDING_INDEX), OWING
    ),
    # the maker takes twice the 30 it is owed
    "step/fill_step/maker_owed#": _fill("maker_owed0", add(-30), OWING),
    # the maker pays no fee
    "step/fill_step/maker_fee_rate#": _fill("maker_fee_rate0", to(0)),
    # the positions written apart from the fill: a lot more than paid for, a lower cost
    # basis, a snapshot ahead of the market's (a short's: behind)
    "step/fill_step/taker_size_change#": _fill("taker_size_change0", add(1)),
    "step/fill_step/taker_entry_quote_change#": _fill("taker_entry_quote_change0", add(-1000)),
    "step/fill_step/taker_funding_index_change#": _fill(
        "taker_funding_index_change0", add(FUNDING_INDEX), OWING
    ),
    "step/fill_step/maker_size_change#": _fill("maker_size_change0", add(1)),
    "step/fill_step/maker_entry_quote_change#": _fill("maker_entry_quote_change0", add(1000)),
    "step/fill_step/maker_funding_index_change#": _fill(
        "maker_funding_index_change0", add(-FUNDING_INDEX), OWING
    ),
}

FILL_AMOUNTS_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {}

FILL_AMOUNTS_FAMILIES: set[str] = set(FILL_AMOUNTS_CASES)
