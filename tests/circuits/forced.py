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
from dataclasses import dataclass, replace

from circuits.block import BlockWitness
from circuits.gadgets.commitment import MarketVars
from circuits.gadgets.jubjub import PointVar
from circuits.gadgets.positions import PositionLeafVars
from circuits.gadgets.risk import RiskVars
from circuits.ops import trigger_order
from circuits.ops.book_unit import BookWitness, alloc_book_unit
from circuits.ops.common import OWNER, AccountVars, Effect, OpCircuit, RecordVars, SlotVars
from circuits.ops.pre_execution import MarketSlotWitness
from circuits.ops.slot import (
    LIGHT_TYPES,
    OP_CIRCUITS,
    ROUND_OPS,
    AccountWitness,
    Positions,
    SlotWitness,
    apply_move,
    apply_step,
    get_dummy_signature,
    with_round,
)
from circuits.r1cs import Builder, LinearCombination, constant
from protocol import pubdata
from protocol.accounts import INSURANCE_FUND, Account, Position
from protocol.block import Operation, compute_record, process_operation
from protocol.commitment import compute_position_leaf
from protocol.errors import InvalidTransaction
from protocol.events import SharesBurned, SharesMinted, Withdrawn
from protocol.field import R
from protocol.ops import trigger_order as fire
from protocol.ops.burn_shares import BurnShares
from protocol.ops.common import RULE_ONLY_ACCOUNTS
from protocol.ops.create_order import CreateOrder
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.ops.deleverage_step import DeleverageStep
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.liquidate import Liquidate
from protocol.ops.mint_shares import MintShares
from protocol.ops.trigger_order import FireTrigger
from protocol.ops.withdraw import Withdraw
from protocol.params import Preset
from protocol.pool import compute_payout_for, compute_pool_value, compute_shares_for
from protocol.risk import Risk, compute_risk, compute_unsettled_funding
from protocol.smt import SparseMerkleTree
from protocol.state import ACCRUING_ACCOUNTS, State
from sequencer.witness import (
    capture_account,
    capture_book_of,
    capture_markets,
    capture_positions,
    capture_round,
)

After = tuple[AccountWitness, Positions]  # an account's fields and positions after the slot


def get_circuit(op: Operation) -> OpCircuit:
    return next(c for c in OP_CIRCUITS if c.op_class is type(op))


def claimed_record(state: State, op: Operation) -> bytes:
    """The record a cheating operator would post for ``op``: the fields the operation names,
    and for an order, a forced order (never refused), a mint, a burn, a trigger order's firing,
    a liquidation or a deleverage round's operation the rules accept, its results (a fill's
    maker and size, the shares minted, the collateral paid; a firing's owner; the lots a round
    moves)."""
    if isinstance(
        op,
        CreateOrder
        | ForcedOrder
        | MintShares
        | BurnShares
        | FireTrigger
        | Liquidate
        | DeleverageStep
        | DeleverageEnd,
    ):
        try:
            return compute_record(op, process_operation(copy.deepcopy(state), op))
        except InvalidTransaction:
            pass
    if isinstance(op, FireTrigger):  # refused: the owner (if any) firing, nothing filled
        trigger = trigger_order.get_trigger(state, op)
        fired_by = 0 if trigger is None else trigger.account
        return fire.RECORD.encode((fired_by, op.market, op.trigger_id, 0, 0))
    if isinstance(op, Withdraw):
        account = state.accounts.get(op.account)
        owner = pubdata.ADDRESS_BYTES * b"\0" if account is None else account.owner
        return compute_record(op, (Withdrawn(op.account, owner, op.amount),))
    if isinstance(op, MintShares):  # refused: the shares the price gives, as if allowed
        shares = op.amount
        if state.accounts[INSURANCE_FUND].pool_shares and compute_pool_value(state) > 0:
            shares = min(compute_shares_for(state, op.amount), (1 << 64) - 1)  # the field's
        return compute_record(op, (SharesMinted(op.account, op.amount, shares),))
    if isinstance(op, BurnShares):  # refused: what the shares are worth, as if allowed
        supply = state.accounts[INSURANCE_FUND].pool_shares
        paid = compute_payout_for(state, op.shares) if op.shares and supply else 0
        return compute_record(op, (SharesBurned(op.account, op.shares, paid),))
    return compute_record(op, ())


