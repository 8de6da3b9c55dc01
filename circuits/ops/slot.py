"""One slot of the block circuit: any operation of its kind (docs/PROTOCOL.md 8.C). A heavy
slot (the block's first ``trading_slots``) proves every operation of ``OP_CIRCUITS`` and carries
the book unit; a claim slot (the next ``claim_slots``) proves claims only, with the book unit
and without what no claim uses (the signature unit, the other operations, the pool-share
ranges, A's new identity hash); a light one proves the money path (``MONEY_PATH``) and has no
book unit.

In order (so that a refused operation fails at its own constraint, named, before a root check):

1. the type selectors (one-hot), A's index bits and the record's bytes as bit wires;
2. each operation's arithmetic under its selector, and the record bytes it does not use are 0;
   in a heavy slot, the matching step the operations hand it, run once (``apply_step``:
   ``circuits/ops/step_unit.py``), and only a claim while a taker is pending
   (``only_claims_while_pending``);
3. the expiry (``expiry < 2^timestamp_bits``, not before the block's timestamp);
4. the signature unit: the message of ``protocol.signing`` (one sponge whose length tag the
   selectors choose) and EdDSA under A's key; an unsigned slot checks a constant dummy
   signature instead (the dummy key signs the message 0). A kind none of whose operations is
   signed (the claim slot) has neither 3 nor 4;
5. A's and B's new fields (old + the operations' effects: in a heavy slot B's positions too,
   a fill's maker) and their collateral range, counting the block's fees or funding where the
   account is the fee account or the funding pool, whose running copies they update; the
   valid-risk-change rule of each side the effects ask it of; in a heavy slot, the two
   reserved accounts' collateral plus the block's sums in range (``State.check_accrued``);
6. the leaf hashes (B's identity half once) and the two Merkle updates: A's from the slot's
   old root, B's from A's new root (B is A, unchanged, when the operation has no receiver or
   maker).

A claim slot (``SlotKind.one_market``) moves positions in its step's market only: in 5 each
side's new positions root is that market's leaf rewritten along its path (``_rewrite_traded``)
and its risk after is its risk before with that market's share replaced
(``_compute_traded_risk_after``), instead of every market hashed and valued again. Right
after a heavy slot it takes A from that slot (``BlockVars.carried``: the taker carried): A's
positions, their tree and its risk (``_keep_risk``) instead of reading them in 1 and 5, and
A's leaf, identity hash and path as that slot leaves them (``carry_account``), so that in 6
it hashes only A's new balance half and leaf and the root from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, partial, reduce

from circuits.gadgets.bits import assert_range, to_bits
from circuits.gadgets.boolean import assert_boolean
from circuits.gadgets.commitment import (
    MarketVars,
    compute_position_leaf,
    compute_positions_tree,
    rewrite_position_leaf,
)
from circuits.gadgets.compare import signed_less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.eddsa import SignatureVar, assert_valid_signature
from circuits.gadgets.equality import is_equal, is_zero
from circuits.gadgets.jubjub import PointVar
from circuits.gadgets.pool import check_share_count
from circuits.gadgets.positions import POSITION_FIELDS, PositionLeafVars
from circuits.gadgets.risk import (
    MarketRiskVars,
    PositionVars,
    RiskVars,
    RiskWidths,
    compute_position_risk,
    is_valid_risk_change,
    replace_share,
)
from circuits.gadgets.smt import PathUpdate, compute_root_from_bits, siblings_after, update_path
from circuits.ops import (
    burn_shares,
    cancel_all,
    cancel_order,
    claim,
    create_order,
    deleverage,
    deleverage_end,
    deleverage_step,
    deposit,
    forced_burn,
    forced_cancel_all,
    forced_order,
    forced_withdraw,
    liquidate,
    mint_shares,
    modify_order,
    noop,
    register_key,
    set_leverage,
    takeover,
    transfer,
    trigger_order,
    withdraw,
)
from circuits.ops.adl_round import apply_round_move, open_round
from circuits.ops.book_unit import BookWitness, add_orders, alloc_book_unit, finish_book_unit
from circuits.ops.common import (
    ACCOUNT,
    DATA_OPEN_INTEREST,
    DATA_ROUND,
    DATA_TRIGGER_NONCE,
    NO_TAKER,
    OWNER,
    RECORD_BYTES,
    AccountVars,
    BlockVars,
    CarriedAccountVars,
    Effect,
    OpCircuit,
    RecordVars,
    RoundMove,
    SignedPayload,
    SlotVars,
    StepVars,
    TakerOrderVars,
    alloc_private,
    compute_account_leaf,
    compute_account_risk,
    compute_balance_hash,
    compute_identity_hash,
    compute_sponge_digests,
    get_market_risk,
    pick,
)
from circuits.ops.step_unit import NO_CHOICE, STEP_CHOICES, define_step
from circuits.r1cs import ZERO, Builder, LinearCombination, constant, weighted_sum
from protocol import eddsa, jubjub, poseidon
from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.field import R
from protocol.markets import ADL_FIELDS
from protocol.ops.common import RULE_ONLY_ACCOUNTS
from protocol.params import OPEN_ORDERS_BITS, Preset
from protocol.poseidon import SPONGE_RATE, sponge_tag
from protocol.pubdata import OpType
from protocol.signing import DOMAIN_L2_TX

LC = LinearCombination


@dataclass(frozen=True)
class SlotKind:
    """What a slot proves (docs/PROTOCOL.md 8.C, "Heavy and light slots", "Claim slots"): its
    operations and whether it carries the book unit (the order leaf, its path and the market's
    book leaf)."""

    name: str
    ops: tuple[OpCircuit, ...]
    has_book: bool
    # its operations move positions in the step's market only (``StepVars.selected``), both
    # sides: each side's new positions root is that market's leaf rewritten along its path,
    # its risk after the risk before with that market's share replaced (``_rewrite_traded``)
    one_market: bool = False

    @property
    def with_cmr(self) -> bool:
        """Whether A's risk before carries CMR: only a liquidation and a takeover read it."""
        return any(op in self.ops for op in (liquidate.CIRCUIT, takeover.CIRCUIT))

    @property
    def op_types(self) -> frozenset[int]:
        return frozenset(op.op_type for op in self.ops)

    @property
    def body_bytes(self) -> range:
        """Record bytes carried as boolean wires: after A's index (bytes 1..6, A's index bits)
        up to the end of the longest record of the kind's operations; the bytes after are 0."""
        return range(sum(ACCOUNT), max(op.descriptor.layout.end for op in self.ops))


