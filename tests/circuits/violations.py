"""Witnesses a cheating prover would make for the one-slot block circuit (``test_necessity``).

A :class:`Violation` is a forced slot (``tests/circuits/forced.py``: an operation filled in as
the circuit applies it) and what the prover replaces: inputs by name (an account's fields, the
record, the signature), hints, or the wire a dropped constraint would have defined. ``replay``
runs the traced circuit (``tests/circuits/tracing.py``) with them, and lets the record and B
follow as in a real slot: a record field the circuit computes, B's fields when B is A, else
B's Merkle path after A's new leaf.

A claim needs a taker an earlier slot left pending: ``two_slots`` makes a two-slot block (the
rules' witness of an order and its claim, slot 1's inputs replaced), ``replay_two`` replays it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache, partial
from itertools import count
from typing import Any

from circuits.block import MARKET_DATA, MARKET_PARAMS, BlockWitness, define_block
from circuits.gadgets.book_tree import SIBLING_ROLES
from circuits.gadgets.positions import POSITION_FIELDS
from circuits.ops.book_unit import BOOK_FIELDS, BOOK_ORDER_FIELDS, TRIGGER_FIELDS, BookWitness
from circuits.ops.common import OpCircuit
from circuits.ops.slot import ACCOUNT_FIELDS, BODY_BYTES, OP_CIRCUITS, AccountWitness
from circuits.ops.step_unit import STEP_CHOICES
from circuits.r1cs import HintFn
from protocol import eddsa
from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL
from protocol.block import Operation
from protocol.commitment import update_state_root
from protocol.field import R, is_square
from protocol.markets import ADL_FIELDS
from protocol.ops import forced_withdraw, register_key
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder
from protocol.ops.forced_withdraw import ForcedWithdraw
from protocol.ops.register_key import RegisterKey
from protocol.ops.set_leverage import SetLeverage
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.orders import rest_order
from protocol.params import MINIMAL, OPEN_ORDERS_BITS
from protocol.poseidon import get_params, sponge
from protocol.signing import DOMAIN_L2_TX, to_field
from protocol.state import ACCRUING_ACCOUNTS, State
from sequencer.witness import (
    build_block_witness,
    build_slot_witness,
    capture_account,
    capture_book,
)
from tests.circuits.forced import forced_witness, get_circuit
from tests.circuits.test_block import (
    START,
    new_state,
    next_block,
    signed,
    started_block,
)
from tests.circuits.tracing import Trace, TracingBuilder, WireFn
from tests.protocol.helpers import CHAIN_ID, FAR, key_of, owner_of

PRESET = MINIMAL.with_overrides(ops_per_block=1, market_slots=0)
SIGNATURE_INPUTS = ("r_x", "r_y", "s")
ROUND0 = get_params(5).round_constants[0]  # hash4's first round constants, per lane


@cache
def get_state() -> State:
    return new_state(PRESET)


def started() -> State:
    """Users 3, 4, 5 funded and keyed; the next block's clock set."""
    return started_block(get_state())


@cache
def get_trace() -> Trace:
    """The one-slot block circuit, traced once (a transfer); every case replays it."""
    state = copy.deepcopy(get_state())
    witness = build_block_witness(state, next_block(state, [signed(Transfer(3, 0, FAR, 4, 5), 3)]))
    cs = TracingBuilder()
    define_block(cs, PRESET, CHAIN_ID, witness)
    return cs.trace()


# -- a block witness as the circuit's inputs, by name ------------------------------------------


def account_inputs(side: str, w: AccountWitness) -> dict[str, int]:
    return _account_fields(f"slot0/{side}", w)


def _account_fields(prefix: str, w: AccountWitness) -> dict[str, int]:
    fields = dict(zip(ACCOUNT_FIELDS, w.values(), strict=True))
    siblings = {f"sibling{i}": s for i, s in enumerate(w.siblings)}
    return {f"{prefix}/{name}": v for name, v in (fields | siblings).items()}


def record_inputs(record: bytes) -> dict[str, int]:
    return {
        f"slot0/record/byte{k}_bit{j}": record[k] >> j & 1 for k in BODY_BYTES for j in range(8)
    }


