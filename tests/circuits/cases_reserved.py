"""Cases of ``test_necessity`` for B's positions and risk in a heavy slot and the running
copies of the collateral of the fee account, the funding pool and the insurance fund
(``_track_reserved``).

The running copies start as the free inputs ``reserved/fee_account``, ``reserved/funding_pool``
and ``reserved/insurance_fund``; a slot whose A or B is the account pins them (``*_tracked``)
and takes the account's new collateral (the products ``fee_account``, ``funding_pool``,
``insurance_fund``), and the block's end pins the last copy to the account it opens. The
accrued products feed only the collateral range check of the account the slot writes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.block import compute_record, process_operation
from protocol.field import R
from protocol.ops.create_order import CreateOrder
from protocol.ops.deposit import Deposit
from protocol.state import State
from tests.circuits.violations import (
    MARK,
    POSITION_FIELDS,
    Violation,
    fill,
    order,
    resting,
    short,
    started,
    to,
    transfer,
    violation,
)

NAMES = {FEE_ACCOUNT: "fee_account", FUNDING_POOL: "funding_pool", INSURANCE_FUND: "insurance_fund"}
RESERVED_INPUT = {index: f"reserved/{name}" for index, name in NAMES.items()}


def _collateral(index: int) -> int:
    """``index``'s collateral before the slot."""
    return started().get_account(index).collateral


def _deposit_into(index: int) -> Deposit:
    """A deposit of 5 into the existing ``index`` (A and B), sent by its own owner."""
    return Deposit(index, started().get_account(index).owner, 5)


def _tracked_by_a(index: int) -> Callable[[], Violation]:
    """A deposit into ``index`` (a reserved account the block's end credits: A and B) whose running
    copy starts one off its collateral: A's ``*_tracked`` alone pins it (the copy takes A's
    new collateral, which B and the block's end see)."""

    def make() -> Violation:
        off = _collateral(index) + 1
        return violation(_deposit_into(index), inputs={RESERVED_INPUT[index]: off})

    return make


def _tracked_by_b(index: int) -> Callable[[], Violation]:
    """A transfer from 3 to ``index`` (B) whose running copy starts one off its collateral."""

    def make() -> Violation:
        off = _collateral(index) + 1
        return violation(transfer(to=index), inputs={RESERVED_INPUT[index]: off})

    return make


def _copy_moved(side: str, index: int, by: int = 7) -> Callable[[], Violation]:
    """A transfer between users 3 and 4 (neither reserved) whose running copy of ``index``
    starts ``by`` below the account's collateral and is moved back up by ``side``'s product
    (the account is not the slot's: its honest product is 0). The block's end sees the
    account's collateral: only the product refuses."""
    name = NAMES[index]

    def make() -> Violation:
        return violation(
            transfer(),
            inputs={RESERVED_INPUT[index]: (_collateral(index) - by) % R},
            wires={f"slot0/{side}_collateral/{name}": to(by)},
        )

    return make


LIMIT_GAP = 1000  # how far below 2^collateral_bits the credited account starts
CREDIT = 400_000  # what the claimed accrued product takes off: more than any credit here


def _near_limit(index: int) -> Callable[[State], None]:
    """``index``'s collateral ``LIMIT_GAP`` below ``2^collateral_bits``."""

    def prepare(state: State) -> None:
        limit = 1 << state.preset.collateral_bits
        state.set_collateral(state.get_account(index), limit - LIMIT_GAP)

    return prepare


def _taker_sells() -> tuple[CreateOrder, Callable[[State], None], bytes]:
    """Account 3 sells 40 lots to account 4's bid of 100 at the mark (the cash model credits
    it 40 marks less its fee), its collateral near the limit, and the record of that fill as
    the rules make it when the collateral is not."""
    op = order(is_ask=True, size=40)
    rest = resting(account=4, is_ask=False, price=MARK)
    state = started()
    rest(state)
    record = compute_record(op, process_operation(copy.deepcopy(state), op))

    def prepare(state: State) -> None:
        rest(state)
        _near_limit(3)(state)

    return op, prepare, record