MONEY_PATH = tuple(
    m.CIRCUIT for m in (noop, deposit, register_key, transfer, withdraw, forced_withdraw)
)
# cancel all and forced cancel-all touch A's leaf only (lazily: PROTOCOL 7.1), so a light slot
# proves them too
LIGHT_OPS = (*MONEY_PATH, cancel_all.CIRCUIT, forced_cancel_all.CIRCUIT)
LIGHT = SlotKind("light", LIGHT_OPS, has_book=False)
# the deleverage round's operations (PROTOCOL 8.26, 8.29, 8.30; ``circuits/ops/adl_round.py``):
# one tuple, so that they can move to a slot kind of their own. The start writes a round into a
# market's lane and the block's running round accounts; the step and end open the round of the
# market their record names (``OPEN_ROUND_OPS``), at the same record offset in each
OPEN_ROUND_OPS = tuple(m.CIRCUIT for m in (deleverage_step, deleverage_end))
ROUND_OPS = (deleverage.CIRCUIT, *OPEN_ROUND_OPS)
ROUND_MARKET = deleverage_step.FIELDS["market"]
assert all(op.descriptor.layout.offset("market") == ROUND_MARKET for op in OPEN_ROUND_OPS)
HEAVY = SlotKind(
    "heavy",
    (
        *LIGHT_OPS,
        *(m.CIRCUIT for m in (set_leverage, create_order, claim, cancel_order, modify_order)),
        *(m.CIRCUIT for m in (mint_shares, burn_shares, forced_burn)),
        forced_order.CIRCUIT,
        trigger_order.CIRCUIT,
        takeover.CIRCUIT,
        liquidate.CIRCUIT,
        *ROUND_OPS,
    ),
    True,
)
# a claim slot (the ``claim_slots`` after the heavy ones): a pending taker's next step, or a noop
CLAIM = SlotKind("claim", (noop.CIRCUIT, claim.CIRCUIT), True, one_market=True)
# the operations that compare and divide pool shares (``check_share_count``)
POOL_OPS = tuple(m.CIRCUIT for m in (mint_shares, burn_shares, forced_burn))
OP_CIRCUITS = HEAVY.ops
# The operation types the block circuit does not prove yet: the operator refuses them
# (sequencer.witness.UnprovableOperationError) and its mempool does not accept them.
NOT_PROVEN_YET: frozenset[int] = frozenset()
# what the block's last ``market_slots`` prove (``circuits/ops/pre_execution.py``)
MARKET_SLOT_TYPES = frozenset({OpType.NOOP, OpType.PRE_EXECUTION})
PROVEN_TYPES = HEAVY.op_types | MARKET_SLOT_TYPES
LIGHT_TYPES = LIGHT.op_types  # what a light slot proves; the others need a heavy one
BODY_BYTES = HEAVY.body_bytes


def get_slot_kind(preset: Preset, index: int) -> SlotKind:
    """The kind of a block's slot ``index``: its first ``trading_slots`` slots are heavy, the
    next ``claim_slots`` claim slots, the others light."""
    if index < preset.trading_slots:
        return HEAVY
    return CLAIM if index < preset.matching_slots else LIGHT


DUMMY_SEED = b"zkperp: the unsigned slots' key!"  # 32 bytes
MESSAGE_HEAD = 5  # chain_id, type, account, nonce, expiry


@cache
def get_dummy_signature() -> tuple[jubjub.Point, eddsa.Signature]:
    """The constant key and its signature of the message 0 that unsigned slots check."""
    key = eddsa.SecretKey.from_seed(DUMMY_SEED)
    return key.public_key, eddsa.sign(key, 0)


@dataclass(frozen=True)
class AccountWitness:
    """An account as a slot sees it before the slot: leaf fields and Merkle siblings."""

    index: int
    siblings: tuple[int, ...]
    exists: bool
    owner: int
    pubkey: tuple[int, int]
    nonce: int
    collateral: int  # signed
    positions_root: int
    open_orders: int
    pool_shares: int
    cancel_epoch: int = 0

    @classmethod
    def empty(cls, index: int, siblings: tuple[int, ...], positions_root: int) -> AccountWitness:
        """An empty leaf, with the fields a deposit would start the account from."""
        return cls(index, siblings, False, 0, (0, 0), 0, 0, positions_root, 0, 0)

    def orders_field(self) -> int:
        """``protocol.commitment.compute_orders_field``: the count and the epoch packed."""
        return (self.open_orders + (self.cancel_epoch << OPEN_ORDERS_BITS)) % R

    def leaf(self) -> int:
        """``protocol.commitment.compute_account_leaf`` of these fields (0 when empty)."""
        if not self.exists:
            return 0
        identity = poseidon.hash4(self.owner, *self.pubkey, self.nonce)
        balance = poseidon.hash4(
            self.collateral % R, self.positions_root, self.orders_field(), self.pool_shares
        )
        return poseidon.hash2(identity, balance)

    def values(self) -> list[int]:
        """The leaf fields in AccountVars order (signed collateral as ``v mod r``)."""
        fields = [self.index, int(self.exists), self.owner, *self.pubkey, self.nonce]
        return [
            *fields,
            self.collateral % R,
            self.positions_root,
            self.open_orders,
            self.pool_shares,
            self.cancel_epoch,
        ]


@dataclass(frozen=True)
class SlotWitness:
    """One slot's private inputs: the record (which fixes the operation) and what it reads."""

    record: bytes
    a: AccountWitness
    b: AccountWitness
    expiry: int  # the signed expiry; the block's timestamp for an unsigned operation
    signature: eddsa.Signature  # get_dummy_signature()[1] for an unsigned operation
    # A's positions (size, entry_quote, funding_index, imf; signed) per market index; () for
    # none at all (all zeros)
    a_positions: tuple[tuple[int, int, int, int], ...] = ()
    # the order leaf the slot reads; None: an unused unit (always None in a light slot)
    book: BookWitness | None = None
    # B's positions as A's (read by a heavy slot only; () for none at all)
    b_positions: tuple[tuple[int, int, int, int], ...] = ()
    # the slot's matching step (``STEP_CHOICES``): cancels the maker it meets instead of
    # filling it, and does because the fill, tried, fails the maker's valid-risk-change rule;
    # ends its taker on the taker's own failure, and does where its remainder cannot rest
    cancels_maker: bool = False
    maker_fails_risk: bool = False
    ends_taker: bool = False
    rest_fails: bool = False
    # the seven ``adl_*`` fields of the round a round operation reads (signed; () for none)
    round: tuple[int, ...] = ()


ACCOUNT_FIELDS = (
    *("index", "exists", "owner", "pubkey_x", "pubkey_y", "nonce", "collateral"),
    *("positions_root", "open_orders", "pool_shares", "cancel_epoch"),
)