def signature_inputs(sig: eddsa.Signature) -> dict[str, int]:
    values = (sig.R.x, sig.R.y, sig.s)
    return {f"slot0/signature/{n}": v for n, v in zip(SIGNATURE_INPUTS, values, strict=True)}


def block_inputs(w: BlockWitness) -> dict[str, int]:
    """Every input wire of the one-slot block circuit for ``w``."""
    (slot,) = w.slots
    header = ("old_timestamp", "timestamp", "book_root")
    values = (w.old_timestamp, w.timestamp, w.book_root)
    inputs = {f"header/{n}": v for n, v in zip(header, values, strict=True)}
    names = ("exists", *MARKET_PARAMS, *MARKET_DATA)
    for i, market in enumerate(w.markets):
        fields = zip(names, market.values(), strict=True)
        inputs |= {f"markets/market{i}/{n}": v for n, v in fields}
        rounds = zip(ADL_FIELDS, market.round, strict=True)
        inputs |= {f"markets/market{i}/round_{n}": v % R for n, v in rounds}
    inputs |= {f"slot0/type/is_{c.name}": int(slot.record[0] == c.op_type) for c in OP_CIRCUITS}
    inputs |= account_inputs("a", slot.a) | account_inputs("b", slot.b)
    inputs |= record_inputs(slot.record) | signature_inputs(slot.signature)
    position_names = POSITION_FIELDS
    for side, positions in (("a", slot.a_positions), ("b", slot.b_positions)):
        for m in range(len(w.markets)):
            position = positions[m] if positions else (0, 0, 0, 0)
            held = zip(position_names, position, strict=True)
            inputs |= {f"slot0/{side}_positions/market{m}/{n}": v % R for n, v in held}
    inputs |= book_inputs(slot.book or BookWitness.unused(PRESET))
    inputs |= {f"slot0/step/{n}": int(getattr(slot, n)) for n in STEP_CHOICES}  # private bits
    round_fields = zip(ADL_FIELDS, slot.round or (0,) * len(ADL_FIELDS), strict=True)
    inputs |= {f"slot0/round/{n}": v % R for n, v in round_fields}
    inputs |= reserved_inputs(w)
    return inputs | {"slot0/expiry/expiry": slot.expiry, "data/data_hash": w.data_hash}


RESERVED = ("fee_account", "funding_pool", "insurance_fund")  # ``ACCRUING_ACCOUNTS``


def reserved_inputs(w: BlockWitness) -> dict[str, int]:
    """The collateral of the fee account, the funding pool and the insurance fund before the
    block, and their leaves as the block's end opens them."""
    inputs = {f"reserved/{n}": c % R for n, c in zip(RESERVED, w.reserved_collateral, strict=True)}
    for name, account in zip(RESERVED, w.reserved, strict=True):
        inputs |= _account_fields(f"block_end/{name}", account)
    return inputs


def book_inputs(w: BookWitness) -> dict[str, int]:
    """The book unit's inputs (``circuits.ops.book_unit``)."""
    inputs = {"market": w.market, "key": w.key}
    inputs |= {f"order_{n}": v for n, v in zip(BOOK_ORDER_FIELDS, w.order, strict=True)}
    for i, node in enumerate(w.order_siblings):  # 3 a level (``gadgets.book_tree``)
        level, role = divmod(i, len(SIBLING_ROLES))
        lanes = zip(("hash", "ask", "bid"), node, strict=True)
        inputs |= {f"level{level}_{SIBLING_ROLES[role]}_{n}": v for n, v in lanes}
    inputs |= dict(zip(BOOK_FIELDS, w.book_leaf, strict=True))
    inputs |= {f"book_sibling{i}": v for i, v in enumerate(w.book_siblings)}
    trigger = w.trigger or (0,) * len(TRIGGER_FIELDS)
    inputs |= {f"trigger_{n}": v for n, v in zip(TRIGGER_FIELDS, trigger, strict=True)}
    siblings = w.trigger_siblings or (0,) * PRESET.order_nonce_bits
    inputs |= {f"trigger_sibling{i}": v for i, v in enumerate(siblings)}
    return {f"slot0/book/{n}": v for n, v in inputs.items()}


# -- a violation: a forced slot and what the prover replaces -------------------------------------

