"""Every named constraint of a slot is necessary: for each, a witness that it alone refuses.

For each constraint of the operations' own circuits (``circuits/ops/<op>.py``) and of the slot's
shared checks (``circuits/ops/slot.py``, ``common.py``), ``CASES`` builds a witness of a
one-slot block that breaks that constraint and no other, so the circuit without it would
accept the witness: a cheating prover's (``tests/circuits/violations.py``). Each starts from a
forced slot (``tests/circuits/forced.py``) and replaces what a prover free of that constraint would
replace: an input (an account's fields, a record, a signature), a hint, or the wire the
constraint defines (``tests/circuits/tracing.py`` recomputes the rest, and B's fields or path
follow A's new leaf, as in a real slot).

A claim needs the taker a step of an earlier slot left pending, which slot 0 never has: the
claim's constraints and the pending taker's fields have cases of a two-slot block instead
(``violations.two_slots``: the rules' own witness of an order that leaves its taker pending and
of its claim, with the prover's changes; :class:`TwoSlots` names the slot whose constraint
alone breaks).

``GUARDED`` lists the few constraints for which no such witness is known (others refuse the
same witnesses today; each is kept as the direct statement of its rule), with a witness and
exactly which constraints refuse it; ``EXEMPT`` the gadgets' own constraints, whose tampering
tests live beside each gadget; ``VACUOUS`` one that cannot fail. A new constraint in none of
them fails ``test_every_constraint_has_a_case``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import pytest

from circuits.block import build_block_circuit
from circuits.gadgets.book_tree import get_level_lanes
from circuits.ops.register_key import get_torsion_points
from circuits.ops.slot import BODY_BYTES, get_dummy_signature
from circuits.r1cs import HintFn
from protocol import eddsa, jubjub, pubdata
from protocol.accounts import Position
from protocol.block import compute_record
from protocol.book import OrderBook
from protocol.commitment import compute_position_leaf
from protocol.events import Withdrawn
from protocol.field import R, inv
from protocol.markets import Market, MarketData
from protocol.ops import create_order
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce
from protocol.ops.deposit import Deposit
from protocol.ops.forced_withdraw import ForcedWithdraw
from protocol.ops.noop import Noop
from protocol.ops.register_key import RegisterKey
from protocol.ops.transfer import Transfer
from protocol.signing import compute_tx_message
from protocol.smt import SparseMerkleTree
from protocol.state import State
from sequencer.witness import build_block_witness, capture_account
from tests.circuits.cases_cancel import (
    CANCEL_BLOCKS,
    CANCEL_CASES,
    CANCEL_FAMILIES,
    CANCEL_GUARDED,
    cancel_block,
    scaled_inverse,
)
from tests.circuits.cases_cancel_all import CANCEL_ALL_CASES, CANCEL_ALL_GUARDED
from tests.circuits.cases_claim import (
    CLAIM_CASES,
    CLAIM_FAMILIES,
    CLAIM_GUARDED,
    TWO_SLOT_CASES,
    pending_taker_dropped,
)
from tests.circuits.cases_deleverage import (
    DELEVERAGE_CASES,
    DELEVERAGE_FAMILIES,
    DELEVERAGE_GUARDED,
)
from tests.circuits.cases_deleverage_start import (
    FREEZE_CASES,
    FREEZE_FAMILIES,
    FREEZE_GUARDED,
    START_CASES,
    START_FAMILIES,
    START_GUARDED,
)
from tests.circuits.cases_end import END_BLOCKS, END_CASES, END_FAMILIES, END_GUARDED
from tests.circuits.cases_fill import FILL_CASES, FILL_FAMILIES, FILL_GUARDED
from tests.circuits.cases_fill_amounts import (
    FILL_AMOUNTS_CASES,
    FILL_AMOUNTS_FAMILIES,
    FILL_AMOUNTS_GUARDED,
)
from tests.circuits.cases_forced_order import (
    FORCED_ORDER_CASES,
    FORCED_ORDER_FAMILIES,
    FORCED_ORDER_GUARDED,
    FORCED_ORDER_MORE,
)
from tests.circuits.cases_liquidate import (
    LIQUIDATE_CASES,
    LIQUIDATE_FAMILIES,
    LIQUIDATE_GUARDED,
)
from tests.circuits.cases_modify import (
    IN_PLACE,
    MODIFY_CASES,
    MODIFY_FAMILIES,
    MODIFY_GUARDED,
    MOVED_KEY,
    RESTING,
    in_place,
    moved,
)
from tests.circuits.cases_pool import POOL_CASES, POOL_FAMILIES, POOL_GUARDED
from tests.circuits.cases_reserved import RESERVED_CASES, RESERVED_FAMILIES, RESERVED_GUARDED
from tests.circuits.cases_takeover import (
    TAKEOVER_CASES,
    TAKEOVER_EXEMPT,
    TAKEOVER_FAMILIES,
    TAKEOVER_GUARDED,
)
from tests.circuits.cases_trigger import TRIGGER_CASES, TRIGGER_FAMILIES, TRIGGER_GUARDED
from tests.circuits.cases_trigger_place import (
    TRIGGER_PLACE_CASES,
    TRIGGER_PLACE_FAMILIES,
    TRIGGER_PLACE_GUARDED,
)
from tests.circuits.forced import compute_leaf, get_circuit
from tests.circuits.test_block import (
    BAD_KEYS,
    START,
    key_bytes,
    next_block,
    signed,
)
from tests.circuits.torsion_lines import MONOMIALS, find_other_torsion_point, torsion_bits
from tests.circuits.tracing import unsatisfied
from tests.circuits.violations import (
    ASK_PRICE,
    MARK,
    PRESET,
    TwoSlots,
    Violation,
    account_inputs,
    add,
    ask_key,
    block_inputs,
    book_at,
    cancel,
    decoder_wire,
    edit,
    fill,
    flip,
    forced_withdraw_record,
    get_state,
    get_trace,
    get_two_slot_trace,
    key_book,
    keyed,
    leverage,
    next_non_square,
    order,
    real_record,
    register,
    register_key_record,
    replay,
    replay_two,
    rest_book,
    resting,
    shifted,
    short,
    sign_as,
    signature_inputs,
    started,
    to,
    transfer,
    two_asks,
    two_slot_inputs,
    two_slot_order,
    two_slots,
    violation,
    with_unused_byte,
    withdraw,
)
from tests.protocol.helpers import CHAIN_ID, FAR, MARKET, key_of, owner_of

DECOMPOSITION = decoder_wire("subgroup/decomposition")  # the hint of Q and the torsion bits


def _owner(index: int) -> int:
    return int.from_bytes(owner_of(index), "big")


def _rich(account: int, collateral: int) -> Callable[[State], None]:
    def prepare(state: State) -> None:
        state.set_collateral(state.get_account(account), collateral)

    return prepare


def _signed_by_negated_key() -> Violation:
    """The key's x coordinate negated: -A, whose secret key is -a, signs."""
    op = transfer()
    sk = key_of(3)
    negated = eddsa.SecretKey(-sk.scalar % eddsa.ORDER, sk.nonce_key)
    dummy = get_dummy_signature()[0]
    a_x = sk.public_key.x
    signature = eddsa.sign(negated, compute_tx_message(CHAIN_ID, op))
    return violation(
        op, inputs=signature_inputs(signature), wires={"slot0/signature/key_x": to(-a_x - dummy.x)}
    )