def alloc_account(
    cs: Builder, preset: Preset, w: AccountWitness | None, ranges: bool = True
) -> tuple[AccountVars, list[LC]]:
    """An account's leaf fields and siblings; with ``ranges``, the ranges of its open-order
    count and cancel epoch (``check_orders_field``)."""
    depth = preset.account_tree_depth
    wires = alloc_private(cs, ACCOUNT_FIELDS, None if w is None else w.values())
    assert_boolean(cs, wires[1], "exists_boolean")
    names = [f"sibling{i}" for i in range(depth)]
    siblings = alloc_private(cs, names, None if w is None else w.siblings)
    index, exists, owner, pk_x, pk_y, *rest = wires
    account = AccountVars(index, exists, owner, PointVar(pk_x, pk_y), *rest)
    if ranges:
        check_orders_field(cs, preset, account)
    return account, siblings


def check_orders_field(cs: Builder, preset: Preset, account: AccountVars) -> None:
    """The open-order count below ``2^OPEN_ORDERS_BITS`` and the cancel epoch below
    ``2^account_nonce_bits``: the leaf hashes them packed (6.2), so that the packing is
    one-to-one and neither can borrow from the other."""
    with cs.scope("open_orders"):
        assert_range(cs, account.open_orders, OPEN_ORDERS_BITS)
    with cs.scope("cancel_epoch"):
        assert_range(cs, account.cancel_epoch, preset.account_nonce_bits)


def _alloc_selectors(cs: Builder, kind: SlotKind, op_type: int | None) -> dict[int, LC]:
    with cs.scope("type"):
        selectors = {}
        for op in kind.ops:
            bit = cs.private(
                f"is_{op.name}", None if op_type is None else int(op_type == op.op_type)
            )
            assert_boolean(cs, bit, f"is_{op.name}_boolean")
            selectors[op.op_type] = bit
        cs.assert_equal(
            weighted_sum([1] * len(selectors), list(selectors.values())), constant(1), "one_type"
        )
    return selectors


def _alloc_record(
    cs: Builder, kind: SlotKind, type_byte: LC, account_bits: list[LC], record: bytes | None
) -> RecordVars:
    """The account field (bytes 1..6) from A's index bits (the bits above the tree depth are
    0), the kind's body bytes as bit wires, the rest zero."""
    body = kind.body_bytes
    start, length = ACCOUNT
    account = [*account_bits, *[ZERO] * (8 * length - len(account_bits))]
    bits: list[list[LC]] = [[] for _ in range(RECORD_BYTES)]
    for k in range(start, start + length):
        bits[k] = account[8 * (start + length - 1 - k) : 8 * (start + length - k)]
    with cs.scope("record"):
        for k in body:
            bits[k] = []
            for j in range(8):
                bit = cs.private(f"byte{k}_bit{j}", None if record is None else record[k] >> j & 1)
                assert_boolean(cs, bit, f"byte{k}_bit{j}_boolean")
                bits[k].append(bit)
    for k in range(body.stop, RECORD_BYTES):
        bits[k] = [ZERO] * 8
    return RecordVars(type_byte, bits)


def _is_rule_only(cs: Builder, index: LC) -> LC:
    """1 when ``index`` is in ``RULE_ONLY_ACCOUNTS`` (``require_not_rule_only``)."""
    first, *rest = sorted(RULE_ONLY_ACCOUNTS)
    product = index - first
    for i in rest:
        product = cs.mul(product, index - i, f"rule_only_{i}")
    return is_zero(cs, product)


Positions = tuple[tuple[int, int, int, int], ...]


def _alloc_positions(
    cs: Builder, preset: Preset, account: AccountVars, fields: Positions | None
) -> tuple[tuple[PositionLeafVars, ...], tuple[tuple[LC, ...], ...]]:
    """An account's position fields per market (``fields``: () for none at all) and the levels
    of their leaves' tree (``compute_positions_tree``: the leaves first), whose root is its
    positions root (``root_matches``)."""
    positions, leaves = [], []
    for m in range(preset.max_markets):
        with cs.scope(f"market{m}"):
            values = None
            if fields is not None:
                values = [v % R for v in (fields[m] if fields else (0, 0, 0, 0))]
            position = PositionLeafVars(*alloc_private(cs, POSITION_FIELDS, values))
            positions.append(position)
            leaves.append(compute_position_leaf(cs, position))
    tree = compute_positions_tree(cs, leaves)
    cs.assert_equal(tree[-1][0], account.positions_root, "root_matches")
    return tuple(positions), tree


def _update_positions(
    cs: Builder,
    positions: tuple[PositionLeafVars, ...],
    root: LC,
    tree: tuple[tuple[LC, ...], ...],
    changes: tuple[PositionLeafVars, ...],
) -> tuple[tuple[PositionLeafVars, ...], LC, tuple[tuple[LC, ...], ...]]:
    """An account's positions after the operations' changes, their root and their tree's
    levels (``root`` and ``tree``, the positions' before, when nothing changes)."""
    if not changes:
        return positions, root, tree
    new, leaves = [], []
    for m, (p, d) in enumerate(zip(positions, changes, strict=True)):
        with cs.scope(f"market{m}"):
            position = PositionLeafVars(
                p.size + d.size,
                p.entry_quote + d.entry_quote,
                p.funding_index + d.funding_index,
                p.imf + d.imf,
            )
            new.append(position)
            leaves.append(compute_position_leaf(cs, position))
    new_tree = compute_positions_tree(cs, leaves)
    return tuple(new), new_tree[-1][0], new_tree


@dataclass(frozen=True)
class TradedPosition:
    """A side's position in a one-market slot's traded market (``SlotKind.one_market``): before
    and after the slot, and its positions root after."""

    old: PositionLeafVars
    new: PositionLeafVars
    root: LC


def _read_carried(
    cs: Builder, carried: CarriedAccountVars, claim_on: LC
) -> tuple[AccountVars, list[LC]]:
    """A claim slot's A: the account the heavy slot before it wrote last at its A's index (the
    pending taker's, ``a_is_taker``, while the claim is on; a noop leaves it unchanged), and
    the record's account bits, A's while the claim is on and 0 under a noop, whose record is
    all zeros. The carried positions are the ones under A's positions root while the claim is
    on (``carried_positions_root``: they differ only where the heavy slot's B is A and moved
    B's positions, which no operation does)."""
    account = carried.account
    root = carried.tree[-1][0]
    cs.assert_mul(claim_on, account.positions_root - root, ZERO, "carried_positions_root")
    bits = [cs.mul(claim_on, bit, f"record_bit{i}") for i, bit in enumerate(carried.bits)]
    return account, bits


