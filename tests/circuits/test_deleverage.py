"""The deleverage round's step and end in the block circuit (PROTOCOL 7.4, 8.29, 8.30, 8.C
"Deleverage rounds"): proven exactly as the rules do them, and each refusal of the rules, or a
share the rules do not give, refused at a named constraint.

Rounds are opened natively (the start's proofs are ``test_deleverage_start``'s) in states whose
positions are set natively at the entry price (``cases_takeover.give``): users 3 to 7 funded,
BTC's mark then crashed so that the bankrupt account's TAV is negative and a takeover
impossible (the fund holds nothing). Each step and the end then run in proven blocks
(``check_block``: the circuit's public inputs, roots included, are the rules').
"""

from __future__ import annotations

import copy

import pytest

from protocol.accounts import INSURANCE_FUND
from protocol.block import Block, Operation, compute_record, process_block, process_operation
from protocol.errors import InvalidTransaction
from protocol.events import Deleveraged
from protocol.ops.deleverage import Deleverage
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.ops.deleverage_step import DeleverageStep
from protocol.ops.deposit import Deposit
from protocol.ops.registry import decode_op, get_operation
from protocol.risk import compute_risk
from protocol.state import State, make_genesis
from sequencer.witness import build_slot_witness
from tests.circuits.cases_takeover import give
from tests.circuits.test_block import TRADING, started_block
from tests.circuits.test_takeover import check_block, first_broken
from tests.protocol.helpers import BTC, CHAIN_ID, ETH, MARKET, PRICES, owner_of

PRESET = TRADING  # two heavy slots, two markets
START = 1_000_000
PRICE = PRICES[BTC]  # 10,000: every position's entry
CRASH = 6_000


def genesis() -> State:
    """BTC and ETH listed; users 3 to 7 funded with START."""
    markets = ((MARKET, PRICES[BTC]), (MARKET, PRICES[ETH]))
    state = make_genesis(PRESET, CHAIN_ID, markets, owner_of(0), owner_of(1))
    deposits = [Deposit(user, owner_of(user), START) for user in range(3, 8)]
    for n, start in enumerate(range(0, len(deposits), 2), start=1):
        process_block(state, Block(n, 100 * n, tuple(deposits[start : start + 2])))
    return state


def opened(
    lots: dict[int, int], bankrupt: int = 3, tav: int = -10_000, money: dict[int, int] | None = None
) -> State:
    """Each account of ``lots`` holding that many BTC lots (signed) at PRICE, the mark crashed
    to CRASH, ``bankrupt``'s collateral set so that its TAV is ``tav``, the collateral of the
    accounts of ``money`` set to it, and ``bankrupt``'s round opened natively."""
    state = genesis()
    for account, size in lots.items():
        give(state, account, BTC, size, PRICE)
    state.set_market_data(state.markets[BTC], "mark_price", CRASH)
    holder = state.accounts[bankrupt]
    state.set_collateral(holder, holder.collateral + tav - _tav(state, bankrupt))
    for account, collateral in (money or {}).items():
        state.set_collateral(state.accounts[account], collateral)
    process_operation(state, Deleverage(bankrupt, BTC))
    return state


def _tav(state: State, index: int) -> int:
    return compute_risk(state.accounts[index], state.markets).tav


def _moved(state: State, ops: list[Operation]) -> list[tuple[int, int]]:
    """The (counterparty, lots) the rules move for ``ops``, on a copy of ``state``."""
    scratch = copy.deepcopy(state)
    moved = []
    for op in ops:
        events = process_operation(scratch, op)
        moved += [(e.counterparty, abs(e.size)) for e in events if isinstance(e, Deleveraged)]
    return moved


def _round(state: State) -> tuple[int, ...]:
    data = state.markets[BTC].data
    return (data.adl_account, data.adl_cursor, data.adl_seen, data.adl_moved)


# 3 long 5 (bankrupt) and 4 long 5; 5, 6, 7 short 6, 3 and 1: S = 10
SPREAD = {3: 5, 4: 5, 5: -6, 6: -3, 7: -1}


def test_a_round_over_two_blocks_is_proven_with_a_share_of_zero_and_a_remainder() -> None:
    state = opened(SPREAD)
    assert _round(state) == (4, 0, 0, 0)
    first: list[Operation] = [DeleverageStep(BTC, 5), DeleverageStep(BTC, 6)]
    # floor(5 * 6 / 10), floor(5 * 3 / 10); then floor(5 * 1 / 10) = 0 and the remainder 1
    assert _moved(state, first) == [(5, 3), (6, 1)]
    check_block(state, first)
    assert _round(state) == (4, 7, 9, 4)
    second: list[Operation] = [DeleverageStep(BTC, 7), DeleverageEnd(BTC)]
    assert _moved(state, second) == [(7, 0), (INSURANCE_FUND, 1)]
    check_block(state, second)
    assert _round(state) == (0, 0, 0, 0)
    assert state.accounts[3].get_size(BTC) == 0
    assert state.accounts[INSURANCE_FUND].get_size(BTC) == 1