def _constant_account(w: AccountWitness) -> AccountVars:
    index, exists, owner, x, y, *rest = (constant(v) for v in w.values())
    return AccountVars(index, exists, owner, PointVar(x, y), *rest)


def _constant_markets(scratch: State) -> tuple[MarketVars, ...]:
    markets = []
    for m in capture_markets(scratch):
        exists, *fields = (constant(v) for v in m.values())
        params, data = fields[: len(m.params)], fields[len(m.params) :]
        markets.append(MarketVars(exists, tuple(params), tuple(data), constant(0)))
    return tuple(markets)


def _constant_positions(
    scratch: State, index: int
) -> tuple[Positions, tuple[PositionLeafVars, ...], tuple[LinearCombination, ...]]:
    positions = capture_positions(scratch, index)
    leaves = [compute_position_leaf(Position(*p)) for p in positions]
    return (
        positions,
        tuple(PositionLeafVars(*(constant(v % R) for v in p)) for p in positions),
        tuple(constant(leaf) for leaf in leaves),
    )


def _constant_risk(scratch: State, w: AccountWitness, positions: Positions) -> RiskVars:
    """The risk unit's values for ``w`` (TAV, IMR, MMR, and each market's unsettled funding,
    size sign and magnitude, and notional)."""
    risk, markets = compute_risk_of(scratch, w, positions), scratch.markets
    owed = [
        compute_unsettled_funding(Position(*p), markets[m]) if m < len(markets) else 0
        for m, p in enumerate(positions)
    ]
    tav, imr, mmr, cmr = (constant(v % R) for v in risk[:4])
    signs = tuple((constant(int(p[0] < 0)), constant(abs(p[0]))) for p in positions)
    notionals = tuple(
        constant(abs(p[0]) * markets[m].data.mark_price if m < len(markets) else 0)
        for m, p in enumerate(positions)
    )
    owed_vars = tuple(constant(v % R) for v in owed)
    return RiskVars(tav, imr, mmr, owed_vars, signs, notionals, cmr)


def compute_effect(
    scratch: State,
    circuit: OpCircuit,
    record: bytes,
    a: AccountWitness,
    b: AccountWitness,
    book: BookWitness | None = None,
    op: Operation | None = None,
) -> Effect:
    """What ``circuit`` adds to A's and B's fields in a slot of ``record`` (on = 1): its
    ``define`` run on constants (A's and B's positions and the markets as ``scratch`` has
    them), in a builder that is thrown away."""
    preset = scratch.preset
    a_positions, a_vars_positions, a_leaves = _constant_positions(scratch, a.index)
    b_positions, b_vars_positions, b_leaves = _constant_positions(scratch, b.index)
    cs = Builder(witness=True, values_only=True)
    bits = [[constant(byte >> j & 1) for j in range(8)] for byte in record]
    rec = RecordVars(constant(record[0]), bits)
    heavy = circuit.op_type not in LIGHT_TYPES  # B's positions and risk: a heavy slot's
    slot = SlotVars(
        preset,
        rec,
        _constant_account(a),
        _constant_account(b),
        constant(int(a.owner == rec.field(*OWNER).value)),
        constant(int(a.index in RULE_ONLY_ACCOUNTS)),
        _constant_markets(scratch),
        a_vars_positions,
        a_leaves,
        _constant_risk(scratch, a, a_positions),
        alloc_book_unit(cs, preset, book or BookWitness.unused(preset), True) if heavy else None,
        constant(scratch.timestamp),
        b_vars_positions if heavy else (),
        b_leaves if heavy else (),
        _constant_risk(scratch, b, b_positions) if heavy else None,
    )
    if circuit in ROUND_OPS:  # the round the operation reads, as the witness builder captures it
        values = () if op is None else capture_round(scratch, circuit, op)
        slot = with_round(cs, slot, constant(1), values)
    effect, _ = apply_step(cs, slot, circuit.define(cs, slot, constant(1)))
    return apply_move(cs, slot, effect)