def _digest_tampered(op: Transfer | CreateOrder, block: int) -> Violation:
    """``op`` (account 3's) with the signed message one more than its own, and the digest of
    the sponge block its message ends in moved to it."""
    signature = eddsa.sign(key_of(3), compute_tx_message(CHAIN_ID, op) + 1)
    return violation(
        op,
        inputs=signature_inputs(signature),
        wires={f"slot0/signature/digest_after_block{block}": add(1)},
    )


def _selectors(**values: int) -> dict[str, int]:
    return {f"slot0/type/is_{name}": v for name, v in values.items()}


def _stale_b_path() -> Violation:
    v = violation(transfer())
    b = capture_account(v.scratch, 4)  # B's path before A's update
    return replace(v, inputs=account_inputs("b", b), settle=False)


def _old_leaf_kept(side: str, index: int) -> Violation:
    """A field changed while the old leaf stays the tree's: the fields are free."""
    scratch = started()
    leaf = compute_leaf(capture_account(scratch, index))
    collateral = scratch.get_account(index).collateral + 1000
    return violation(
        transfer(),
        inputs={f"slot0/{side}/collateral": collateral},
        wires={f"slot0/{side}/old/leaf/exists_times_hash": to(leaf)},
    )


def _record_bit_not_boolean() -> Violation:
    op = Deposit(3, owner_of(9), 5)
    record = compute_record(op, ())
    k, j = next((k, j) for k in BODY_BYTES for j in range(8) if not record[k] >> j & 1)
    return violation(op, inputs={f"slot0/record/byte{k}_bit{j}": 2})


def _decomposed_as(index: Callable[[int], int]) -> Callable[[list[int]], list[int]]:
    """``P = 8Q + T`` claimed as ``8(-Q) + torsion[index(i)]``."""

    def change(values: list[int]) -> list[int]:
        q_x, q_y, *bits = values
        i = bits[0] + 2 * bits[1] + 4 * bits[2]
        return [-q_x % R, q_y, *torsion_bits(index(i) % 8)]

    return change


def _other_torsion_point(free: str) -> Violation:
    """With ``free`` unconstrained, the lookup gives another curve point: a key outside the
    subgroup applied, or a valid key refused (``torsion_lines.find_other_torsion_point``)."""
    bits, m, point, t = find_other_torsion_point(free)
    return _register_with_lookup(free, bits, m, point, t)


def _register_with_lookup(
    free: str, bits: list[int], m: int, lookup: jubjub.Point, t: int
) -> Violation:
    """Account 3 registers ``G + torsion[t]``, decomposed as ``8Q + lookup``."""
    key = jubjub.add(key_of(7).public_key, get_torsion_points()[t])
    rest = jubjub.add(key, jubjub.neg(lookup))
    q = jubjub.scalar_mul(pow(8, -1, jubjub.ORDER), rest)
    hints: dict[str, HintFn] = {DECOMPOSITION: lambda *_: [q.x, q.y, *bits]}
    wires = {f"subgroup/{free}": to(m)} if free in MONOMIALS else {}
    return register(jubjub.compress(key), wires, hints)


DEPOSIT = Deposit(3, owner_of(3), 5)
CREATION = Deposit(6, owner_of(6), 5)
REGISTER = RegisterKey(3, owner_of(3), key_bytes(7))
FORCED = ForcedWithdraw(3, owner_of(3), 5)


def _positions_root_of(positions: dict[int, Position]) -> int:
    tree = SparseMerkleTree(PRESET.market_tree_depth)
    for m, p in positions.items():
        tree.set(m, compute_position_leaf(p))
    return tree.root()


def _no_fill(op: CreateOrder) -> bytes:
    """The record of ``op`` claiming it filled nothing (a crossing order hidden as one that
    rests or is cancelled)."""
    return compute_record(op, ())


def _crossing_hidden(side: str) -> Callable[[], Violation]:
    """A taker crossing a resting order of account 4, its path's liquidity at the one level
    where the two keys diverge overwritten to hide that order: a bid at ``ASK_PRICE + 1`` over
    an ask at ``ASK_PRICE`` (a left sibling: ``asks_left`` set to 0), or an ask at ``MARK - 11``
    under a bid at ``MARK - 10`` (a right sibling: ``bids_left`` set to its lane, so that the
    right siblings' share is 0)."""

    def make() -> Violation:
        nonce_bits = PRESET.order_nonce_bits
        if side == "asks":
            price, maker_key, prepare = ASK_PRICE + 1, ask_key(), resting(account=4)
        else:
            price, prepare = MARK - 11, resting(account=4, is_ask=False, price=MARK - 10)
            maker_key = (MARK - 10) << nonce_bits | (1 << nonce_bits) - 1
        level = (maker_key ^ price << nonce_bits).bit_length() - 1
        op = order(side == "bids", price=price, time_in_force=TimeInForce.IOC)
        v = violation(op, _no_fill(op), prepare=prepare, book=key_book(price))
        book = v.witness.slots[0].book
        assert book is not None
        # the binary level's sibling's bid lane (0 for the asks case)
        lane = get_level_lanes(book.order_siblings)[level][1]
        v.wires = {f"slot0/step/liquidity/level{level}_{side}_left": to(lane)}
        return v

    return make


def _market_limit_moved(name: str, is_ask: bool = False) -> Callable[[], Violation]:
    """A market order's limit one tick past the clamp (the path at that price)."""

    def make() -> Violation:
        worst = 1 if is_ask else 2**16 - 1  # clamped into the band: to its low / high end
        op = order(is_ask, price=worst, kind=OrderKind.MARKET, time_in_force=TimeInForce.IOC)
        clamped = 8_000 if is_ask else 12_000  # the mark -+ the market's 20 % band
        return violation(
            op, book=key_book(clamped + 1), wires={f"slot0/create_order/{name}": add(1)}
        )

    return make


def _order_signed_other(name: str, value: int | bool) -> Violation:
    """``order()`` signed with ``name`` = ``value``, and that payload wire set to it."""
    other = signed(replace(order(), **{name: value, "signature": None}), 3)  # type: ignore[arg-type]
    return violation(
        order(),
        inputs=sign_as(other, 3),
        wires={f"slot0/create_order/signed_{name}": to(int(value))},
    )


def _with_maker(record: bytes) -> bytes:
    """``record`` naming a maker (account 4) with nothing filled."""
    start, length = create_order.RECORD.offset("maker")
    edited = bytearray(record)
    edited[start + length - 1] = 4
    return bytes(edited)