Read = Callable[[str], int]  # a wire's value in the replayed witness


@dataclass
class Violation:
    scratch: State  # the state before the slot: its account tree gives B's path
    witness: BlockWitness
    inputs: dict[str, int] = field(default_factory=dict)
    hints: dict[str, HintFn] = field(default_factory=dict)
    wires: dict[str, WireFn] = field(default_factory=dict)
    record_from: Callable[[Read], bytes] | None = None  # a record that follows the wires
    settle: bool = True  # B's fields or path follow A's new leaf


def violation(
    op: Operation,
    record: bytes | None = None,
    edit_a: Callable[[AccountWitness], AccountWitness] | None = None,
    prepare: Callable[[State], None] | None = None,
    book: Callable[[State], BookWitness] | None = None,
    counterparty: int | None = None,
    **kwargs: object,
) -> Violation:
    """``op``'s forced slot (A's fields edited by ``edit_a``, the state by ``prepare``, the
    book unit's inputs those ``book`` captures, B ``counterparty`` where given)."""
    scratch = started()
    if prepare is not None:
        prepare(scratch)
    a = None
    if edit_a is not None:
        a = edit_a(capture_account(scratch, get_circuit(op).get_accounts(op)[0]))
    unit = None if book is None else book(scratch)
    witness = forced_witness(scratch, op, record, a, unit, counterparty)
    return Violation(scratch, witness, **kwargs)  # type: ignore[arg-type]


def _new_fields(
    trace: Trace, values: list[int], side: str, slot: int = 0, epoch: int = 0
) -> dict[str, int]:
    """A's (``side`` "a") or B's fields after the slot, read where the circuit hashes them
    (B's identity is its old one: the slot does not change it). ``epoch``: the account's
    cancel epoch before the slot, which tells how the packed count and epoch split."""
    fields = {"exists": trace.evaluate(values, f"slot{slot}/{side}/new/leaf/exists_times_hash")}
    halves = [("balance", ("collateral", "positions_root", "open_orders", "pool_shares"))]
    if side == "a":
        halves.append(("identity", ("owner", "pubkey_x", "pubkey_y", "nonce")))
    for half, names in halves:
        for lane, name in enumerate(names, start=1):
            step = f"slot{slot}/{side}/new/{half}/poseidon/round0/lane{lane}_x2"
            fields[name] = (trace.evaluate(values, step) - ROUND0[lane]) % R
    return fields | split_orders_field(fields["open_orders"], epoch)


def split_orders_field(packed: int, epoch: int) -> dict[str, int]:
    """The count and the epoch of a packed leaf input (PROTOCOL 6.2), the epoch the one before
    the slot or one more (a cancel-all's); a count a cheat took below 0 keeps the old epoch."""
    for e in (epoch + 1, epoch):
        count = (packed - (e << OPEN_ORDERS_BITS)) % R
        if count < 1 << OPEN_ORDERS_BITS:
            return {"open_orders": count, "cancel_epoch": e}
    return {"open_orders": (packed - (epoch << OPEN_ORDERS_BITS)) % R, "cancel_epoch": epoch}


def _settle_b(
    v: Violation, trace: Trace, values: list[int], inputs: dict[str, int]
) -> dict[str, int]:
    """B as a real slot has it: A's new fields when B is A, else B's path after A's update."""
    a, b = inputs["slot0/a/index"], inputs["slot0/b/index"]
    if a == b:
        epoch = inputs["slot0/a/cancel_epoch"]
        new = _new_fields(trace, values, "a", 0, epoch)
        fields = {f"slot0/b/{n}": x for n, x in new.items()}
        return fields | _new_positions(trace, values, inputs)
    update_state_root(v.scratch)
    assert v.scratch.trees is not None
    tree = copy.deepcopy(v.scratch.trees.accounts)
    tree.set(a, trace.value(values, "slot0/a/new/leaf/exists_times_hash"))
    return {f"slot0/b/sibling{i}": s for i, s in enumerate(tree.proof(b).siblings)}