def compute_risk_of(
    scratch: State, a: AccountWitness, positions: tuple[tuple[int, int, int, int], ...]
) -> Risk:
    """``protocol.risk.compute_risk`` of A's fields and positions at ``scratch``'s marks."""
    account = Account(a.index, bytes(pubdata.ADDRESS_BYTES), a.pubkey, a.nonce)
    account.collateral = a.collateral
    account.positions = {m: Position(*p) for m, p in enumerate(positions) if any(p)}
    return compute_risk(account, scratch.markets)


def compute_new_positions(positions: Positions, changes: tuple[PositionLeafVars, ...]) -> Positions:
    """Positions after an effect's changes (signed values)."""
    if not changes:
        return positions
    return tuple(
        (
            _signed((p[0] + (d.size.value or 0)) % R),
            _signed((p[1] + (d.entry_quote.value or 0)) % R),
            _signed((p[2] + (d.funding_index.value or 0)) % R),
            _signed((p[3] + (d.imf.value or 0)) % R),
        )
        for p, d in zip(positions, changes, strict=True)
    )


def compute_positions_root(preset: Preset, positions: tuple[tuple[int, int, int, int], ...]) -> int:
    tree = SparseMerkleTree(preset.market_tree_depth)
    for m, p in enumerate(positions):
        tree.set(m, compute_position_leaf(Position(*p)))
    return tree.root()


def _signed(v: int) -> int:
    return v - R if v > R // 2 else v


def apply_effect(a: AccountWitness, e: Effect, positions_root: int) -> AccountWitness:
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
        positions_root=positions_root,
        open_orders=(a.open_orders + (e.a_open_orders.value or 0)) % R,
        pool_shares=(a.pool_shares + (e.a_pool_shares.value or 0)) % R,
        cancel_epoch=(a.cancel_epoch + (e.a_cancel_epoch.value or 0)) % R,
    )


def compute_leaf(w: AccountWitness) -> int:
    """The account leaf of ``w``'s fields (``protocol.commitment.compute_account_leaf``)."""
    return w.leaf()


def _set_leaf(state: State, w: AccountWitness) -> None:
    assert state.trees is not None  # capture_account brought them up to date
    state.trees.accounts.set(w.index, compute_leaf(w))


def _get_siblings(state: State, index: int) -> tuple[int, ...]:
    assert state.trees is not None
    return tuple(state.trees.accounts.proof(index).siblings)


@dataclass(frozen=True)
class Forced:
    """A forced slot, the fields and positions of A and B after it, and what it accrued."""

    slot: SlotWitness
    after: dict[int, After]
    fees: int
    funding: int
    insurance: int = 0


def force_slot(
    scratch: State,
    op: Operation,
    record: bytes | None = None,
    a: AccountWitness | None = None,
    book: BookWitness | None = None,
    counterparty: int | None = None,
) -> Forced:
    """``op``'s slot from ``scratch`` (clock already set) as if the rules applied it:
    ``record`` (by default the one ``op`` names), A as captured (or ``a``), B (the maker of a
    fill, or ``counterparty`` where given) before the slot with its path after A's update, the
    book unit as captured (or ``book``). Returns the slot and the fields and positions of A and
    B after it, whose leaves it writes into ``scratch``'s account tree (the native accounts
    stay as they were)."""
    circuit = get_circuit(op)
    record = record or claimed_record(scratch, op)
    a_index, b_index = circuit.get_accounts(op, scratch)
    if counterparty is not None:  # the maker a step the rules refuse would meet
        b_index = counterparty
    a = a or capture_account(scratch, a_index)
    b = capture_account(scratch, b_index)
    book = book or capture_book_of(scratch, circuit, op)
    effect = compute_effect(scratch, circuit, record, a, b, book, op)
    positions = capture_positions(scratch, a_index)
    new_positions = compute_new_positions(positions, effect.a_positions)
    root = a.positions_root
    if new_positions != positions:
        root = compute_positions_root(scratch.preset, new_positions)
    a_new = apply_effect(a, effect, root)
    _set_leaf(scratch, a_new)
    b_positions = capture_positions(scratch, b_index)
    if b_index == a_index:  # B is A after the slot
        b, b_positions = a_new, new_positions
    else:
        b = replace(b, siblings=_get_siblings(scratch, b_index))
    b_new_positions = compute_new_positions(b_positions, effect.b_positions)
    b_root = b.positions_root
    if b_new_positions != b_positions:
        b_root = compute_positions_root(scratch.preset, b_new_positions)
    b_new = replace(
        b,
        collateral=_signed((b.collateral + (effect.b_collateral.value or 0)) % R),
        positions_root=b_root,
        open_orders=(b.open_orders + (effect.b_open_orders.value or 0)) % R,
        pool_shares=(b.pool_shares + (effect.b_pool_shares.value or 0)) % R,
    )
    _set_leaf(scratch, b_new)
    expiry = getattr(op, "expiry", scratch.timestamp)
    signature = getattr(op, "signature", None) or get_dummy_signature()[1]
    slot = SlotWitness(record, a, b, expiry, signature, positions, book, b_positions)
    slot = replace(slot, round=capture_round(scratch, circuit, op))
    # B follows A: where B is A (the fund burning, say), its leaf after B's effect is the last
    after = {a_index: (a_new, new_positions), b_index: (b_new, b_new_positions)}
    fees = _signed((effect.fees.value or 0) % R)
    funding = _signed((effect.funding.value or 0) % R)
    return Forced(slot, after, fees, funding, _signed((effect.insurance.value or 0) % R))