def second_market(state: State) -> None:
    """Market 1 (ETH at 1,000) added to the state."""
    data = MarketData(index_price=1_000, mark_price=1_000)
    state.markets.append(Market(1, MARKET, data, OrderBook(PRESET.order_nonce_bits)))
    state.dirty.markets.add(1)
    state.dirty.books.add(1)


def _market_order() -> CreateOrder:
    return order(kind=OrderKind.MARKET, time_in_force=TimeInForce.IOC)


def _counter_rewound(state: State) -> None:
    """An ask rests at ``ask_key()`` and the side's counter is set back onto it."""
    resting()(state)
    book = state.markets[0].book
    book.ask_nonce = 0
    state.dirty.books.add(0)


NEW_ACCOUNT_FIELDS = {
    "owner": edit(owner=1),
    "pubkey_x": edit(pubkey=(1, 0)),
    "pubkey_y": edit(pubkey=(0, 1)),
    "nonce": edit(nonce=1),
    "collateral": edit(collateral=1),
    "open_orders": edit(open_orders=1),
    "pool_shares": edit(pool_shares=1),
    "cancel_epoch": edit(cancel_epoch=1),
}


CASES: dict[str, Callable[[], Violation | TwoSlots]] = {
    # noop
    "noop/unused_bytes_zero": lambda: violation(
        Noop(), record=with_unused_byte(get_circuit(Noop()), bytes(pubdata.OP_BYTES))
    ),
    # deposit
    "deposit/amount_positive": lambda: violation(Deposit(3, owner_of(3), 0)),
    "deposit/creates_account": lambda: violation(
        CREATION, wires={"slot0/deposit/creates_account": to(0)}
    ),
    "deposit/credit": lambda: violation(DEPOSIT, wires={"slot0/deposit/credit": add(1)}),
    "deposit/new_owner": lambda: violation(
        CREATION, wires={"slot0/deposit/new_owner": to(_owner(9))}
    ),
    **{
        f"deposit/new_account_{name}": partial(violation, CREATION, edit_a=e)
        for name, e in NEW_ACCOUNT_FIELDS.items()
    },
    # a blank leaf whose free positions hold a position (its tree is the positions root)
    "deposit/new_account_positions": lambda: violation(
        CREATION,
        edit_a=edit(positions_root=_positions_root_of({0: Position(0, 0, 0, 5)})),
        inputs={"slot0/a_positions/market0/imf": 5},
    ),
    "deposit/unused_bytes_zero": lambda: violation(
        DEPOSIT, record=with_unused_byte(get_circuit(DEPOSIT), compute_record(DEPOSIT, ()))
    ),
    # register key
    "register_key/status_field": lambda: violation(
        REGISTER, record=register_key_record(REGISTER)(lambda _: 0)
    ),
    "register_key/owned": lambda: violation(
        replace(REGISTER, owner=owner_of(9)),
        wires={"slot0/register_key/owned": to(1)},
        record_from=register_key_record(replace(REGISTER, owner=owner_of(9))),
    ),
    "register_key/status": lambda: violation(
        replace(REGISTER, pubkey=BAD_KEYS["no_point"]),
        wires={"slot0/register_key/status": to(1)},
        record_from=register_key_record(replace(REGISTER, pubkey=BAD_KEYS["no_point"])),
    ),
    "register_key/applied": lambda: violation(
        REGISTER, record=real_record(REGISTER), wires={"slot0/register_key/applied": to(0)}
    ),
    "register_key/key_x": lambda: violation(
        REGISTER, record=real_record(REGISTER), wires={"slot0/register_key/key_x": add(1)}
    ),
    "register_key/key_y": lambda: violation(
        REGISTER, record=real_record(REGISTER), wires={"slot0/register_key/key_y": add(1)}
    ),
    # register key: the decoder
    "register_key/decode_key/yy": lambda: register(BAD_KEYS["y_not_canonical"], {"yy": add(1)}),
    "register_key/decode_key/u_times_denominator": lambda: register(
        key_bytes(7),
        hints=shifted(decoder_wire("u"), next_non_square),  # a valid key refused
    ),
    "register_key/decode_key/xx": lambda: register(
        key_bytes(7),
        {"xx": lambda v: 7 * v},  # x^2 = 7u, as when u has no root
        shifted(decoder_wire("has_root"), lambda v: [0]),
    ),
    "register_key/decode_key/x_squared": lambda: register(
        BAD_KEYS["no_point"], hints=shifted(decoder_wire("x"), lambda v: [v[0] + 2])
    ),
    "register_key/decode_key/root_has_sign_parity": lambda: register(
        key_bytes(7), hints=shifted(decoder_wire("x"), lambda v: [-v[0]])
    ),
    "register_key/decode_key/parity_and_sign": lambda: register(
        BAD_KEYS["no_point"], {"parity_and_sign": add(1)}
    ),
    "register_key/decode_key/zero_root": lambda: register(key_bytes(7), {"zero_root": add(1)}),
    "register_key/decode_key/below_r/equal_then_less": lambda: register(
        BAD_KEYS["y_not_canonical"], {"below_r/equal_then_less": add(1)}
    ),
    **{
        f"register_key/decode_key/{name}": partial(register, key_bytes(7), {name: flip})
        for name in ("canonical_root", "ok", "prime_order", "usable")
    },
    "register_key/decode_key/point_x": lambda: register(key_bytes(7), {"point_x": lambda v: -v}),
    "register_key/decode_key/point_y": lambda: register(
        key_bytes(7),
        {"point_y": lambda v: -v - 2},  # (x, -y): P plus the point of order 2
    ),
    "register_key/decode_key/subgroup/is_8q_plus_t_x": lambda: register(
        key_bytes(7),
        hints=shifted(DECOMPOSITION, _decomposed_as(lambda i: -i)),
    ),
    "register_key/decode_key/subgroup/is_8q_plus_t_y": lambda: register(
        key_bytes(7),
        hints=shifted(DECOMPOSITION, _decomposed_as(lambda i: 4 - i)),
    ),
    **{
        f"register_key/decode_key/subgroup/{free}": partial(_other_torsion_point, free)
        for free in (*MONOMIALS, "torsion_bit0")
    },
    # transfer
    "transfer/amount_positive": lambda: violation(transfer(amount=0)),
    "transfer/moved": lambda: violation(
        transfer(), inputs=sign_as(transfer(amount=6), 3), wires={"slot0/transfer/moved": add(1)}
    ),
    "transfer/receiver_allowed": lambda: violation(transfer(to=2)),  # the funding pool
    "transfer/receiver_exists": lambda: violation(transfer(to=9)),
    "transfer/receiver_is_b": lambda: violation(
        transfer(to=5), inputs=account_inputs("b", capture_account(started(), 4))
    ),
    "transfer/receiver_self_or_pool": lambda: violation(
        transfer(to=2), wires={"slot0/transfer/receiver_self_or_pool": to(1)}
    ),
    "transfer/signed_to": lambda: violation(
        transfer(to=4), inputs=sign_as(transfer(to=5), 3), wires={"slot0/transfer/signed_to": to(5)}
    ),
    "transfer/signer/account_exists": lambda: violation(
        transfer(account=9, signer=9), edit_a=keyed(9)
    ),
    "transfer/signer/not_rule_only": lambda: violation(
        transfer(account=0, signer=0), edit_a=keyed(0)
    ),
    "transfer/unused_bytes_zero": lambda: violation(
        transfer(), record=with_unused_byte(get_circuit(transfer()), real_record(transfer()))
    ),
    # withdraw
    "withdraw/amount_positive": lambda: violation(withdraw(amount=0)),
    "withdraw/moved": lambda: violation(
        withdraw(), inputs=sign_as(withdraw(amount=6), 3), wires={"slot0/withdraw/moved": add(1)}
    ),
    "withdraw/receiver_is_owner": lambda: violation(
        withdraw(), record=compute_record(withdraw(), (Withdrawn(3, owner_of(9), 5),))
    ),
    "withdraw/signer/account_exists": lambda: violation(withdraw(account=9), edit_a=keyed(9)),
    "withdraw/signer/not_rule_only": lambda: violation(withdraw(account=0), edit_a=keyed(0)),
    "withdraw/unused_bytes_zero": lambda: violation(
        withdraw(), record=with_unused_byte(get_circuit(withdraw()), real_record(withdraw()))
    ),
    # forced withdraw
    "forced_withdraw/withdrawn_field": lambda: violation(
        FORCED, record=forced_withdraw_record(FORCED)(lambda _: 6)
    ),
    "forced_withdraw/owned": lambda: violation(
        replace(FORCED, owner=owner_of(9)),
        wires={"slot0/forced_withdraw/owned": to(1)},
        record_from=forced_withdraw_record(replace(FORCED, owner=owner_of(9))),
    ),
    "forced_withdraw/eligible": lambda: violation(
        ForcedWithdraw(0, owner_of(0), 5),
        edit_a=edit(collateral=START),
        wires={"slot0/forced_withdraw/eligible": to(1)},
        record_from=forced_withdraw_record(ForcedWithdraw(0, owner_of(0), 5)),
    ),
    "forced_withdraw/withdrawn": lambda: violation(
        FORCED,
        wires={"slot0/forced_withdraw/withdrawn": add(1)},
        record_from=forced_withdraw_record(FORCED),
    ),
    "forced_withdraw/debit": lambda: violation(
        FORCED,
        wires={"slot0/forced_withdraw/debit": add(1)},
        record_from=forced_withdraw_record(FORCED),
    ),
    "forced_withdraw/withdrawable/max_zero": lambda: violation(
        replace(FORCED, requested=START + 5),
        wires={"slot0/forced_withdraw/withdrawable/max_zero": add(10)},
        record_from=forced_withdraw_record(replace(FORCED, requested=START + 5)),
    ),
    "forced_withdraw/withdrawable/select": lambda: violation(
        FORCED,
        wires={"slot0/forced_withdraw/withdrawable/select": add(1)},
        record_from=forced_withdraw_record(FORCED),
    ),
    "forced_withdraw/unused_bytes_zero": lambda: violation(
        FORCED, record=with_unused_byte(get_circuit(FORCED), real_record(FORCED))
    ),
    # set leverage
    "set_leverage/imf_allowed": lambda: violation(leverage(imf=99_999)),
    "set_leverage/imf/outside": lambda: violation(
        leverage(imf=1_000_001), wires={"slot0/set_leverage/imf/outside": to(0)}
    ),
    "set_leverage/market/in_tree": lambda: violation(leverage(market=7)),
    "set_leverage/market/exists#": lambda: violation(leverage(market=1)),  # absent
    "set_leverage/market/selected#": lambda: violation(
        leverage(), wires={"slot0/set_leverage/market/selected0": to(0)}
    ),
    "set_leverage/market/imf#": lambda: violation(
        leverage(), wires={"slot0/set_leverage/market/imf0": add(1)}
    ),
    "set_leverage/market#/created": lambda: violation(
        leverage(), wires={"slot0/set_leverage/market0/created": add(1)}
    ),
    "set_leverage/market#/snapshot": lambda: violation(
        leverage(), wires={"slot0/set_leverage/market0/snapshot": add(1)}
    ),
    "set_leverage/market#/imf": lambda: violation(
        leverage(), wires={"slot0/set_leverage/market0/imf": add(1)}
    ),
    "set_leverage/signed_market": lambda: violation(
        leverage(market=0),
        inputs=sign_as(leverage(market=1), 3),
        wires={"slot0/set_leverage/signed_market": to(1)},
    ),
    "set_leverage/signed_imf": lambda: violation(
        leverage(imf=200_000),
        inputs=sign_as(leverage(imf=300_000), 3),
        wires={"slot0/set_leverage/signed_imf": to(300_000)},
    ),
    "set_leverage/signer/account_exists": lambda: violation(leverage(account=9), edit_a=keyed(9)),
    "set_leverage/signer/not_rule_only": lambda: violation(leverage(account=0), edit_a=keyed(0)),
    "set_leverage/unused_bytes_zero": lambda: violation(
        leverage(), record=with_unused_byte(get_circuit(leverage()), real_record(leverage()))
    ),
    "valid_risk_change": lambda: violation(leverage(imf=300_000), prepare=short(3, 500)),
    "a_positions/root_matches": lambda: violation(
        leverage(), inputs={"slot0/a_positions/market0/imf": 5}
    ),
    # cancel order (3's ask at ask_key() rests; the book unit opens it)
    "cancel_order/key_is_record": lambda: violation(
        cancel(key=ask_key(1)), prepare=resting(), book=book_at(0, ask_key())
    ),
    "cancel_order/market_is_record": lambda: violation(
        cancel(market=1), prepare=resting(), book=book_at(0, ask_key())
    ),
    "cancel_order/order_exists": lambda: violation(
        cancel(key=ask_key(1)), prepare=resting(), book=book_at(0, ask_key(1), account=3)
    ),
    "cancel_order/order_is_signers": lambda: violation(cancel(), prepare=resting(account=4)),
    "cancel_order/removed": lambda: violation(
        cancel(), prepare=resting(), wires={"slot0/cancel_order/removed": add(1)}
    ),
    "cancel_order/signed_market": lambda: violation(
        cancel(),
        prepare=resting(),
        inputs=sign_as(cancel(market=1), 3),
        wires={"slot0/cancel_order/signed_market": to(1)},
    ),
    "cancel_order/signed_key": lambda: violation(
        cancel(),
        prepare=resting(),
        inputs=sign_as(cancel(key=ask_key(1)), 3),
        wires={"slot0/cancel_order/signed_key": to(ask_key(1))},
    ),
    "cancel_order/unused_bytes_zero": lambda: violation(
        cancel(),
        prepare=resting(),
        record=with_unused_byte(get_circuit(cancel()), compute_record(cancel(), ())),
    ),
    # create order (3 bids 100 lots at the mark, GTC, unless a case says otherwise)
    **{
        f"{unit}/{name}": partial(violation, order(), wires={f"slot0/{unit}/{name}": add(1)})
        for unit, names in (
            (
                "create_order",
                (
                    *("band/low_notional", "band/high_notional"),
                    *("size_in_range/size", "price_in_range/price", "limit_on"),
                    *("size_at_least_min/excess", "price_in_band/above_low"),
                    "price_in_band/below_high",
                ),
            ),
            (
                "step",
                (
                    *("rests_ask", "ask_counter", "bid_counter"),
                    *("order_margin/notional", "order_margin/notional_imf"),
                    "order_margin/imf/select",
                    *("write_account", "write_remaining", "write_is_ask"),
                    *("write_reduce_only", "write_expiry"),
                ),
            ),
        )
        for name in names
    },
    # rests 2 writes the order twice over: the prover scales the bid nonce's inverse hint to it
    "step/rests": lambda: violation(
        order(),
        wires={"slot0/step/rests": add(1)},
        hints={"slot0/step/bid_nonce_not_zero_inverse": scaled_inverse},
    ),
    "create_order/signer/account_exists": lambda: violation(order(account=9), edit_a=keyed(9)),
    "create_order/signer/not_rule_only": lambda: violation(order(account=0), edit_a=keyed(0)),
    "create_order/no_trigger_price": lambda: violation(order(trigger_price=5)),
    "create_order/is_ioc": lambda: violation(order(), wires={"slot0/create_order/is_ioc": to(1)}),
    "create_order/is_gtt": lambda: violation(
        order(order_expiry=FAR), wires={"slot0/create_order/is_gtt": to(1)}
    ),
    "create_order/gtt_on": lambda: violation(
        order(time_in_force=TimeInForce.GTT), wires={"slot0/create_order/gtt_on": to(0)}
    ),
    "create_order/expiry_only_gtt": lambda: violation(order(order_expiry=FAR)),
    "create_order/expiry_in_future/ahead": lambda: violation(
        order(time_in_force=TimeInForce.GTT, order_expiry=1),
        wires={"slot0/create_order/expiry_in_future/ahead": to(0)},
    ),
    "create_order/market_on": lambda: violation(
        order(kind=OrderKind.MARKET),
        book=rest_book(order(kind=OrderKind.MARKET)),
        wires={"slot0/create_order/market_on": to(0)},
    ),
    "create_order/market_is_ioc": lambda: violation(
        order(kind=OrderKind.MARKET), book=rest_book(order(kind=OrderKind.MARKET))
    ),
    "create_order/price_positive": lambda: violation(
        order(price=0, kind=OrderKind.MARKET, time_in_force=TimeInForce.IOC), book=key_book(0)
    ),
    "step/key_at_limit": lambda: violation(
        order(time_in_force=TimeInForce.IOC), book=key_book(MARK + 1)
    ),
    "step/no_crossing": lambda: violation(
        (crossing := order(price=ASK_PRICE, time_in_force=TimeInForce.IOC)),
        _no_fill(crossing),
        prepare=resting(account=4),
        book=key_book(ASK_PRICE),
    ),
    "step/crossing_side": lambda: violation(
        (crossing := order(True, price=MARK - 10, time_in_force=TimeInForce.IOC)),
        _no_fill(crossing),
        prepare=resting(account=4, is_ask=False, price=MARK - 10),
        book=key_book(MARK - 10),
        wires={"slot0/step/crossing_side": to(0)},
    ),
    "step/liquidity/level#_asks_left": _crossing_hidden("asks"),
    "step/liquidity/level#_bids_left": _crossing_hidden("bids"),
    # (bids count down from the top nonce)
    "step/nonce_is_next": lambda: violation(order(), book=rest_book(order(), -1)),
    "step/next_nonce/side": lambda: violation(
        order(), book=rest_book(order(), -1), wires={"slot0/step/next_nonce/side": add(-1)}
    ),
    "step/no_maker_without_fill": lambda: violation(
        order(), record=_with_maker(real_record(order()))
    ),
    "step/book_market_is_takers": lambda: violation(
        signed(replace(order(price=1_000), market=1, signature=None), 3),
        prepare=second_market,
        book=key_book(1_000, (1 << PRESET.order_nonce_bits) - 1),
    ),
    "step/next_nonce/ask": lambda: violation(
        order(True, price=ASK_PRICE),
        prepare=resting(),
        book=rest_book(order(True, price=ASK_PRICE), 1),
        wires={"slot0/step/next_nonce/ask": add(1)},
    ),
    "step/next_nonce/bid": lambda: violation(
        order(), book=rest_book(order(), -1), wires={"slot0/step/next_nonce/bid": add(-1)}
    ),
    "step/key_is_free": lambda: violation(
        order(True, price=ASK_PRICE), prepare=_counter_rewound, book=key_book(ASK_PRICE)
    ),
    "step/open_orders_below_max": lambda: violation(
        order(), edit_a=edit(open_orders=PRESET.max_open_orders_per_account)
    ),
    "step/order_margin_covered": lambda: violation(order(size=10**6)),
    "step/margin_short": lambda: violation(
        order(size=10**6), wires={"slot0/step/margin_short": to(0)}
    ),
    "create_order/reduce_only_has_position": lambda: violation(order(reduce_only=True)),
    "create_order/reduce_on": lambda: violation(
        order(reduce_only=True), wires={"slot0/create_order/reduce_on": to(0)}
    ),
    "create_order/reducible": lambda: violation(
        order(reduce_only=True), wires={"slot0/create_order/reducible": to(1)}
    ),
    "create_order/limit/market_limit": _market_limit_moved("limit/market_limit"),
    "create_order/limit/select": _market_limit_moved("limit/select"),
    "create_order/limit/above_high/select": _market_limit_moved("limit/above_high/select"),
    "create_order/limit/below_low/select": _market_limit_moved("limit/below_low/select", True),
    "create_order/market/selected#": lambda: violation(
        order(kind=OrderKind.MARKET, time_in_force=TimeInForce.IOC),
        book=key_book(0),
        wires={"slot0/create_order/market/selected0": to(0)},
    ),
    **{
        f"create_order/market/{name}#": partial(
            violation, order(), wires={f"slot0/create_order/market/{name}0": add(1)}
        )
        for name in ("band", "index", "min_size", "position_size")
    },
    **{
        f"step/order_margin/imf/{name}#": partial(
            violation, order(), wires={f"slot0/step/order_margin/imf/{name}0": add(1)}
        )
        for name in ("market", "position")
    },
    **{
        f"create_order/signed_{name}": partial(_order_signed_other, name, value)
        for name, value in (
            ("market", 1),
            ("is_ask", True),  # a bool: the compiled engine checks field types
            ("size", 101),
            ("price", MARK + 1),
            ("kind", 1),
            ("time_in_force", 1),
            ("reduce_only", True),
            ("trigger_price", 7),
            ("order_expiry", FAR),
        )
    },
    "create_order/unused_bytes_zero": lambda: violation(
        order(), record=with_unused_byte(get_circuit(order()), real_record(order()))
    ),
    "signature/digest_after_block3": lambda: _digest_tampered(order(), 3),
    # the book unit's ties to the book root
    "book/order_root_matches": lambda: violation(
        cancel(), prepare=resting(), inputs={"slot0/book/level0_partner_hash": 1}
    ),
    "book/book_root_matches": lambda: violation(
        cancel(), prepare=resting(), inputs={"slot0/book/book_sibling0": 1}
    ),
    "book/running_root": lambda: violation(
        cancel(), prepare=resting(), wires={"slot0/book/running_root": add(1)}
    ),
    # the slot's shared checks
    "type/one_type": lambda: violation(
        Deposit(3, owner_of(9), 5), inputs=_selectors(forced_withdraw=1)
    ),
    "type/is_noop_boolean": lambda: violation(
        Noop(), inputs=_selectors(noop=-1, register_key=1, forced_withdraw=1)
    ),
    "type/is_register_key_boolean": lambda: violation(
        Noop(), inputs=_selectors(register_key=-1, noop=1, forced_withdraw=1)
    ),
    "type/is_forced_withdraw_boolean": lambda: violation(
        Noop(), inputs=_selectors(forced_withdraw=-1, noop=1, register_key=1)
    ),
    "type/is_deposit_boolean": lambda: violation(
        Deposit(0, bytes(pubdata.ADDRESS_BYTES), 5),
        inputs=_selectors(deposit=-1, register_key=1, forced_withdraw=1),
        hints={"slot0/deposit/amount_positive_inverse": lambda on, v: [-inv(v)]},
    ),
    "a/exists_boolean": lambda: violation(CREATION, inputs={"slot0/a/exists": 2}),
    "a_checks/rule_only_2": lambda: violation(
        withdraw(account=0), edit_a=keyed(0), wires={"slot0/a_checks/rule_only_2": to(1)}
    ),
    "b_collateral/range/bits_sum": lambda: violation(transfer(), prepare=_rich(4, 2**64 - 3)),
    "expiry/range/bits_sum": lambda: violation(withdraw(expiry=1 << PRESET.timestamp_bits)),
    "expiry/not_expired/range/bits_sum": lambda: violation(
        withdraw(expiry=started().timestamp - 1)
    ),
    "signature/key_x": _signed_by_negated_key,
    "signature/digest_after_block1": lambda: _digest_tampered(transfer(), 1),
    "record/byte#_bit#_boolean": _record_bit_not_boolean,
    "a/old/leaf/exists_times_hash": lambda: _old_leaf_kept("a", 3),
    "b/old/leaf/exists_times_hash": lambda: _old_leaf_kept("b", 4),
    "a/new/leaf/exists_times_hash": lambda: violation(
        transfer(), wires={"slot0/a/new/leaf/exists_times_hash": add(1)}
    ),
    "b/new/leaf/exists_times_hash": lambda: violation(
        transfer(), wires={"slot0/b/new/leaf/exists_times_hash": add(1)}
    ),
    "b/follows_a": _stale_b_path,
}