def _keep_risk(cs: Builder, fails: LC, before: RiskVars, after: RiskVars) -> RiskVars:
    """The taker's risk as the slot leaves it (TAV without the collateral, IMR, MMR, each
    market's share and unsettled funding): ``after``, unless its fill was only tried
    (``fails``: the maker's risk rule failed it, nothing applied), then ``before``."""

    def keep(x: LC, y: LC, name: str) -> LC:
        return y + cs.mul(fails, x - y, name)

    shares = tuple(
        RiskVars(
            keep(x.tav, y.tav, f"tav{m}"),
            keep(x.imr, y.imr, f"imr{m}"),
            keep(x.mmr, y.mmr, f"mmr{m}"),
        )
        for m, (x, y) in enumerate(zip(before.shares, after.shares, strict=True))
    )
    owed = tuple(
        keep(x, y, f"owed{m}") for m, (x, y) in enumerate(zip(before.owed, after.owed, strict=True))
    )
    return RiskVars(
        keep(before.tav, after.tav, "tav"),
        keep(before.imr, after.imr, "imr"),
        keep(before.mmr, after.mmr, "mmr"),
        owed,
        shares=shares,
    )


def _get_traded(step: StepVars) -> tuple[LC, ...]:
    """The step's market one-hot, exactly one 1: market 0 where the step selects none (a noop;
    its changes are 0, so the rewritten leaf is market 0's own)."""
    _, *rest = step.selected
    return (1 - weighted_sum([1] * len(rest), rest), *rest)


def _rewrite_traded(
    cs: Builder,
    traded: tuple[LC, ...],
    positions: tuple[PositionLeafVars, ...],
    tree: tuple[tuple[LC, ...], ...],
    changes: tuple[PositionLeafVars, ...],
) -> TradedPosition:
    """A side's position in the ``traded`` market (one-hot) before and after the operations'
    ``changes``, and its positions root after: that market's leaf rewritten along its path in
    ``tree`` (``rewrite_position_leaf``). Sound because each change is 0 outside the traded
    market: a fill makes each market's change ``selected_m`` times the traded one's
    (``fill_unit._position_changes``), so the sum over the markets is the traded market's."""
    old = PositionLeafVars(
        *(pick(cs, traded, [getattr(p, f) for p in positions], f"old_{f}") for f in POSITION_FIELDS)
    )
    if not changes:
        return TradedPosition(old, old, tree[-1][0])
    new = PositionLeafVars(
        *(getattr(old, f) + sum((getattr(d, f) for d in changes), ZERO) for f in POSITION_FIELDS)
    )
    leaf = compute_position_leaf(cs, new)
    return TradedPosition(old, new, rewrite_position_leaf(cs, tree, traded, leaf))


def _pick_market(
    cs: Builder, traded: tuple[LC, ...], markets: tuple[MarketVars, ...]
) -> MarketRiskVars:
    """What the risk reads of the traded market (one-hot ``traded``; CMR not read)."""
    risks = [get_market_risk(m) for m in markets]
    with cs.scope("traded_market"):
        return MarketRiskVars(
            *(
                pick(cs, traded, [getattr(r, f) for r in risks], f)
                for f in ("mark_price", "funding_index", "imf", "mmf")
            )
        )


def _compute_risk_after(
    cs: Builder, slot: SlotVars, positions: tuple[PositionLeafVars, ...], collateral: LC
) -> RiskVars:
    """A side's risk after the slot: every market's position (new or tried) at the marks."""
    return compute_account_risk(cs, slot.preset, collateral, positions, slot.markets)


def _compute_traded_risk_after(
    cs: Builder,
    slot: SlotVars,
    market: tuple[tuple[LC, ...], MarketRiskVars],
    side: tuple[RiskVars, TradedPosition, tuple[PositionLeafVars, ...]],
    collateral_change: LC,
) -> RiskVars:
    """A side's risk after a one-market slot: its risk before with the traded market's share
    (picked from before's) replaced by the share of its position after (new, or tried: the
    trial's changes, 0 outside the traded market too, added), and the collateral's change
    (``replace_share``: exact, the rules summing per-market ceilings)."""
    (traded, market_risk), (before, position, trial) = market, side
    tried = PositionLeafVars(
        *(
            getattr(position.new, f) + sum((getattr(d, f) for d in trial), ZERO)
            for f in POSITION_FIELDS
        )
    )
    tav, imr, mmr = (
        pick(cs, traded, [getattr(s, f) for s in before.shares], f"old_{f}")
        for f in ("tav", "imr", "mmr")
    )
    old = RiskVars(tav, imr, mmr)
    with cs.scope("risk"):
        new = compute_position_risk(
            cs,
            RiskWidths.of(slot.preset),
            PositionVars(tried.size, tried.funding_index, tried.imf),
            market_risk,
        )
    return replace_share(before, collateral_change, old, new)


def _check_risk(
    cs: Builder,
    slot: SlotVars,
    side: str,
    before: RiskVars,
    compute_after: Callable[[], RiskVars],
    checked: LC,
    fails: LC = ZERO,
) -> RiskVars:
    """``require_valid_risk_change`` of A (``side`` "a") or B when ``checked``: its risk after
    the slot (new collateral and positions at the block's marks: ``compute_after``, in the
    side's scope) against its risk ``before`` (``valid_risk_change``, ``b_valid_risk_change``);
    when ``fails``, the rule must fail instead (``b_risk_fails``: a maker cancelled because its
    fill fails it; ``a_risk_fails``: a taker ended because it fails its own)."""
    with cs.scope(f"{side}_risk_after"):
        after = compute_after()
        valid = is_valid_risk_change(cs, slot.preset, before, after)
    name = "valid_risk_change" if side == "a" else f"{side}_valid_risk_change"
    cs.assert_mul(checked, 1 - valid, ZERO, name)
    if fails is not ZERO:
        cs.assert_mul(fails, valid, ZERO, f"{side}_risk_fails")
    return after


def _check_absorbs(
    cs: Builder, slot: SlotVars, b_after: RiskVars, absorbs: LC, cannot_absorb: LC
) -> None:
    """``liquidation.is_takeover_possible`` (``compute_takeover_risk``), B the fund: the sum of
    A's and B's TAVs before the slot against the MMR of B after it, whose positions are then the
    merged ones (a takeover's, moved; a deleverage's, A's added as trial positions). Holds when
    ``absorbs`` (a takeover: ``fund_absorbs``), fails when ``cannot_absorb`` (a deleverage of
    another account than the fund: ``fund_cannot_absorb``)."""
    assert slot.b_risk is not None
    widths = RiskWidths.of(slot.preset)
    with cs.scope("absorbs"):
        bits = max(widths.tav + 1, widths.margin)
        both = slot.a_risk.tav + slot.b_risk.tav
        short = signed_less_than(cs, both, b_after.mmr, bits)
    cs.assert_mul(absorbs, short, ZERO, "fund_absorbs")
    cs.assert_mul(cannot_absorb, 1 - short, ZERO, "fund_cannot_absorb")


