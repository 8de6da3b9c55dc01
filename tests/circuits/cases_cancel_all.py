"""Cases of ``test_necessity`` for cancel all and forced cancel-all (``circuits/ops/cancel_all.py``,
``forced_cancel_all.py``) and for the cancel epoch's checks elsewhere: a dead maker filled
(``maker_live``), a live one removed as dead (``cancel/kept_live``), a dead maker's removal
counted off its owner's orders (``maker_order/dead_removed``), a dead order cancelled or
modified (``order_is_live``), an order rested outside its owner's epoch (``step/write_epoch``),
and B's packed count and epoch (``b/*``: split one way).

``kill(n)`` runs the rules' cancel all for account ``n`` on the state before the slot: its
orders stay in the book, dead. ``CANCEL_ALL_GUARDED``: the type selectors' booleans."""

from __future__ import annotations

from collections.abc import Callable

from protocol.block import compute_record, process_operation
from protocol.commitment import update_state_root
from protocol.field import R
from protocol.ops import forced_cancel_all
from protocol.ops.cancel_all import CancelAll
from protocol.ops.forced_cancel_all import ForcedCancelAll
from protocol.ops.noop import Noop
from protocol.state import State
from sequencer.witness import capture_account
from tests.circuits.cases_cancel import DEAD, _live, cancel_block, kill
from tests.circuits.cases_modify import in_place
from tests.circuits.forced import get_circuit
from tests.circuits.test_block import signed
from tests.circuits.violations import (
    MARK,
    PRESET,
    Read,
    TwoSlots,
    Violation,
    account_inputs,
    as_slot,
    ask_key,
    cancel,
    edit,
    fill,
    keyed,
    order,
    prepare_all,
    real_record,
    resting,
    started,
    to,
    transfer,
    violation,
    with_unused_byte,
)
from tests.protocol.helpers import FAR, owner_of

FILL = "slot0/step/fill_step/"
LAST_EPOCH = (1 << PRESET.account_nonce_bits) - 1


def _cancel_all(account: int = 3) -> CancelAll:
    op: CancelAll = signed(CancelAll(account, 0, FAR), account)
    return op


FORCED = ForcedCancelAll(3, owner_of(3))
STRANGER = ForcedCancelAll(3, owner_of(9))


def _forced_record(op: ForcedCancelAll) -> Callable[[Read], bytes]:
    """The record a prover posts with the status the circuit computes (``applies``)."""
    return lambda read: forced_cancel_all.RECORD.encode(
        (op.account, op.owner, read("slot0/forced_cancel_all/applies") % R)
    )


def real_record_after(op: object, prepare: Callable[[State], None]) -> bytes:
    """The rules' record of ``op`` after ``prepare``."""
    state = started()
    prepare(state)
    return compute_record(op, process_operation(state, op))  # type: ignore[arg-type]


def _dead_fill() -> Violation:
    """3's bid fills 40 of 4's ask, which 4's cancel all killed: the record of the fill the
    rules would make of it live."""
    op, rest = fill()
    return violation(op, record=real_record_after(op, rest), prepare=prepare_all(rest, kill(4)))


def _dead_counted() -> TwoSlots:
    """``DEAD`` with 5's bid resting below the mark after its cancel all (5 counts one order),
    and 5's dead ask's removal counted off it: slot 1 reads the account tree with 5 at 0."""
    v = cancel_block(
        prepare_all(DEAD, resting(account=5, is_ask=False, price=MARK - 100)),
        {FILL + "maker_order/dead_removed": to(0)},
    )
    holder = v.after.get_account(5)
    v.after.set_open_orders(holder, holder.open_orders - 1)
    update_state_root(v.after)
    v.inputs |= as_slot(1, account_inputs("a", capture_account(v.after, 3)))
    return v