# Constraints that no known witness breaks alone: the witness tried and the other constraints
# that refuse it too. Each is kept as the direct statement of its rule, not left to the others:
# - the type selectors of the signed operations: a selector -1 moves the key off A's and
#   breaks the collateral range (a_collateral's bits), so only the noop-like types show alone;
# - B's exists: a transfer requires B exists, and any other B is A, pinned by its leaf;
# - the key's y: the only other y with the same x is a point outside the subgroup;
# - A's collateral below 2^64 after a risk-checked operation: it only falls there, and A's
#   collateral before is range-checked by forced_withdraw's comparison in every slot;
# - the decoder's has_root: any other value puts the decoded point off the curve;
# - the decoder's torsion bits 1 and 2: no curve point lies on the line that such a bit, set
#   free with the others boolean, draws through the lookup (bit 0 and the bits' products have
#   one: their cases), so a wrong bit breaks ``8Q + T = P``.
_NEG_INVERSE: HintFn = lambda on, v: [-inv(v)]  # noqa: E731
_EIGHT_Q = {
    "register_key/decode_key/subgroup/is_8q_plus_t_x",
    "register_key/decode_key/subgroup/is_8q_plus_t_y",
}
_FOREIGN_KEY = {
    "signature/eddsa/public_key/in_subgroup/is_8q_x",
    "signature/eddsa/public_key/in_subgroup/is_8q_y",
    "signature/eddsa/s_g_is_r_plus_c_a_x",
    "signature/eddsa/s_g_is_r_plus_c_a_y",
}