def _noop_slot(scratch: State, after: dict[int, After]) -> SlotWitness:
    """A noop (account 0, unchanged) after the forced slot."""
    account, positions = after.get(0) or (
        capture_account(scratch, 0),
        capture_positions(scratch, 0),
    )
    account = replace(account, siblings=_get_siblings(scratch, 0))
    signature = get_dummy_signature()[1]
    return SlotWitness(
        bytes(pubdata.OP_BYTES),
        account,
        account,
        scratch.timestamp,
        signature,
        positions,
        None,
        positions,
    )


def _reserved(
    scratch: State, after: dict[int, After], forced: Forced
) -> tuple[AccountWitness, AccountWitness, AccountWitness]:
    """The fee account, the funding pool and the insurance fund after the slots, as the
    block's end opens them, each credited in ``scratch``'s tree (each one's path after the
    credits of those before it)."""
    reserved = []
    credits = (forced.fees, forced.funding, forced.insurance)
    for index, amount in zip(ACCRUING_ACCOUNTS, credits, strict=True):
        account = after[index][0] if index in after else capture_account(scratch, index)
        account = replace(account, siblings=_get_siblings(scratch, index))
        reserved.append(account)
        _set_leaf(scratch, replace(account, collateral=account.collateral + amount))
    return reserved[0], reserved[1], reserved[2]


def forced_witness(
    state: State,
    op: Operation,
    record: bytes | None = None,
    a: AccountWitness | None = None,
    book: BookWitness | None = None,
    counterparty: int | None = None,
) -> BlockWitness:
    """A block of ``op``'s forced slot (``force_slot``) then noops, from ``state`` (clock
    already set); the noops follow the root the forced slot leaves, and the block's end
    credits what it accrued. ``state`` is left as it was."""
    scratch = copy.deepcopy(state)
    forced = force_slot(scratch, op, record, a, book, counterparty)
    preset = scratch.preset
    noops = [_noop_slot(scratch, forced.after) for _ in range(preset.operation_slots - 1)]
    assert scratch.trees is not None
    books, markets = scratch.trees.books.root(), capture_markets(scratch)
    accounts = scratch.accounts
    # the running copies' start: a reserved A's collateral as given (a prover's A)
    c = [a.collateral if a is not None and a.index == i else accounts[i].collateral
         for i in ACCRUING_ACCOUNTS]  # fmt: skip
    collateral = (c[0], c[1], c[2])
    reserved = _reserved(scratch, forced.after, forced)
    d = 5  # any digest: the public inputs derived from it are the circuit's outputs
    return BlockWitness(
        scratch.timestamp,
        scratch.timestamp,
        books,
        markets,
        (forced.slot, *noops),
        d,
        collateral,
        reserved,
        (MarketSlotWitness.noop(preset),) * preset.market_slots,
    )