def _define_ops(
    cs: Builder, kind: SlotKind, slot: SlotVars, selectors: dict[int, LC]
) -> list[Effect]:
    effects = []
    for op in kind.ops:
        on = selectors[op.op_type]
        with cs.scope(op.name):
            effects.append(op.define(cs, slot, on))
            cs.assert_mul(on, slot.record.sum_outside(op.fields), ZERO, "unused_bytes_zero")
    return effects


def _define_expiry(cs: Builder, preset: Preset, timestamp: LC, w: SlotWitness | None) -> LC:
    """``check_signed_tx``'s expiry checks: ``timestamp <= expiry < 2^timestamp_bits``."""
    with cs.scope("expiry"):
        expiry = cs.private("expiry", None if w is None else w.expiry)
        assert_range(cs, expiry, preset.timestamp_bits)
        with cs.scope("not_expired"):
            assert_range(cs, expiry - timestamp, preset.timestamp_bits)
    return expiry


def _compute_message(cs: Builder, head: list[LC], signed: list[SignedPayload]) -> LC:
    """``protocol.signing.compute_tx_message`` of the enabled signed operation (0 if none):
    one sponge, its length tag and its digest (the block its input ends in) chosen by the
    selectors."""
    width = max(len(s.payload) for s in signed)
    payload = [
        sum((s.payload[j] for s in signed if j < len(s.payload)), ZERO) for j in range(width)
    ]
    lengths = [MESSAGE_HEAD + len(s.payload) for s in signed]
    tags = [sponge_tag(DOMAIN_L2_TX, n) for n in lengths]
    digests = compute_sponge_digests(cs, weighted_sum(tags, [s.on for s in signed]), head + payload)
    ends = [-(-n // SPONGE_RATE) - 1 for n in lengths]  # the block each input ends in
    message = ZERO
    for end in sorted(set(ends)):
        on = sum((s.on for s, e in zip(signed, ends, strict=True) if e == end), ZERO)
        message = message + cs.mul(on, digests[end], f"digest_after_block{end}")
    return message


def _define_signature(
    cs: Builder,
    chain_id: int,
    slot: SlotVars,
    expiry: LC,
    effects: list[Effect],
    w: SlotWitness | None,
) -> None:
    signed = [e.signed for e in effects if e.signed is not None]
    is_signed = sum((s.on for s in signed), ZERO)
    with cs.scope("signature"):
        a = slot.a
        head = [constant(chain_id), slot.record.bytes[0], a.index, a.nonce, expiry]
        message = _compute_message(cs, head, signed)
        dummy = get_dummy_signature()[0]
        pk_x = dummy.x + cs.mul(is_signed, a.pubkey.x - dummy.x, "key_x")
        pk_y = dummy.y + cs.mul(is_signed, a.pubkey.y - dummy.y, "key_y")
        sig = None if w is None else (w.signature.R.x, w.signature.R.y, w.signature.s)
        r_x, r_y, s = alloc_private(cs, ("r_x", "r_y", "s"), sig)
        assert_valid_signature(
            cs, PointVar(pk_x, pk_y), message, SignatureVar(PointVar(r_x, r_y), s)
        )


def _apply_effect(
    a: AccountVars, b: AccountVars, e: Effect, a_positions_root: LC, b_positions_root: LC
) -> tuple[AccountVars, AccountVars]:
    a_new = AccountVars(
        a.index,
        a.exists + e.a_exists,
        a.owner + e.a_owner,
        PointVar(a.pubkey.x + e.a_pubkey[0], a.pubkey.y + e.a_pubkey[1]),
        a.nonce + e.a_nonce,
        a.collateral + e.a_collateral,
        a_positions_root,
        a.open_orders + e.a_open_orders,
        a.pool_shares + e.a_pool_shares,
        a.cancel_epoch + e.a_cancel_epoch,
    )
    b_new = replace(
        b,
        collateral=b.collateral + e.b_collateral,
        positions_root=b_positions_root,
        open_orders=b.open_orders + e.b_open_orders,
        pool_shares=b.pool_shares + e.b_pool_shares,
    )
    return a_new, b_new


# the accounts the block's end credits (``protocol.state.ACCRUED_SUMS``): each one's name, index
# and its running collateral's and block sum's fields in ``BlockVars``
RESERVED_SUMS = (
    ("fee_account", FEE_ACCOUNT, "fee_account_collateral", "fees"),
    ("funding_pool", FUNDING_POOL, "funding_pool_collateral", "funding"),
    ("insurance_fund", INSURANCE_FUND, "insurance_fund_collateral", "insurance"),
)


def _track_reserved(
    cs: Builder, preset: Preset, running: BlockVars, old: AccountVars, new: AccountVars
) -> BlockVars:
    """``set_collateral`` of an account the slot writes (A, then B): ``|collateral| <
    2^collateral_bits``, counting what the block's end will credit it (the block's fees for
    the fee account, its funding for the funding pool, its liquidation spreads for the
    insurance fund). If it is one of those three, its collateral before is the running copy's
    (``fee_account_tracked``, ``funding_pool_tracked``, ``insurance_fund_tracked``) and the
    copy takes its new one."""
    copies, credits = {}, []
    for name, index, copy_field, sum_field in RESERVED_SUMS:
        copy = getattr(running, copy_field)
        is_it = is_equal(cs, old.index, constant(index))
        cs.assert_mul(is_it, old.collateral - copy, ZERO, f"{name}_tracked")
        credits.append(cs.mul(is_it, getattr(running, sum_field), f"accrued_{sum_field}"))
        copies[copy_field] = copy + cs.mul(is_it, new.collateral - copy, name)
    n = preset.collateral_bits
    assert_range(cs, new.collateral + sum(credits, ZERO) + (1 << n), n + 1)
    return replace(running, **copies)


def _check_accrued(cs: Builder, preset: Preset, running: BlockVars) -> None:
    """``State.check_accrued`` at the end of a heavy slot: the collateral of the fee account,
    the funding pool and the insurance fund plus the block's sums for them stay in range."""
    n = preset.collateral_bits
    for name, _, copy_field, sum_field in RESERVED_SUMS:
        with cs.scope(f"{name}_credit"):
            total = getattr(running, copy_field) + getattr(running, sum_field)
            assert_range(cs, total + (1 << n), n + 1)


def _add_market_data(
    markets: tuple[MarketVars, ...], changes: tuple[tuple[int, tuple[LC, ...]], ...]
) -> tuple[MarketVars, ...]:
    """The running markets with each ``(lane, changes)`` pair's changes added to that data lane
    of each market (open interest, the round lane, the trigger nonce; () adds nothing)."""
    for lane, deltas in changes:
        if deltas:
            markets = tuple(
                replace(m, data=tuple(v + c if i == lane else v for i, v in enumerate(m.data)))
                for m, c in zip(markets, deltas, strict=True)
            )
    return markets


def _check_b_orders_field(
    cs: Builder, preset: Preset, a: AccountVars, b: AccountVars, a_new: AccountVars
) -> LC:
    """B's open-order count and cancel epoch split its packed leaf input one way: when B is
    another account, each in its range (``check_orders_field``, on the values times 1); when B
    is A (its leaf A's new one, which the slot's path check binds), its epoch is A's new
    epoch (``epoch_follows_a``), so its count is A's new count too. (A's new fields come from
    A's checked ones and the operation's effect; a count a cheat takes below 0 fails at the
    operation's own constraint, not here.) Returns 1 when B is A, else 0."""
    same = is_equal(cs, a.index, b.index)
    cs.assert_mul(same, b.cancel_epoch - a_new.cancel_epoch, ZERO, "epoch_follows_a")
    apart = AccountVars(
        *(b.index, b.exists, b.owner, b.pubkey, b.nonce, b.collateral, b.positions_root),
        cs.mul(1 - same, b.open_orders, "open_orders_apart"),
        b.pool_shares,
        cs.mul(1 - same, b.cancel_epoch, "cancel_epoch_apart"),
    )
    check_orders_field(cs, preset, apart)
    return same


def update_account(
    cs: Builder, old: AccountVars, new: AccountVars, siblings: list[LC], identity_changes: bool
) -> tuple[PathUpdate, LC]:
    """``old`` becoming ``new`` through one path (``PathUpdate``: the roots before and after)
    and the new leaf's identity hash."""
    with cs.scope("old"):
        identity = compute_identity_hash(cs, old)
        old_leaf = compute_account_leaf(cs, old.exists, identity, compute_balance_hash(cs, old))
    with cs.scope("new"):
        if identity_changes:
            identity = compute_identity_hash(cs, new)
        new_leaf = compute_account_leaf(cs, new.exists, identity, compute_balance_hash(cs, new))
    return update_path(cs, old.index, siblings, old_leaf, new_leaf), identity


def _update_carried(cs: Builder, carried: CarriedAccountVars, new: AccountVars) -> LC:
    """The account root after the carried A (``CarriedAccountVars``) becomes ``new``: its leaf
    was hashed and its path opened by the slot before, so only the new leaf and root are
    computed (a claim changes no identity field)."""
    with cs.scope("new"):
        balance = compute_balance_hash(cs, new)
        leaf = compute_account_leaf(cs, new.exists, carried.identity, balance)
    with cs.scope("merkle_update/new"):
        return compute_root_from_bits(cs, leaf, carried.bits, carried.siblings)


def carry_account(
    cs: Builder,
    same: LC,
    a: tuple[AccountVars, PathUpdate, list[LC]],
    b: tuple[AccountVars, PathUpdate],
) -> tuple[AccountVars, list[LC]]:
    """A's leaf fields and siblings once B's write, after A's, is made, given A's new fields,
    its path update and its siblings before, and B's new fields and path update: A's leaf is
    B's new one when B is A (``same``: the balance fields B's effects change picked; the
    identity and the epoch B keeps are A's new ones, ``epoch_follows_a``), and its siblings
    are those B's write left (``siblings_after``)."""
    (a_new, a_update, a_siblings), (b_new, b_update) = a, b

    def pick(name: str) -> LC:
        x, y = getattr(a_new, name), getattr(b_new, name)
        return x + cs.mul(same, y - x, name)

    account = replace(
        a_new,
        collateral=pick("collateral"),
        positions_root=pick("positions_root"),
        open_orders=pick("open_orders"),
        pool_shares=pick("pool_shares"),
    )
    return account, siblings_after(cs, a_update.bits, a_siblings, b_update)


def define_slot(
    cs: Builder,
    preset: Preset,
    chain_id: int,
    timestamp: LC,
    running: BlockVars,
    kind: SlotKind,
    w: SlotWitness | None,
    carries: bool = False,
) -> tuple[LC, LC, RecordVars, BlockVars]:
    """One slot of ``kind``: ``(account root before, account root after, its record, the
    running values after it)``. The money-path operations leave the book and the markets
    alone. ``carries``: a heavy slot before a claim slot, which leaves A as it leaves it in
    the running values (``BlockVars.carried``: A's positions, their tree, its risk, its leaf
    and path); a claim slot takes A from there, when given, instead of reading it (its
    account root before is then the root the carry came with)."""
    depth = preset.account_tree_depth
    if w is not None and w.record[0] not in kind.op_types:
        raise ValueError(f"a {kind.name} slot cannot prove an operation of type {w.record[0]}")
    selectors = _alloc_selectors(cs, kind, None if w is None else w.record[0])
    carried = running.carried if kind.one_market else None
    with cs.scope("a"):
        if carried is None:
            a, a_siblings = alloc_account(cs, preset, None if w is None else w.a)
            record_bits = to_bits(cs, a.index, depth)
        else:
            a, record_bits = _read_carried(cs, carried, selectors[OpType.CLAIM])
    with cs.scope("b"):
        # B's split is checked after the operations (``_check_b_orders_field``)
        b, b_siblings = alloc_account(cs, preset, None if w is None else w.b, ranges=False)
    type_byte = weighted_sum(list(selectors), list(selectors.values()))
    record = _alloc_record(cs, kind, type_byte, record_bits, None if w is None else w.record)
    if carried is None:
        with cs.scope("a_positions"):
            fields = None if w is None else w.a_positions
            positions, a_tree = _alloc_positions(cs, preset, a, fields)
    else:
        positions, a_tree = carried.positions, carried.tree
    with cs.scope("a_checks"):
        owner_matches = is_equal(cs, a.owner, record.field(*OWNER))
        rule_only = _is_rule_only(cs, a.index)
    if carried is None:
        with cs.scope("a_risk"):  # with CMR in a heavy slot: a liquidation reads it
            risk = compute_account_risk(
                cs, preset, a.collateral, positions, running.markets, kind.with_cmr
            )
    else:  # the positions' part valued by the slot before, A's collateral its own read
        risk = replace(carried.risk, tav=a.collateral + carried.risk.tav)
    book = b_risk = None
    b_positions: tuple[PositionLeafVars, ...] = ()
    b_tree: tuple[tuple[LC, ...], ...] = ((),)
    if kind.has_book:
        book_w = None if w is None else (w.book or BookWitness.unused(preset))
        book = alloc_book_unit(cs, preset, book_w, trigger_order.CIRCUIT in kind.ops)
        with cs.scope("b_positions"):
            fields = None if w is None else w.b_positions
            b_positions, b_tree = _alloc_positions(cs, preset, b, fields)
        with cs.scope("b_risk"):
            b_risk = compute_account_risk(cs, preset, b.collateral, b_positions, running.markets)
        if any(op in kind.ops for op in POOL_OPS):
            with cs.scope("pool_shares"):  # what the pool-share operations compare and divide
                check_share_count(cs, preset, a.pool_shares, "a")
                check_share_count(cs, preset, b.pool_shares, "b")
    slot = SlotVars(
        *(preset, record, a, b, owner_matches, rule_only),
        *(running.markets, positions, a_tree[0], risk, book, timestamp),
        *(b_positions, b_tree[0], b_risk, running.taker),
        running.round_accounts if kind.has_book else (),
    )
    if any(op in kind.ops for op in OPEN_ROUND_OPS):
        opens = [selectors[op.op_type] for op in OPEN_ROUND_OPS]
        round_on = weighted_sum([1] * len(opens), opens)
        slot = with_round(cs, slot, round_on, None if w is None else w.round)
    effects = _define_ops(cs, kind, slot, selectors)
    effect = reduce(_add_effects, effects)
    # a pending taker lets only a claim follow (PendingTaker). None can be pending before the
    # block's first slot, nor after its heavy ones (``heavy_end``), so a light slot checks none.
    if running.taker is not NO_TAKER:
        claim_on = selectors.get(OpType.CLAIM, ZERO)
        cs.assert_mul(running.taker.active, 1 - claim_on, ZERO, "only_claims_while_pending")
    traded = None
    if kind.one_market:
        if effect.step is None:
            raise ValueError(f"a {kind.name} slot moves positions in its step's market only")
        traded = _get_traded(effect.step)
    choice = None if w is None else tuple(int(getattr(w, name)) for name in STEP_CHOICES)
    effect, taker = apply_step(cs, slot, effect, choice)
    effect = apply_move(cs, slot, effect)
    if any(e.signed is not None for e in effects):  # a kind without signed operations: none
        expiry = _define_expiry(cs, preset, timestamp, w)
        _define_signature(cs, chain_id, slot, expiry, effects, w)
    if traded is None:
        with cs.scope("a_new_positions"):
            a_new_positions, a_root, a_new_tree = _update_positions(
                cs, positions, a.positions_root, a_tree, effect.a_positions
            )
        with cs.scope("b_new_positions"):
            b_new_positions, b_root, _ = _update_positions(
                cs, b_positions, b.positions_root, b_tree, effect.b_positions
            )
    else:
        with cs.scope("a_new_positions"):
            a_traded = _rewrite_traded(cs, traded, positions, a_tree, effect.a_positions)
        with cs.scope("b_new_positions"):
            b_traded = _rewrite_traded(cs, traded, b_positions, b_tree, effect.b_positions)
        a_root, b_root = a_traded.root, b_traded.root
        if carried is not None:  # a noop's A is not the carried taker: its root kept
            a_root = select(cs, selectors[OpType.CLAIM], a_root, a.positions_root)
    a_new, b_new = _apply_effect(a, b, effect, a_root, b_root)
    running = replace(
        running,
        taker=taker,
        fees=running.fees + effect.fees,
        funding=running.funding + effect.funding,
        insurance=running.insurance + effect.insurance,
        markets=_add_market_data(
            running.markets,
            (
                (DATA_OPEN_INTEREST, effect.open_interest),
                (DATA_ROUND, effect.round_lanes),
                (DATA_TRIGGER_NONCE, effect.trigger_nonces),
            ),
        ),
        round_accounts=_add_sums(running.round_accounts, effect.round_accounts),
    )
    with cs.scope("a_collateral"):
        running = _track_reserved(cs, preset, running, a, a_new)
    with cs.scope("b_collateral"):
        running = _track_reserved(cs, preset, running, b, b_new)
    # each side's risk after the slot, or after a fill tried (and not applied)
    collateral = a_new.collateral + effect.a_trial_collateral
    if traded is None:
        tried = _add_positions(a_new_positions, effect.a_trial_positions)
        a_after = partial(_compute_risk_after, cs, slot, tried, collateral)
    else:
        traded_market = _pick_market(cs, traded, running.markets)
        a_after = partial(
            _compute_traded_risk_after,
            cs,
            slot,
            (traded, traded_market),
            (risk, a_traded, effect.a_trial_positions),
            collateral - a.collateral,
        )
    checked, fails = effect.a_risk_checked, effect.a_risk_fails
    a_risk_after = _check_risk(cs, slot, "a", risk, a_after, checked, fails)
    kept = None
    if carries:
        if traded is not None:
            raise ValueError("only a heavy slot carries its taker")
        with cs.scope("carried"):
            after = replace(a_risk_after, tav=a_risk_after.tav - collateral)
            before = replace(risk, tav=risk.tav - a.collateral)
            kept = _keep_risk(cs, effect.b_risk_fails, before, after)
    running = replace(running, carried=None)
    if b_risk is not None:
        collateral = b_new.collateral + effect.b_trial_collateral
        if traded is None:
            tried = _add_positions(b_new_positions, effect.b_trial_positions)
            b_after_of = partial(_compute_risk_after, cs, slot, tried, collateral)
        else:
            b_after_of = partial(
                _compute_traded_risk_after,
                cs,
                slot,
                (traded, traded_market),
                (b_risk, b_traded, effect.b_trial_positions),
                collateral - b.collateral,
            )
        checked, fails = effect.b_risk_checked, effect.b_risk_fails
        b_after = _check_risk(cs, slot, "b", b_risk, b_after_of, checked, fails)
        absorbs, cannot_absorb = effect.b_absorbs_a, effect.b_cannot_absorb_a
        if not (_is_constant_zero(absorbs) and _is_constant_zero(cannot_absorb)):
            _check_absorbs(cs, slot, b_after, absorbs, cannot_absorb)
        _check_accrued(cs, preset, running)
    if book is not None:
        book_root = finish_book_unit(
            cs,
            preset,
            book,
            effect.uses_book,
            effect.order,
            effect.book_nonces,
            running.book_root,
            effect.trigger,
        )
        running = replace(running, book_root=book_root)
    changes = (effect.a_exists, effect.a_owner, *effect.a_pubkey, effect.a_nonce)
    identity_changes = not all(_is_constant_zero(c) for c in changes)
    with cs.scope("a"):
        if carried is None:
            a_update, identity = update_account(cs, a, a_new, a_siblings, identity_changes)
            old_root, a_root = a_update.old_root, a_update.new_root
        elif identity_changes:
            raise ValueError(f"a {kind.name} slot changes no account's identity")
        else:  # A's leaf as the slot before left it: its root is the slot's old root
            old_root, a_root = carried.root, _update_carried(cs, carried, a_new)
    with cs.scope("b"):
        same = _check_b_orders_field(cs, preset, a, b, a_new)
        b_update, _ = update_account(cs, b, b_new, b_siblings, identity_changes=False)
        cs.assert_equal(b_update.old_root, a_root, "follows_a")
    if kept is not None:
        with cs.scope("carried"):
            account, siblings = carry_account(
                cs, same, (a_new, a_update, a_siblings), (b_new, b_update)
            )
        carry = CarriedAccountVars(
            *(a_new_positions, a_new_tree, kept, account, identity),
            *(tuple(a_update.bits), tuple(siblings), b_update.new_root),
        )
        running = replace(running, carried=carry)
    return old_root, b_update.new_root, record, running


def with_round(cs: Builder, slot: SlotVars, on: LC, values: tuple[int, ...] | None) -> SlotVars:
    """``slot`` with the round of the record's market opened (``adl_round.open_round``) when
    ``on``; ``values``: the round's seven fields, signed (() for none; None in setup mode)."""
    fields = None if values is None else [v % R for v in (values or (0,) * len(ADL_FIELDS))]
    return replace(slot, round=open_round(cs, slot, on, slot.record.field(*ROUND_MARKET), fields))


def apply_move(cs: Builder, slot: SlotVars, effect: Effect) -> Effect:
    """The effect with the lots its round operation moves added (``adl_round.
    apply_round_move``, once a slot); unchanged in a slot without a round operation."""
    if effect.round_move is None:
        return effect
    with cs.scope("round_move"):
        moved = apply_round_move(cs, slot, effect.round_move)
    return _add_effects(replace(effect, round_move=None), moved)


def _is_constant_zero(x: LC) -> bool:
    """``x`` is the constant 0: no operation of the slot's kind changes that field."""
    return x.is_constant and x.constant_value == 0


def apply_step(
    cs: Builder, slot: SlotVars, effect: Effect, choice: tuple[int, ...] | None = NO_CHOICE
) -> tuple[Effect, TakerOrderVars]:
    """The slot's matching step (the operations' steps added up): the effect with the step's
    added, and the taker it leaves pending (none in a slot without a step). ``choice``: the
    witness's bits (``STEP_CHOICES``; None in setup mode). A taker an operation hands over
    without a step (``Effect.pending``) is added to the step's."""
    handed = effect.pending or NO_TAKER  # a taker handed over without a step
    effect = replace(effect, pending=None)
    if effect.step is None:
        return effect, handed
    step_effect, taker = define_step(cs, slot, effect.step, choice)
    return _add_effects(replace(effect, step=None), step_effect), taker.plus(handed)


def _add_effects(x: Effect, y: Effect) -> Effect:
    return Effect(
        x.a_collateral + y.a_collateral,
        x.a_nonce + y.a_nonce,
        x.a_owner + y.a_owner,
        x.a_exists + y.a_exists,
        (x.a_pubkey[0] + y.a_pubkey[0], x.a_pubkey[1] + y.a_pubkey[1]),
        x.b_collateral + y.b_collateral,
        x.a_risk_checked + y.a_risk_checked,
        _add_positions(x.a_positions, y.a_positions),
        x.a_open_orders + y.a_open_orders,
        x.uses_book + y.uses_book,
        add_orders(x.order, y.order),
        (x.book_nonces[0] + y.book_nonces[0], x.book_nonces[1] + y.book_nonces[1]),
        None,
        _add_positions(x.b_positions, y.b_positions),
        x.b_open_orders + y.b_open_orders,
        x.b_risk_checked + y.b_risk_checked,
        x.fees + y.fees,
        x.funding + y.funding,
        _add_sums(x.open_interest, y.open_interest),
        _add_steps(x.step, y.step),
        _add_pending(x.pending, y.pending),
        _add_positions(x.b_trial_positions, y.b_trial_positions),
        x.b_trial_collateral + y.b_trial_collateral,
        x.b_risk_fails + y.b_risk_fails,
        _add_positions(x.a_trial_positions, y.a_trial_positions),
        x.a_trial_collateral + y.a_trial_collateral,
        x.a_risk_fails + y.a_risk_fails,
        x.a_pool_shares + y.a_pool_shares,
        x.b_pool_shares + y.b_pool_shares,
        x.a_cancel_epoch + y.a_cancel_epoch,
        x.trigger.plus(y.trigger),
        x.b_absorbs_a + y.b_absorbs_a,
        x.insurance + y.insurance,
        x.b_cannot_absorb_a + y.b_cannot_absorb_a,
        _add_sums(x.round_lanes, y.round_lanes),
        _add_sums(x.round_accounts, y.round_accounts),
        _add_moves(x.round_move, y.round_move),
        _add_sums(x.trigger_nonces, y.trigger_nonces),
    )


def _add_steps(x: StepVars | None, y: StepVars | None) -> StepVars | None:
    if x is None or y is None:
        return x or y
    return StepVars(
        x.on + y.on,
        x.taker.plus(y.taker),
        _add_sums(x.selected, y.selected),
        x.maker + y.maker,
        x.size + y.size,
        x.may_end + y.may_end,
        x.rests_at_once + y.rests_at_once,
    )


def _add_moves(x: RoundMove | None, y: RoundMove | None) -> RoundMove | None:
    if x is None or y is None:
        return x or y
    return x.plus(y)


def _add_pending(x: TakerOrderVars | None, y: TakerOrderVars | None) -> TakerOrderVars | None:
    if x is None or y is None:
        return x or y
    return x.plus(y)


def _add_sums(x: tuple[LC, ...], y: tuple[LC, ...]) -> tuple[LC, ...]:
    if not x or not y:
        return x or y
    return tuple(p + q for p, q in zip(x, y, strict=True))


def _add_positions(
    x: tuple[PositionLeafVars, ...], y: tuple[PositionLeafVars, ...]
) -> tuple[PositionLeafVars, ...]:
    if not x or not y:
        return x or y
    return tuple(
        PositionLeafVars(
            p.size + q.size,
            p.entry_quote + q.entry_quote,
            p.funding_index + q.funding_index,
            p.imf + q.imf,
        )
        for p, q in zip(x, y, strict=True)
    )