def _torsion_bit_two(bit: int) -> Callable[[], Violation]:
    def change(values: list[int]) -> list[int]:
        return [*values[: 2 + bit], 2, *values[3 + bit :]]

    return lambda: register(key_bytes(7), hints=shifted(DECOMPOSITION, change))


def _negated_key_y() -> Violation:
    a_y, dummy_y = key_of(3).public_key.y, get_dummy_signature()[0].y
    return violation(transfer(), wires={"slot0/signature/key_y": to(-a_y - dummy_y)})


GUARDED: dict[str, tuple[Callable[[], Violation | TwoSlots], set[str]]] = {
    "type/is_transfer_boolean": (
        lambda: violation(
            transfer(),
            inputs=_selectors(transfer=-1, register_key=1, forced_withdraw=1),
            hints={
                "slot0/transfer/amount_positive_inverse": _NEG_INVERSE,
                "slot0/transfer/receiver_allowed_inverse": _NEG_INVERSE,
            },
        ),
        _FOREIGN_KEY,
    ),
    "type/is_set_leverage_boolean": (
        lambda: violation(
            leverage(),
            inputs=_selectors(set_leverage=-1, register_key=1, forced_withdraw=1),
        ),
        _FOREIGN_KEY,
    ),
    "type/is_withdraw_boolean": (
        lambda: violation(
            withdraw(),
            inputs=_selectors(withdraw=-1, deposit=1, register_key=1),
            hints={"slot0/withdraw/amount_positive_inverse": _NEG_INVERSE},
        ),
        _FOREIGN_KEY,
    ),
    "b/exists_boolean": (
        lambda: violation(transfer(), inputs={"slot0/b/exists": 2}),
        {"b/follows_a", "transfer/receiver_exists"},
    ),
    "signature/key_y": (_negated_key_y, _FOREIGN_KEY),
    "type/is_create_order_boolean": (
        lambda: violation(
            order(),
            inputs=_selectors(create_order=-1, register_key=1, forced_withdraw=1),
            hints={
                f"slot0/create_order/{n}_inverse": _NEG_INVERSE
                for n in ("price_positive", "not_fee_account")
            },
        ),
        {  # the gated ranges of a negated selector
            *(f"create_order/{r}/range/bits_sum" for r in ("price_in_band", "price_in_range")),
            *(f"create_order/{r}/range/bits_sum" for r in ("size_at_least_min", "size_in_range")),
            "create_order/band/low/quotient/range/bits_sum",
            "step/key_at_limit",  # the negated limit
            *_FOREIGN_KEY,
        },
    ),
    "create_order/market/in_tree": (
        lambda: violation(
            signed(replace(_market_order(), market=2, signature=None), 3), book=key_book(0)
        ),
        {"step/book_market_is_takers"},
    ),
    "create_order/market/exists1": (
        lambda: violation(
            signed(replace(_market_order(), market=1, signature=None), 3), book=key_book(0)
        ),
        {"step/book_market_is_takers"},
    ),
    "cancel_order/account_exists": (
        lambda: violation(cancel(account=9), prepare=resting(), edit_a=keyed(9)),
        {"cancel_order/order_is_signers"},
    ),
    "type/is_cancel_order_boolean": (
        lambda: violation(
            cancel(),
            prepare=resting(),
            inputs=_selectors(cancel_order=-1, register_key=1, forced_withdraw=1),
            hints={"slot0/cancel_order/order_exists_inverse": _NEG_INVERSE},
        ),
        _FOREIGN_KEY,
    ),
    "register_key/decode_key/has_root_boolean": (
        lambda: violation(
            RegisterKey(3, owner_of(3), BAD_KEYS["no_point"]),
            hints=shifted(decoder_wire("has_root"), lambda v: [2]),
        ),
        {
            "register_key/status_field",
            "register_key/decode_key/x_squared",
            "register_key/decode_key/subgroup/on_curve/curve_equation",
            *_EIGHT_Q,
        },
    ),
    **{
        f"register_key/decode_key/subgroup/torsion_bit{bit}": (_torsion_bit_two(bit), _EIGHT_Q)
        for bit in (1, 2)
    },
}

