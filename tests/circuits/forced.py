"""A cheating operator's slot: an operation the rules refuse, filled in as the circuit applies it.

``force_slot`` builds the slot witness of an operation (or of any record) without running the
rules' checks: A's and B's leaves as they are before the slot, and B's Merkle path taken after
A's update, as ``sequencer.witness.build_slot_witness`` does for a real block (here A's new
leaf is the one the circuit computes, not the rules', since the rules refuse the operation).
Such a witness is consistent: the circuit can only refuse it at a constraint of the operation
itself or of a rule the slot checks (signature, expiry, collateral range), never at a Merkle
root. ``test_block.py`` shows that the slot forced from a *valid* operation is exactly the
witness builder's.

A's new fields come from the operation's own circuit: ``OpCircuit.define`` run on constants
(A, B and the record as the slot reads them) gives its :class:`Effect`, which the slot adds to
A's fields. So an operation type added to ``OP_CIRCUITS`` needs nothing here.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from circuits.block import BlockWitness
from circuits.gadgets.jubjub import PointVar
from circuits.ops.common import OWNER, AccountVars, Effect, OpCircuit, RecordVars, SlotVars
from circuits.ops.slot import OP_CIRCUITS, AccountWitness, SlotWitness, get_dummy_signature
from circuits.r1cs import Builder, constant
from protocol import pubdata
from protocol.accounts import Account
from protocol.block import Operation, compute_record
from protocol.commitment import compute_account_leaf
from protocol.events import Withdrawn
from protocol.field import R
from protocol.ops.common import RULE_ONLY_ACCOUNTS
from protocol.ops.withdraw import Withdraw
from protocol.params import Preset
from protocol.state import State
from sequencer.witness import capture_account, capture_markets


def get_circuit(op: Operation) -> OpCircuit:
    return next(c for c in OP_CIRCUITS if c.op_class is type(op))


def claimed_record(state: State, op: Operation) -> bytes:
    """The record a cheating operator would post for ``op`` (the fields the operation names)."""
    if isinstance(op, Withdraw):
        account = state.accounts.get(op.account)
        owner = pubdata.ADDRESS_BYTES * b"\0" if account is None else account.owner
        return compute_record(op, (Withdrawn(op.account, owner, op.amount),))
    return compute_record(op, ())


def _constant_account(w: AccountWitness) -> AccountVars:
    index, exists, owner, x, y, *rest = (constant(v) for v in w.values())
    return AccountVars(index, exists, owner, PointVar(x, y), *rest)


def compute_effect(
    preset: Preset, circuit: OpCircuit, record: bytes, a: AccountWitness, b: AccountWitness
) -> Effect:
    """What ``circuit`` adds to A's and B's fields in a slot of ``record`` (on = 1): its
    ``define`` run on constants, in a builder that is thrown away."""
    cs = Builder(witness=True)
    bits = [[constant(byte >> j & 1) for j in range(8)] for byte in record]
    rec = RecordVars(constant(record[0]), bits)
    a_vars = _constant_account(a)
    slot = SlotVars(
        preset,
        rec,
        a_vars,
        _constant_account(b),
        constant(int(a.owner == rec.field(*OWNER).value)),
        constant(int(a.index in RULE_ONLY_ACCOUNTS)),
    )
    return circuit.define(cs, slot, constant(1))


def _signed(v: int) -> int:
    return v - R if v > R // 2 else v


def apply_effect(a: AccountWitness, e: Effect) -> AccountWitness:
    """A's fields after the slot adds ``e`` (``circuits.ops.slot``'s new A), with A's path."""
    value = [x.value or 0 for x in (e.a_exists, e.a_owner, *e.a_pubkey, e.a_nonce)]
    exists = int(a.exists) + value[0]
    if exists not in (0, 1):
        raise ValueError(f"the effect leaves account {a.index} with exists = {exists}")
    return replace(
        a,
        exists=bool(exists),
        owner=(a.owner + value[1]) % R,
        pubkey=((a.pubkey[0] + value[2]) % R, (a.pubkey[1] + value[3]) % R),
        nonce=(a.nonce + value[4]) % R,
        collateral=_signed((a.collateral + (e.a_collateral.value or 0)) % R),
    )


def compute_leaf(w: AccountWitness) -> int:
    """The account leaf of ``w``'s fields (``protocol.commitment.compute_account_leaf``)."""
    if not w.exists:
        return 0
    account = Account(w.index, w.owner.to_bytes(pubdata.ADDRESS_BYTES, "big"), w.pubkey, w.nonce)
    account.collateral, account.open_orders, account.pool_shares = (
        w.collateral,
        w.open_orders,
        w.pool_shares,
    )
    return compute_account_leaf(account, w.positions_root)


def _set_leaf(state: State, w: AccountWitness) -> None:
    assert state.trees is not None  # capture_account brought them up to date
    state.trees.accounts.set(w.index, compute_leaf(w))


def _get_siblings(state: State, index: int) -> tuple[int, ...]:
    assert state.trees is not None
    return tuple(state.trees.accounts.proof(index).siblings)


def force_slot(
    scratch: State,
    op: Operation,
    record: bytes | None = None,
    a: AccountWitness | None = None,
) -> tuple[SlotWitness, dict[int, AccountWitness]]:
    """``op``'s slot from ``scratch`` (clock already set) as if the rules applied it:
    ``record`` (by default the one ``op`` names), A as captured (or ``a``), B before the slot
    with its path after A's update. Returns the slot and the fields of A and B after it, whose
    leaves it writes into ``scratch``'s account tree (the native accounts stay as they were)."""
    circuit = get_circuit(op)
    record = record or claimed_record(scratch, op)
    a_index, b_index = circuit.get_accounts(op)
    a = a or capture_account(scratch, a_index)
    b = capture_account(scratch, b_index)
    effect = compute_effect(scratch.preset, circuit, record, a, b)
    a_new = apply_effect(a, effect)
    _set_leaf(scratch, a_new)
    b = a_new if b_index == a_index else replace(b, siblings=_get_siblings(scratch, b_index))
    b_new = replace(b, collateral=_signed((b.collateral + (effect.b_collateral.value or 0)) % R))
    _set_leaf(scratch, b_new)
    expiry = getattr(op, "expiry", scratch.timestamp)
    signature = getattr(op, "signature", None) or get_dummy_signature()[1]
    return SlotWitness(record, a, b, expiry, signature), {a_index: a_new, b_index: b_new}


def _noop_slot(scratch: State, after: dict[int, AccountWitness]) -> SlotWitness:
    """A noop (account 0, unchanged) after the forced slot."""
    account = after.get(0) or capture_account(scratch, 0)
    account = replace(account, siblings=_get_siblings(scratch, 0))
    return SlotWitness(
        bytes(pubdata.OP_BYTES), account, account, scratch.timestamp, get_dummy_signature()[1]
    )


def forced_witness(
    state: State, op: Operation, record: bytes | None = None, a: AccountWitness | None = None
) -> BlockWitness:
    """A block of ``op``'s forced slot (``force_slot``) then noops, from ``state`` (clock
    already set); the noops follow the root the forced slot leaves. ``state`` is left as it
    was."""
    scratch = copy.deepcopy(state)
    slot, after = force_slot(scratch, op, record, a)
    noops = [_noop_slot(scratch, after) for _ in range(scratch.preset.ops_per_block - 1)]
    assert scratch.trees is not None
    books, markets = scratch.trees.books.root(), capture_markets(scratch)
    d = 5  # any digest: the public inputs derived from it are the circuit's outputs
    return BlockWitness(scratch.timestamp, scratch.timestamp, books, markets, (slot, *noops), d)