def _new_positions(trace: Trace, values: list[int], inputs: dict[str, int]) -> dict[str, int]:
    """A's positions after the slot as B's inputs (B is A): read where the circuit hashes
    them, or A's own where the slot changes none."""
    follow = {}
    for m in range(PRESET.max_markets):
        for lane, name in enumerate(POSITION_FIELDS, start=1):
            step = f"slot0/a_new_positions/market{m}/position_leaf/poseidon/round0/lane{lane}_x2"
            try:
                value = (trace.evaluate(values, step) - ROUND0[lane]) % R
            except StopIteration:  # the slot changes no position
                value = inputs[f"slot0/a_positions/market{m}/{name}"]
            follow[f"slot0/b_positions/market{m}/{name}"] = value
    return follow


def _settle_reserved(
    v: Violation, trace: Trace, values: list[int], inputs: dict[str, int]
) -> dict[str, int]:
    """The fee account, the funding pool and the insurance fund as the block's end opens them:
    their fields after the slot (where A or B is one), their paths in the tree the slot's roots
    describe (A's update lost where B's path is stale), each after the credits before it."""
    a, b = inputs["slot0/a/index"], inputs["slot0/b/index"]
    update_state_root(v.scratch)
    assert v.scratch.trees is not None
    tree = copy.deepcopy(v.scratch.trees.accounts)
    if v.settle or a == b:
        tree.set(a, trace.value(values, "slot0/a/new/leaf/exists_times_hash"))
    tree.set(b, trace.value(values, "slot0/b/new/leaf/exists_times_hash"))  # B's is the last
    follow: dict[str, int] = {}
    for name, index in zip(RESERVED, ACCRUING_ACCOUNTS, strict=True):
        prefix = f"block_end/{name}"
        touched = False
        for side, at in (("a", a), ("b", b)):
            if at == index and (side == "a" or a != b):
                new = _new_fields(trace, values, side, 0, inputs[f"slot0/{side}/cancel_epoch"])
                follow |= {f"{prefix}/{n}": x for n, x in new.items() if n != "exists"}
                touched = True
        if not touched:  # as before the slot (where the honest slot wrote it, B moved away)
            before = _account_fields(prefix, capture_account(v.scratch, index))
            follow |= {k: x for k, x in before.items() if "/sibling" not in k}
        follow |= {f"{prefix}/sibling{i}": s for i, s in enumerate(tree.proof(index).siblings)}
        tree.set(index, trace.value(values, f"{prefix}/new/leaf/exists_times_hash"))
    return follow


def replay(v: Violation) -> list[int]:
    """The violating witness: the forced slot's inputs with the prover's changes, replayed until
    the record and B follow the wires they depend on."""
    trace = get_trace()
    inputs = block_inputs(v.witness) | v.inputs
    for _ in range(4):
        values = trace.replay(inputs, v.hints, v.wires)
        follow: dict[str, int] = {}
        if v.record_from is not None:
            follow |= record_inputs(v.record_from(partial(trace.value, values)))
        if v.settle:
            follow |= _settle_b(v, trace, values, inputs)
        follow |= _settle_reserved(v, trace, values, inputs)
        changed = {k: x for k, x in follow.items() if inputs[k] != x}
        if not changed:
            return values
        inputs |= changed
    raise AssertionError("the record and B do not settle")


# -- operations and records ---------------------------------------------------------------------


def transfer(to: int = 4, amount: int = 5, signer: int = 3, account: int = 3) -> Transfer:
    op: Transfer = signed(Transfer(account, 0, FAR, to, amount), signer)
    return op


def withdraw(amount: int = 5, account: int = 3, expiry: int = FAR) -> Withdraw:
    op: Withdraw = signed(Withdraw(account, 0, expiry, amount), account)
    return op


def leverage(
    market: int = 0, imf: int = 200_000, account: int = 3, signer: int | None = None
) -> SetLeverage:
    op: SetLeverage = signed(
        SetLeverage(account, 0, FAR, market, imf), account if signer is None else signer
    )
    return op


ASK_PRICE = 10_010  # above the minimal genesis' BTC mark


def ask_key(nonce: int = 0) -> int:
    """The key of the ``nonce``-th ask resting at ``ASK_PRICE``."""
    return ASK_PRICE << PRESET.order_nonce_bits | nonce