CASES |= FILL_CASES | FILL_AMOUNTS_CASES | RESERVED_CASES | CLAIM_CASES
CASES |= TWO_SLOT_CASES | CANCEL_CASES | END_CASES | MODIFY_CASES | CANCEL_ALL_CASES
CASES |= FORCED_ORDER_CASES | POOL_CASES | TRIGGER_CASES | TAKEOVER_CASES | LIQUIDATE_CASES
CASES |= DELEVERAGE_CASES
GUARDED |= FILL_GUARDED | FILL_AMOUNTS_GUARDED | RESERVED_GUARDED | CLAIM_GUARDED | CANCEL_GUARDED
GUARDED |= END_GUARDED | MODIFY_GUARDED | CANCEL_ALL_GUARDED | FORCED_ORDER_GUARDED | POOL_GUARDED
GUARDED |= TRIGGER_GUARDED | TAKEOVER_GUARDED | LIQUIDATE_GUARDED | DELEVERAGE_GUARDED
CASES |= TRIGGER_PLACE_CASES
GUARDED |= TRIGGER_PLACE_GUARDED
CASES |= FREEZE_CASES | START_CASES
GUARDED |= FREEZE_GUARDED | START_GUARDED

# More witnesses for a constraint that several operations share: (constraint, witness).
MORE_CASES = {
    "transfer overdraws": ("valid_risk_change", lambda: violation(transfer(amount=START + 1))),
    "withdraw overdraws": ("valid_risk_change", lambda: violation(withdraw(amount=START + 1))),
    **FORCED_ORDER_MORE,
}