CANCEL_ALL_CASES: dict[str, Callable[[], Violation | TwoSlots]] = {
    # cancel all (3 with one ask resting, unless said otherwise)
    "cancel_all/account_exists": lambda: violation(_cancel_all(9), edit_a=keyed(9)),
    # the count posted as 0: 3's order count kept while its epoch moves on
    "cancel_all/cancelled_is_open_orders": lambda: violation(
        _cancel_all(), prepare=resting(), record=real_record(_cancel_all())
    ),
    "cancel_all/zeroed": lambda: violation(
        _cancel_all(),
        prepare=resting(),
        record=real_record_after(_cancel_all(), resting()),
        wires={"slot0/cancel_all/zeroed": to(0)},
    ),
    # the epoch past its last value (the next slot reading A could not prove its range)
    "cancel_all/epoch_not_spent": lambda: violation(
        _cancel_all(), edit_a=edit(cancel_epoch=LAST_EPOCH), record=real_record(_cancel_all())
    ),
    "cancel_all/unused_bytes_zero": lambda: violation(
        _cancel_all(),
        record=with_unused_byte(get_circuit(_cancel_all()), real_record(_cancel_all())),
    ),
    # forced cancel-all
    "forced_cancel_all/status_field": lambda: violation(
        STRANGER, record=forced_cancel_all.RECORD.encode((3, owner_of(9), 1))
    ),
    "forced_cancel_all/owned": lambda: violation(
        STRANGER,
        prepare=resting(),
        wires={"slot0/forced_cancel_all/owned": to(1)},
        record_from=_forced_record(STRANGER),
    ),
    "forced_cancel_all/applies": lambda: violation(
        STRANGER,
        prepare=resting(),
        wires={"slot0/forced_cancel_all/applies": to(1)},
        record_from=_forced_record(STRANGER),
    ),
    "forced_cancel_all/applied": lambda: violation(
        FORCED, prepare=resting(), wires={"slot0/forced_cancel_all/applied": to(0)}
    ),
    "forced_cancel_all/zeroed": lambda: violation(
        FORCED, prepare=resting(), wires={"slot0/forced_cancel_all/zeroed": to(0)}
    ),
    "forced_cancel_all/unused_bytes_zero": lambda: violation(
        FORCED, record=with_unused_byte(get_circuit(FORCED), real_record(FORCED))
    ),
    # a dead order (3's first ask; its second, live, keeps the count at one) cancelled
    "cancel_order/order_is_live": lambda: violation(
        cancel(key=ask_key(0)), prepare=prepare_all(resting(), kill(3), resting())
    ),
    # a dead order cut in place
    "modify_order/order_is_live": lambda: in_place(prepare=prepare_all(resting(), kill(3))),
    # a dead maker filled
    "step/fill_step/maker_live": _dead_fill,
    # 5's live ask removed as dead (``_live``: the witness of its removal as expired)
    "step/fill_step/cancel/kept_live": lambda: _live({FILL + "cancel/kept_live": to(0)}),
    # 5's dead ask removed, counted off 5's orders (its live bid's count falls to 0)
    "step/fill_step/maker_order/dead_removed": _dead_counted,
    # B (4, not A) with a count or an epoch: the range checks of the values times 0
    "b/open_orders_apart": lambda: violation(
        transfer(), prepare=resting(account=4), wires={"slot0/b/open_orders_apart": to(0)}
    ),
    "b/cancel_epoch_apart": lambda: violation(
        transfer(), prepare=kill(4), wires={"slot0/b/cancel_epoch_apart": to(0)}
    ),
    # B is A (3 cancels its live order after a cancel all: epoch 1, count 0 after), its
    # packed input split as count 2^16, epoch 0: the split a dead order of epoch 0 would need
    "b/epoch_follows_a": lambda: violation(
        cancel(key=ask_key(1)),
        prepare=prepare_all(resting(), kill(3), resting()),
        inputs={"slot0/b/open_orders": 1 << 16, "slot0/b/cancel_epoch": 0},
        settle=False,
    ),
    # 3's bid rests in the epoch before 3's cancel all: dead at birth
    "step/write_epoch": lambda: violation(
        order(), prepare=kill(3), wires={"slot0/step/write_epoch": to(0)}
    ),
}


def _selectors(**values: int) -> dict[str, int]:
    return {f"slot0/type/is_{name}": v for name, v in values.items()}


# a noop (account 0: the insurance fund, owner ``owner_of(0)``) whose selectors sum to 1
# through a -1: forced cancel-all's -1 moves nothing (the record's owner is not 0's)
CANCEL_ALL_CASES["type/is_forced_cancel_all_boolean"] = lambda: violation(
    Noop(), inputs=_selectors(forced_cancel_all=-1, noop=1, forced_withdraw=1)
)

CANCEL_ALL_GUARDED: dict[str, tuple[Callable[[], Violation | TwoSlots], set[str]]] = {
    # cancel all's -1 moves the fund's nonce and epoch by -1 and signs with minus a key: the
    # signature (its key and equation) and the epoch's split refuse it too, and the block's
    # end, which opens the fund (its count split off the epoch one below)
    "type/is_cancel_all_boolean": (
        lambda: violation(Noop(), inputs=_selectors(cancel_all=-1, noop=1, forced_withdraw=1)),
        {
            "block_end/insurance_fund/open_orders/range/bits_sum",
            "b/epoch_follows_a",
            "signature/eddsa/public_key/in_subgroup/is_8q_x",
            "signature/eddsa/public_key/in_subgroup/is_8q_y",
            "signature/eddsa/s_g_is_r_plus_c_a_x",
            "signature/eddsa/s_g_is_r_plus_c_a_y",
        },
    ),
}