def _accrued(side: str, name: str) -> Callable[[], Violation]:
    """A credit that takes a user's collateral over ``2^collateral_bits`` (A: account 3 sells
    40 lots; B: a transfer of ``LIMIT_GAP`` from 3 to 4), the user's accrued product (honestly
    0: it is not reserved) claimed ``-CREDIT`` so that the collateral range check it feeds
    passes: only the product refuses the overflow (``_check_accrued`` sees the reserved
    accounts only)."""
    wires = {f"slot0/{side}_collateral/accrued_{name}": to(-CREDIT % R)}

    def make() -> Violation:
        if side == "a":
            op, prepare, record = _taker_sells()
            return violation(op, record=record, prepare=prepare, wires=wires)
        return violation(transfer(amount=LIMIT_GAP), prepare=_near_limit(4), wires=wires)

    return make


def _b_position_hidden() -> Violation:
    """Account 3 takes 40 lots of account 4's ask while B (the maker, short 100 lots) claims no
    position: its fill, risk and new positions follow the claim, which only its positions
    root refuses."""
    op, rest = fill()

    def prepare(state: State) -> None:
        rest(state)
        short(4, 100)(state)

    zeros = {f"slot0/b_positions/market0/{n}": 0 for n in POSITION_FIELDS}
    return violation(op, prepare=prepare, inputs=zeros)


MAKER_COLLATERAL = 10_000  # below the maker's initial margin once short 40 lots at the mark


def _poor_maker() -> Violation:
    """Account 3 takes 40 lots of account 4's ask, account 4 holding only MAKER_COLLATERAL:
    short 40 lots its margin does not cover (healthy before, unhealthy after). The record
    is the fill as the rules make it for a rich maker."""
    op, rest = fill()

    def poor(state: State) -> None:
        rest(state)
        state.set_collateral(state.get_account(4), MAKER_COLLATERAL)

    state = started()
    rest(state)
    record = compute_record(op, process_operation(copy.deepcopy(state), op))
    return violation(op, record=record, prepare=poor)


RESERVED_CASES: dict[str, Callable[[], Violation]] = {
    "a_collateral/fee_account_tracked": _tracked_by_a(FEE_ACCOUNT),
    "a_collateral/funding_pool_tracked": _tracked_by_a(FUNDING_POOL),
    "b_collateral/fee_account_tracked": _tracked_by_b(FEE_ACCOUNT),
    "a_collateral/insurance_fund_tracked": _tracked_by_a(INSURANCE_FUND),
    "b_collateral/insurance_fund_tracked": _tracked_by_b(INSURANCE_FUND),
    "a_collateral/insurance_fund": _copy_moved("a", INSURANCE_FUND),
    "b_collateral/insurance_fund": _copy_moved("b", INSURANCE_FUND),
    "a_collateral/accrued_insurance": _accrued("a", "insurance"),
    "b_collateral/accrued_insurance": _accrued("b", "insurance"),
    "a_collateral/fee_account": _copy_moved("a", FEE_ACCOUNT),
    "a_collateral/funding_pool": _copy_moved("a", FUNDING_POOL),
    "b_collateral/fee_account": _copy_moved("b", FEE_ACCOUNT),
    "b_collateral/funding_pool": _copy_moved("b", FUNDING_POOL),
    "a_collateral/accrued_fees": _accrued("a", "fees"),
    "a_collateral/accrued_funding": _accrued("a", "funding"),
    "b_collateral/accrued_fees": _accrued("b", "fees"),
    "b_collateral/accrued_funding": _accrued("b", "funding"),
    "b_positions/root_matches": _b_position_hidden,
    "b_valid_risk_change": _poor_maker,
}

RESERVED_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {
    # B is the funding pool only when A is too (a deposit into it: B's fields are A's new
    # ones, which A's copy took) or when a transfer names it, which the transfer refuses (a
    # fill's maker never is: the pool places no order, so no book holds one of its orders).
    "b_collateral/funding_pool_tracked": (
        _tracked_by_b(FUNDING_POOL),
        {"transfer/receiver_allowed"},
    ),
}

RESERVED_FAMILIES: set[str] = set()