FAMILIES = {
    "record/byte#_bit#_boolean",
    "step/liquidity/level#_asks_left",
    "step/liquidity/level#_bids_left",
    "create_order/market/selected#",
    *(f"create_order/market/{n}#" for n in ("band", "index", "min_size", "position_size")),
    *("step/order_margin/imf/market#", "step/order_margin/imf/position#"),
    *("set_leverage/market/exists#", "set_leverage/market/selected#", "set_leverage/market/imf#"),
    *("set_leverage/market#/created", "set_leverage/market#/snapshot", "set_leverage/market#/imf"),
    *FILL_FAMILIES,
    *FILL_AMOUNTS_FAMILIES,
    *RESERVED_FAMILIES,
    *CLAIM_FAMILIES,
    *CANCEL_FAMILIES,
    *END_FAMILIES,
    *MODIFY_FAMILIES,
    *POOL_FAMILIES,
    *FORCED_ORDER_FAMILIES,
    *TRIGGER_FAMILIES,
    *TRIGGER_PLACE_FAMILIES,
    *TAKEOVER_FAMILIES,
    *FREEZE_FAMILIES,
    *START_FAMILIES,
    *LIQUIDATE_FAMILIES,
    *DELEVERAGE_FAMILIES,
}  # one case stands for constraints alike but for digits

# The gadgets' own constraints: each gadget's test file has a tampered-witness test.
EXEMPT = {
    r"/poseidon/": "Poseidon rounds: tests/circuits/test_poseidon.py",
    r"/eddsa/": "EdDSA verification: tests/circuits/test_eddsa.py",
    r"/merkle_update/": "Merkle path update: tests/circuits/test_smt.py",
    r"/(to_bits|to_bits_canonical|range)/bit\d+_boolean$": "bit decomposition: test_bits.py",
    r"/(to_bits|to_bits_canonical|range)/bits_sum$": "bit decomposition: test_bits.py",
    r"/canonical/": "canonical bits (below r): tests/circuits/test_bits.py",
    r"/is_zero/": "is_zero / is_equal: tests/circuits/test_equality.py",
    r"/less_than/": "comparison: tests/circuits/test_compare.py",
    r"/subgroup/(on_curve|double\d|add)/": "Jubjub arithmetic: tests/circuits/test_jubjub.py",
    r"/[ab]_risk(_after)?/risk/": "the risk unit: tests/circuits/test_risk.py",
    r"/[ab]_risk_after/risk_change/": "the valid-risk-change rule: tests/circuits/test_risk.py",
    r"/fill_step/(taker|maker)/apply_fill/": "a side of a fill: tests/circuits/test_positions.py",
    r"/fill_step/(taker|maker)/reducible/": "reducible lots: tests/circuits/test_matching.py",
    r"/fill_step/fill/": "a fill's amounts: tests/circuits/test_matching.py",
    r"/position_leaf/": "position leaves: tests/circuits/test_commitment.py",
    r"/order_leaf/": "order leaves: tests/circuits/test_book_tree.py",
    r"/signed_range/(bit\d+_boolean|bits_sum)$": "bit decomposition: tests/circuits/test_bits.py",
    r"[/_]position_sign/": "signs: tests/circuits/test_positions.py, test_risk.py",
    r"/growth_sign/": "signs: tests/circuits/test_positions.py, test_risk.py",
    r"/book_path/level\d+/select$": "book paths: tests/circuits/test_book_tree.py",
    r"/div_rem/(quotient|remainder)": "division: tests/circuits/test_division.py",
    r"/value/magnitude/": "the pool value's sign: tests/circuits/test_pool.py",
    **TAKEOVER_EXEMPT,
    r"/round_move/[ab]_move/fill/": "a side of the round's move, a fill's: test_positions.py",
    r"/round/size_sign/|/deleverage_step/keep/after/": "signs: test_positions.py, test_risk.py",
}

# A constraint that can never fail: register_key's fields cover every body byte, so the sum of
# the bytes it leaves unused is the constant 0.
VACUOUS = {"register_key/unused_bytes_zero"}