def test_a_holder_whose_share_closes_its_last_position_in_debt_keeps_a_lot() -> None:
    """|s| = S: 5's share is its whole short of 4, at the bankruptcy price of 6,000 + 2,500;
    with 30,000 of collateral it would end at -4,000 without a position, so it takes 3."""
    state = opened({3: 4, 5: -4}, money={5: 30_000})
    assert state.markets[BTC].data.adl_price == 8_500
    ops: list[Operation] = [DeleverageStep(BTC, 5), DeleverageEnd(BTC)]
    assert _moved(state, ops) == [(5, 3), (INSURANCE_FUND, 1)]
    check_block(state, ops)
    assert state.accounts[5].get_size(BTC) == -1


def test_the_funds_own_round_rounds_up_capped_by_the_lots_left() -> None:
    """The fund long 5 and 4 long 2; 5 short 4, 6 short 3 (S = 7): ceil(20 / 7) = 3, then
    ceil(15 / 7) = 3 capped by the 2 left; the end moves nothing."""
    state = opened({INSURANCE_FUND: 5, 4: 2, 5: -4, 6: -3}, bankrupt=INSURANCE_FUND)
    ops: list[Operation] = [DeleverageStep(BTC, 5), DeleverageStep(BTC, 6)]
    assert _moved(state, ops) == [(5, 3), (6, 2)]
    check_block(state, ops)
    assert _moved(state, [DeleverageEnd(BTC)]) == [(INSURANCE_FUND, 0)]
    check_block(state, [DeleverageEnd(BTC)])
    assert not state.accounts[INSURANCE_FUND].get_size(BTC)


def test_the_records_read_back_as_the_operations() -> None:
    """Reconstruction's step: the step's record names its counterparty and market, the end's
    its market (its account, the bankrupt one, is a result)."""
    state = opened(SPREAD)
    for op in (DeleverageStep(BTC, 5), DeleverageStep(BTC, 6), DeleverageStep(BTC, 7)):
        record = compute_record(op, process_operation(state, op))
        assert get_operation(decode_op(record)) == op
    end = DeleverageEnd(BTC)
    record = compute_record(end, process_operation(state, end))
    assert record[1:7] == (3).to_bytes(6, "big")  # the bankrupt account, where A is read
    assert get_operation(decode_op(record)) == end


# -- tampering: each refused at a named constraint ---------------------------------------------


def _step_record(account: int, size: int) -> bytes:
    return compute_record(
        DeleverageStep(BTC, account), (Deleveraged(3, account, BTC, size, size * 1),)
    )


def _refused(state: State, op: Operation, record: bytes, reason: str) -> set[str]:
    scratch = started_block(state)
    with pytest.raises(InvalidTransaction, match=reason):
        build_slot_witness(copy.deepcopy(scratch), op)
    return first_broken(scratch, op, record)


def test_a_step_against_an_account_without_an_opposite_position_is_refused() -> None:
    state = opened(SPREAD)
    broken = _refused(state, DeleverageStep(BTC, 4), _step_record(4, 2), "no opposite position")
    assert broken == {"slot0/deleverage_step/opposite_side"}
    give(state, 7, BTC, 1, PRICE)  # 7 flat now
    broken = _refused(state, DeleverageStep(BTC, 7), _step_record(7, 0), "no opposite position")
    assert "slot0/deleverage_step/holds_position" in broken


def test_a_step_below_the_cursor_is_refused() -> None:
    """Serving 5 twice, or 5 after 6 (skipping it): its index is below the cursor."""
    state = opened(SPREAD)
    check_block(state, [DeleverageStep(BTC, 6)])
    broken = _refused(state, DeleverageStep(BTC, 5), _step_record(5, 3), "serves accounts from")
    assert {n.rsplit("/", 2)[0] for n in broken} == {"slot0/deleverage_step/after_cursor"}


@pytest.mark.parametrize("shift", [1, -1], ids=["floor+1", "floor-1"])
def test_a_share_other_than_the_rules_is_refused(shift: int) -> None:
    state = opened(SPREAD)
    scratch = started_block(state)
    op = DeleverageStep(BTC, 5)
    broken = first_broken(scratch, op, _step_record(5, 3 + shift))
    assert broken == {"slot0/deleverage_step/size_field"}


def _end_record(size: int) -> bytes:
    return compute_record(DeleverageEnd(BTC), (Deleveraged(3, INSURANCE_FUND, BTC, size, 0),))


def test_an_end_before_every_holder_was_served_is_refused() -> None:
    state = opened(SPREAD)
    check_block(state, [DeleverageStep(BTC, 5), DeleverageStep(BTC, 6)])
    broken = _refused(state, DeleverageEnd(BTC), _end_record(1), "served 9 of")
    assert broken == {"slot0/deleverage_end/all_served"}


@pytest.mark.parametrize("size", [0, 2])
def test_an_end_with_another_remainder_is_refused(size: int) -> None:
    state = opened(SPREAD)
    check_block(state, [DeleverageStep(BTC, 5), DeleverageStep(BTC, 6)])
    check_block(state, [DeleverageStep(BTC, 7)])
    broken = first_broken(started_block(state), DeleverageEnd(BTC), _end_record(size))
    assert broken == {"slot0/deleverage_end/size_field"}


def test_a_step_without_an_open_round_is_refused() -> None:
    state = genesis()
    give(state, 3, BTC, 2, PRICE)
    give(state, 5, BTC, -2, PRICE)
    broken = _refused(state, DeleverageStep(BTC, 5), _step_record(5, 0), "no open deleverage")
    assert "slot0/deleverage_step/bankrupt_is_b" in broken