def resting(
    account: int = 3, lots: int = 100, is_ask: bool = True, price: int = ASK_PRICE
) -> Callable[[State], None]:
    """``account`` rests an order of ``lots`` in market 0 (by default an ask at ``ASK_PRICE``:
    key ``ask_key()``), written into the state directly."""

    def prepare(state: State) -> None:
        market = state.markets[0]
        holder = state.get_account(account)
        rest_order(state, market, holder, is_ask, price, lots, False, 0, [])

    return prepare


def cancel(
    key: int | None = None,
    market: int = 0,
    account: int = 3,
    signer: int | None = None,
    is_trigger: bool = False,
) -> CancelOrder:
    key = ask_key() if key is None else key
    op = CancelOrder(account, 0, FAR, market, key, is_trigger)
    signed_op: CancelOrder = signed(op, account if signer is None else signer)
    return signed_op


def prepare_all(*parts: Callable[[State], object]) -> Callable[[State], None]:
    """One ``prepare`` that runs ``parts`` in turn."""

    def prepare(state: State) -> None:
        for part in parts:
            part(state)

    return prepare


def short(account: int, lots: int) -> Callable[[State], None]:
    """``account`` short ``lots`` of market 0 at its mark (written into the state directly)."""

    def prepare(state: State) -> None:
        holder = state.get_account(account)
        mark = state.markets[0].data.mark_price
        state.set_position_field(holder, 0, "size", -lots)
        state.set_position_field(holder, 0, "entry_quote", -lots * mark)
        state.set_collateral(holder, holder.collateral + lots * mark)  # the short's proceeds

    return prepare


def book_at(market: int, key: int, **order: int) -> Callable[[State], BookWitness]:
    """The book unit as it reads ``key`` in ``market`` (its order's fields edited)."""

    def capture(state: State) -> BookWitness:
        w = capture_book(state, market, key)
        fields = dict(zip(BOOK_ORDER_FIELDS, w.order, strict=True)) | order
        return replace(w, order=tuple(fields[n] for n in BOOK_ORDER_FIELDS))

    return capture


MARK = 10_000  # the minimal genesis' BTC index and mark


def order(
    is_ask: bool = False, price: int = MARK, size: int = 100, account: int = 3, **kw: Any
) -> CreateOrder:
    """A GTC limit order of 100 lots in market 0 (``kw``: CreateOrder's other fields)."""
    op = CreateOrder(account, 0, FAR, 0, is_ask, size, price, **kw)
    signed_op: CreateOrder = signed(op, account)
    return signed_op


FILL_LOTS = 40  # a fill's size: part of the maker's 100 lots


def fill(
    size: int = FILL_LOTS, price: int = ASK_PRICE, account: int = 3, **kw: Any
) -> tuple[CreateOrder, Callable[[State], None]]:
    """A bid of ``account`` that takes ``size`` lots of account 4's ask of 100 at ``price``
    (the best ask) in one step, and the ``prepare`` that rests that ask: for
    ``violation(op, prepare=...)``."""
    return order(price=price, size=size, account=account, **kw), resting(account=4, price=price)


def rest_book(
    op: CreateOrder, nonce_shift: int = 0, price: int | None = None
) -> Callable[[State], BookWitness]:
    """For ``violation(book=...)``: the book unit at the key ``op`` rests at (at ``price``
    instead of its own, the side's next nonce moved by ``nonce_shift``)."""

    def capture(state: State) -> BookWitness:
        book = state.markets[0].book
        nonce = book.get_next_nonce(op.is_ask) + nonce_shift
        return capture_book(state, 0, book.compute_key(price or op.price, nonce))

    return capture


def key_book(price: int, nonce: int = 0) -> Callable[[State], BookWitness]:
    """The book unit at ``price ‖ nonce`` in market 0."""
    return lambda state: capture_book(state, 0, price << PRESET.order_nonce_bits | nonce)


def sign_as(op: Operation, signer: int) -> dict[str, int]:
    """The signature inputs of ``op`` signed by ``signer``'s key."""
    return signature_inputs(signed(op, signer).signature)