def _family(name: str) -> str:
    return re.sub(r"\d+", "#", name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_constraint_alone_refuses_its_witness(name: str) -> None:
    """The witness breaks ``name`` and nothing else: without it, the circuit accepts."""
    v = CASES[name]()
    if isinstance(v, TwoSlots):  # a claim after a pending taker: ``violations.two_slots``
        broken, slot = unsatisfied(get_two_slot_trace().system, replay_two(v)), f"slot{v.slot}/"
    else:
        broken, slot = unsatisfied(get_trace().system, replay(v)), "slot0/"
    expected = f"{slot}{name}"
    if name in FAMILIES:
        assert {f"{slot}{_family(n.removeprefix(slot))}" for n in broken} == {expected}
        assert len(broken) == 1
    else:
        assert broken == {expected}


@pytest.mark.parametrize("label", sorted(MORE_CASES))
def test_a_shared_constraint_alone_refuses_each_operation(label: str) -> None:
    name, make = MORE_CASES[label]
    assert unsatisfied(get_trace().system, replay(make())) == {f"slot0/{name}"}


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_a_guarded_constraint_is_refused_with_others(name: str) -> None:
    make, others = GUARDED[name]
    v = make()
    if isinstance(v, TwoSlots):  # others may name slot 1's and the block's own in full
        broken, slot = unsatisfied(get_two_slot_trace().system, replay_two(v)), f"slot{v.slot}/"
    else:
        broken, slot = unsatisfied(get_trace().system, replay(v)), "slot0/"
    full = ("slot1/", "heavy_end/", "block_end/", "markets/")
    assert broken == {n if n.startswith(full) else f"{slot}{n}" for n in {name, *others}}


def test_every_constraint_has_a_case() -> None:
    """Each named constraint of a slot has a case, or is a gadget's (tested beside it)."""
    names = {con.name for con in get_trace().system.constraints}
    missing = set()
    for full in sorted(n for n in names if n.startswith("slot0/")):
        name = full.removeprefix("slot0/")
        guarded = name in GUARDED or _family(name) in {_family(g) for g in GUARDED}
        covered = name in CASES or guarded or name in VACUOUS or _family(name) in FAMILIES
        if not covered and not any(re.search(p, full) for p in EXEMPT):
            missing.add(name)
    assert not missing, sorted(missing)
    stale = {n for n in [*CASES, *GUARDED, *VACUOUS] if f"slot0/{n}" not in names}
    assert not stale - FAMILIES, stale


def test_a_vacuous_constraint_is_vacuous() -> None:
    for con in get_trace().system.constraints:
        if con.name.removeprefix("slot0/") in VACUOUS:
            assert not con.b, con.name  # ``on * 0 == 0``


def test_a_forced_fill_is_the_witness_builders() -> None:
    """The fill every fill case starts from: its forced witness satisfies the circuit and is
    the one the witness builder makes for the real block."""
    op, prepare = fill()
    v = violation(op, prepare=prepare)
    assert unsatisfied(get_trace().system, replay(v)) == set()
    state = copy.deepcopy(get_state())
    prepare(state)
    real = build_block_witness(state, next_block(state, [op]))
    assert block_inputs(real) | {"data/data_hash": 5} == block_inputs(v.witness) | {
        "header/old_timestamp": real.old_timestamp
    }


@pytest.mark.parametrize("prepare", [two_asks, resting(account=4)], ids=["fills", "rests"])
def test_the_two_slot_block_is_the_witness_builders(prepare: Callable[[State], None]) -> None:
    """The blocks every two-slot case starts from (the claim fills the second ask, or rests the
    remainder): their replayed inputs satisfy the circuit, and are its every input."""
    trace = get_two_slot_trace()
    v = two_slots(two_slot_order(), prepare, 1)
    assert set(two_slot_inputs(v.witness)) == trace.input_names()
    assert v.after.pending is not None  # slot 0 leaves its taker pending
    assert unsatisfied(trace.system, replay_two(v)) == set()


@pytest.mark.parametrize("name", sorted(CANCEL_BLOCKS))
def test_the_cancel_blocks_are_the_witness_builders(name: str) -> None:
    """The blocks every cancel case starts from: slot 0 cancels the maker it meets (for the
    maker's risk where it says so), the claim fills the taker, and the circuit accepts them."""
    prepare, fails_risk = CANCEL_BLOCKS[name]
    v = cancel_block(prepare)
    first = v.witness.slots[0]
    assert (first.cancels_maker, first.maker_fails_risk) == (True, fails_risk)
    assert v.after.pending is not None  # the taker kept its size
    assert unsatisfied(get_two_slot_trace().system, replay_two(v)) == set()


@pytest.mark.parametrize("name", sorted(END_BLOCKS))
def test_the_end_blocks_are_the_witness_builders(name: str) -> None:
    """The blocks the guarded end witnesses start from: slot 1's claim ends its taker (where
    its remainder would rest where it says so), and the circuit accepts them."""
    op, prepare, choice = END_BLOCKS[name]
    v = two_slots(op, prepare, 1)
    second = v.witness.slots[1]
    assert (second.ends_taker, second.rest_fails) == choice
    assert unsatisfied(get_two_slot_trace().system, replay_two(v)) == set()


def test_the_modify_blocks_are_the_witness_builders() -> None:
    """The blocks the modify cases start from: 3's ask cut in place (one slot, nothing left
    pending: its forced witness is the witness builder's), and moved (the modify hands a
    post-only taker to its claim, which rests it at the ask side's next nonce); the circuit
    accepts both."""
    cut = in_place()
    assert unsatisfied(get_trace().system, replay(cut)) == set()
    state = copy.deepcopy(get_state())
    RESTING(state)
    real = build_block_witness(state, next_block(state, [IN_PLACE]))
    assert block_inputs(real) | {"data/data_hash": 5} == block_inputs(cut.witness) | {
        "header/old_timestamp": real.old_timestamp
    }
    v = moved()
    assert v.after.pending is not None and v.after.pending.post_only
    book = v.witness.slots[1].book
    assert book is not None and book.key == MOVED_KEY
    assert unsatisfied(get_two_slot_trace().system, replay_two(v)) == set()


def test_a_pending_taker_dropped_is_refused_alone() -> None:
    """A slot after a step that left its taker pending is that taker's claim: a noop there,
    the remainder silently dropped, breaks ``only_claims_while_pending`` and nothing else."""
    broken = unsatisfied(get_two_slot_trace().system, replay_two(pending_taker_dropped()))
    assert broken == {"slot1/only_claims_while_pending"}


def test_the_inputs_are_the_witness_builders() -> None:
    """``block_inputs`` names every input, and replaying them gives the builder's witness."""
    trace = get_trace()
    state = copy.deepcopy(get_state())
    witness = build_block_witness(state, next_block(state, [CREATION]))
    assert set(block_inputs(witness)) == trace.input_names()
    _, values = build_block_circuit(PRESET, CHAIN_ID, witness)
    assert trace.replay(block_inputs(witness)) == values