def sign_payload_as(op: Any, payload: tuple[int, ...], signer: int) -> dict[str, int]:
    """The signature inputs of ``op``'s head (type, account, nonce, expiry) with ``payload`` in
    place of its own, signed by ``signer``'s key: a payload no operation object can hold (a
    flag of 2, say)."""
    head = (CHAIN_ID, op.op_type(), op.account, op.nonce, op.expiry)
    message = sponge([to_field(v) for v in (*head, *payload)], DOMAIN_L2_TX)
    return signature_inputs(eddsa.sign(key_of(signer), message))


def real_record(op: Operation) -> bytes:
    return build_slot_witness(started(), op).record


def with_unused_byte(circuit: OpCircuit, record: bytes) -> bytes:
    """``record`` with 1 in the first body byte that ``circuit`` does not use."""
    used = {k for start, length in circuit.fields for k in range(start, start + length)}
    edited = bytearray(record)
    edited[next(k for k in BODY_BYTES if k not in used)] = 1
    return bytes(edited)


def forced_withdraw_record(op: ForcedWithdraw) -> Callable[[Read], bytes]:
    """The record whose ``withdrawn`` is the slot's (as the rules would write it)."""
    wire = "slot0/forced_withdraw/withdrawn"
    return lambda read: forced_withdraw.RECORD.encode(
        (op.account, op.owner, op.requested, read(wire))
    )


def register_key_record(op: RegisterKey) -> Callable[[Read], bytes]:
    """The record whose status is the slot's."""
    wire = "slot0/register_key/status"
    return lambda read: register_key.RECORD.encode((op.account, op.owner, op.pubkey, read(wire)))


def add(n: int) -> WireFn:
    return lambda v: v + n


def flip(v: int) -> int:
    return 1 - v


def to(n: int) -> WireFn:
    return lambda v: n


def edit(**fields: object) -> Callable[[AccountWitness], AccountWitness]:
    return lambda w: replace(w, **fields)  # type: ignore[arg-type]


def keyed(index: int) -> Callable[[AccountWitness], AccountWitness]:
    """An account with ``index``'s key and START collateral (exists as it is)."""
    point = key_of(index).public_key
    return edit(pubkey=(point.x, point.y), collateral=START)


def shifted(name: str, change: Callable[[list[int]], list[int]]) -> dict[str, HintFn]:
    """The hint ``name`` with its honest values changed by ``change``."""
    step = next(s for s in get_trace().steps if s.name == name)
    assert step.fn is not None
    honest = step.fn
    return {name: lambda *args: change([v % R for v in honest(*args)])}


def register(
    key: bytes,
    wires: dict[str, WireFn] | None = None,
    hints: dict[str, HintFn] | None = None,
) -> Violation:
    """Account 3 registers ``key``, its record's status the slot's (``wires`` named in the
    decoder's scope)."""
    op = RegisterKey(3, owner_of(3), key)
    prefix = "slot0/register_key/decode_key/"
    return violation(
        op,
        wires={prefix + k: f for k, f in (wires or {}).items()},
        hints=hints or {},
        record_from=register_key_record(op),
    )


def next_non_square(values: list[int]) -> list[int]:
    return [next(u for u in count(values[0] + 1) if not is_square(u % R))]


def decoder_wire(name: str) -> str:
    return "slot0/register_key/decode_key/" + name


# -- two slots: a create order that leaves its taker pending, and the claim after it ----------

TWO_SLOTS = MINIMAL.with_overrides(ops_per_block=2, market_slots=0)  # both heavy


@cache
def get_two_slot_state() -> State:
    return new_state(TWO_SLOTS)


def two_slot_order(size: int = 150, **kw: Any) -> CreateOrder:
    """Account 3 bids ``size`` at ``ASK_PRICE`` (``kw``: CreateOrder's other fields)."""
    return order(price=ASK_PRICE, size=size, **kw)


def two_asks(state: State) -> None:
    """Account 4 rests two asks of 100 at ``ASK_PRICE`` (nonces 0 and 1): a bid of 150 takes
    the first in its step and leaves 50 pending, which the claim takes of the second."""
    for _ in range(2):
        resting(account=4)(state)


@dataclass
class TwoSlots:
    """A two-slot block: the rules' own witness of ``op`` then ``Claim(op.account)`` and what
    the prover replaces (inputs, hints, wires: ``Violation``'s), with the state as slot 0
    leaves it (slot 1's accounts and book open in it). ``slot`` names the slot whose
    constraint the case is for."""

    after: State
    witness: BlockWitness
    slot: int
    inputs: dict[str, int] = field(default_factory=dict)
    hints: dict[str, HintFn] = field(default_factory=dict)
    wires: dict[str, WireFn] = field(default_factory=dict)


def two_slots(
    op: CreateOrder,
    prepare: Callable[[State], None],
    slot: int,
    wires: dict[str, WireFn] | None = None,
    claim: Callable[[State], dict[str, int]] | None = None,
    claimer: int | None = None,
) -> TwoSlots:
    """``op`` (after ``prepare``) and its claim (of ``claimer``, by default ``op.account``)
    as the witness builder makes them, slot 1's inputs replaced by those ``claim`` gives from
    the state after slot 0."""
    state = copy.deepcopy(get_two_slot_state())
    prepare(state)
    after = started_block(state)
    build_slot_witness(after, op)
    update_state_root(after)
    account = op.account if claimer is None else claimer
    witness = build_block_witness(state, next_block(state, [op, Claim(account)]))
    inputs = {} if claim is None else claim(after)
    return TwoSlots(after, witness, slot, inputs, {}, wires or {})


def as_slot(n: int, inputs: dict[str, int]) -> dict[str, int]:
    """One slot's inputs (named ``slot0/...``) as slot ``n``'s."""
    return {
        f"slot{n}/{k.removeprefix('slot0/')}" if k.startswith("slot0/") else k: v
        for k, v in inputs.items()
    }


def two_slot_inputs(w: BlockWitness) -> dict[str, int]:
    inputs: dict[str, int] = {}
    for n, slot in enumerate(w.slots):
        inputs |= as_slot(n, block_inputs(replace(w, slots=(slot,))))
    return inputs


@cache
def get_two_slot_trace() -> Trace:
    """The two-slot block circuit, traced once (an order and its claim)."""
    v = two_slots(two_slot_order(), two_asks, 1)
    cs = TracingBuilder()
    define_block(cs, TWO_SLOTS, CHAIN_ID, v.witness)
    return cs.trace()


def _settle_second(v: TwoSlots, trace: Trace, values: list[int]) -> dict[str, int]:
    """Slot 1's B path after its A's new leaf, and the reserved accounts' paths at the block's
    end, in the tree slot 0 leaves (slot 0's accounts are the rules'; neither of slot 1's is
    reserved)."""
    assert v.after.trees is not None
    tree = copy.deepcopy(v.after.trees.accounts)
    a, b = (trace.value(values, f"slot1/{side}/index") for side in ("a", "b"))
    assert not {a, b} & {FEE_ACCOUNT, FUNDING_POOL}  # the fund only as a noop's A and B
    tree.set(a, trace.value(values, "slot1/a/new/leaf/exists_times_hash"))
    if a == b:  # B is A after the slot (a step that fills nothing changes no position)
        epoch = trace.value(values, "slot1/a/cancel_epoch")
        new = _new_fields(trace, values, "a", 1, epoch)
        follow = {f"slot1/b/{n}": x for n, x in new.items()}
    else:
        follow = {f"slot1/b/sibling{i}": s for i, s in enumerate(tree.proof(b).siblings)}
    tree.set(b, trace.value(values, "slot1/b/new/leaf/exists_times_hash"))
    for name, index in zip(RESERVED, ACCRUING_ACCOUNTS, strict=True):
        prefix = f"block_end/{name}"
        follow |= {f"{prefix}/sibling{i}": s for i, s in enumerate(tree.proof(index).siblings)}
        tree.set(index, trace.value(values, f"{prefix}/new/leaf/exists_times_hash"))
    return follow


def replay_two(v: TwoSlots) -> list[int]:
    """``replay`` for a two-slot case."""
    trace = get_two_slot_trace()
    inputs = two_slot_inputs(v.witness) | v.inputs
    for _ in range(4):
        values = trace.replay(inputs, v.hints, v.wires)
        follow = _settle_second(v, trace, values)
        changed = {k: x for k, x in follow.items() if inputs[k] != x}
        if not changed:
            return values
        inputs |= changed
    raise AssertionError("slot 1's B and the reserved accounts do not settle")
