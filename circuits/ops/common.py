"""What every slot of the block circuit shares: the twin of ``protocol/ops/common.py`` (the
signer's checks), of the account leaf of ``protocol/commitment.py`` and of the pubdata record
layout of ``protocol/pubdata.py``.

A slot is *generic* (docs/PROTOCOL.md section 8.C): it always runs the same heavy units — two
account-leaf updates (A: the operation's account; B: a transfer's receiver, else A again,
unchanged), one L2 signature check and one key decoder — and each operation type adds only its
own cheap arithmetic, enabled by its selector bit ``on`` (one-hot over the types). An operation
reports what it does as an :class:`Effect`: amounts to add to A's and B's fields, each already
multiplied by ``on`` (so the disabled operations add zero), and, if it is L2-signed, the
payload of its signed message. The slot adds the effects up; a new operation type costs its own
arithmetic and nothing in the shared units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from circuits.gadgets.book_tree import OrderVars
from circuits.gadgets.commitment import MarketVars
from circuits.gadgets.equality import is_equal, is_zero
from circuits.gadgets.jubjub import PointVar
from circuits.gadgets.poseidon import hash2, hash4, permute
from circuits.gadgets.positions import PositionLeafVars, SignVars
from circuits.gadgets.risk import MarketRiskVars, PositionVars, RiskVars, compute_risk
from circuits.ops.book_unit import NO_TRIGGER, BookUnitVars, TriggerChange
from circuits.r1cs import ZERO, Builder, LinearCombination, constant, weighted_sum
from protocol.commitment import MARKET_DATA_LANES
from protocol.field import inv
from protocol.markets import MarketParams, TriggerOrder
from protocol.ops import deposit
from protocol.ops.descriptor import Descriptor
from protocol.params import OPEN_ORDERS_BITS, Preset
from protocol.poseidon import SPONGE_RATE
from protocol.pubdata import OP_BYTES, Origin
from protocol.smt import empty_hashes

LC = LinearCombination

# (first byte, length) of the fields every record that has them carries at the same place
# (tests/protocol/test_operation_layers.py checks it): A's index, and its owner.
ACCOUNT = deposit.RECORD.offset("account")
OWNER = deposit.RECORD.offset("owner")
RECORD_BYTES = OP_BYTES


def empty_positions_root(preset: Preset) -> int:
    """The positions root of an account without positions (an empty SMT)."""
    return empty_hashes(preset.market_tree_depth)[-1]


# -- accounts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountVars:
    """The fields of one account leaf (docs/PROTOCOL.md 6.6); ``exists`` is 0 for an empty
    leaf, whose fields are then free unless an operation creates the account."""

    index: LC
    exists: LC
    owner: LC
    pubkey: PointVar
    nonce: LC
    collateral: LC  # signed, as v mod r
    positions_root: LC
    open_orders: LC  # below 2^OPEN_ORDERS_BITS (``alloc_account`` checks it)
    pool_shares: LC
    cancel_epoch: LC = ZERO  # below 2^account_nonce_bits; packed with open_orders (6.2)

    def orders_field(self) -> LC:
        """The balance half's third input: ``open_orders + cancel_epoch << OPEN_ORDERS_BITS``."""
        return self.open_orders + self.cancel_epoch * (1 << OPEN_ORDERS_BITS)


def compute_identity_hash(cs: Builder, a: AccountVars) -> LC:
    """``hash4(owner, pubkey_x, pubkey_y, nonce)``: the leaf's identity half."""
    with cs.scope("identity"):
        return hash4(cs, a.owner, a.pubkey.x, a.pubkey.y, a.nonce)


def compute_balance_hash(cs: Builder, a: AccountVars) -> LC:
    """``hash4(collateral, positions_root, open_orders + cancel_epoch << 16, pool_shares)``: the
    balance half."""
    with cs.scope("balance"):
        return hash4(cs, a.collateral, a.positions_root, a.orders_field(), a.pool_shares)


def compute_account_leaf(cs: Builder, exists: LC, identity: LC, balance: LC) -> LC:
    """``protocol.commitment.compute_account_leaf`` for an existing account, else 0."""
    with cs.scope("leaf"):
        return cs.mul(exists, hash2(cs, identity, balance), "exists_times_hash")


@dataclass(frozen=True)
class TakerOrderVars:
    """A taker order between two matching steps (``protocol.state.Taker``, PROTOCOL 8.C): set
    by a step that filled and left it size, read by the claim that takes the next step. Every
    field is 0 when no taker is pending (``active`` 0); each step's own taker is given the same
    way, every field multiplied by that step's selector."""

    active: LC
    account: LC
    market: LC
    is_ask: LC
    limit: LC  # the limit price; a market order's worst price clamped into the band
    remaining: LC
    rests: LC  # the remainder rests when nothing crosses any more (not IOC)
    reduce_only: LC
    expiry: LC  # the resting remainder's GTT expiry, 0 for none
    steps: LC = ZERO  # matching steps taken (the step limit: ``Preset.trading_slots``)
    post_only: LC = ZERO  # never takes (a modified order, which its claim only rests)
    # a liquidation's zero price, which the account is charged instead of the fill price,
    # without a taker fee or its risk rule (``Taker.zero_price``); 0 for any other taker
    zero_price: LC = ZERO

    @classmethod
    def none(cls) -> TakerOrderVars:
        return cls(*[ZERO] * len(fields(cls)))

    def plus(self, other: TakerOrderVars) -> TakerOrderVars:
        return TakerOrderVars(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )


NO_TAKER = TakerOrderVars.none()


@dataclass(frozen=True)
class StepVars:
    """One matching step an operation asks of its slot (``protocol.matching.run_step``), every
    field multiplied by the operation's selector, so that the slot adds the operations' steps
    up and runs one step unit (``circuits/ops/step_unit.py``)."""

    on: LC
    taker: TakerOrderVars  # the taker before the step
    selected: tuple[LC, ...]  # its market, one-hot
    maker: LC  # the record's maker account (0 when the step fills nothing)
    size: LC  # the record's filled size (0 when the step fills nothing)
    # 1 when the step may end its taker on the taker's own failure (a claim: ``end_taker``)
    may_end: LC = ZERO
    # 1 for a post-only order, which the rules rest without a matching step (``finish_taker``),
    # so that a deleverage round in its market does not refuse it
    rests_at_once: LC = ZERO


@dataclass(frozen=True)
class CarriedAccountVars:
    """A heavy slot's A as that slot leaves it, for the claim slot after it, whose A it is
    (PROTOCOL 8.C, "Claim slots": the taker carried): its positions per market, their tree's
    levels (``compute_positions_tree``; the root last), and its risk at the block's marks
    without its collateral (``risk.tav`` the positions' part; the shares and the unsettled
    funding per market); its leaf's fields and identity hash, its path's bits and its siblings
    in the account tree the slot leaves, and that tree's root. Valued and hashed by the slot
    that wrote the account, so the claim slot neither reads A's positions nor values them, nor
    opens A's leaf: it computes A's new leaf and the root from it alone."""

    positions: tuple[PositionLeafVars, ...]
    tree: tuple[tuple[LC, ...], ...]
    risk: RiskVars
    account: AccountVars
    identity: LC
    bits: tuple[LC, ...]
    siblings: tuple[LC, ...]
    root: LC


@dataclass(frozen=True)
class BlockVars:
    """What goes from slot to slot besides the account root: the book root, every market's
    leaf fields (opened once per block against the market root), the fees, the funding and the
    liquidation spreads the block's fills accrued, and the collateral of the fee account, the
    funding pool and the insurance fund as the slots leave it (a running copy, checked against
    each slot that reads one of them and against their leaves at the block's end, where the
    sums are credited: PROTOCOL 7.2), and the taker still matching (none at the block's end). A
    slot that writes market data returns new ``markets``; the block recomputes the market
    root."""

    book_root: LC
    markets: tuple[MarketVars, ...]
    fees: LC = ZERO
    funding: LC = ZERO
    fee_account_collateral: LC = ZERO
    funding_pool_collateral: LC = ZERO
    taker: TakerOrderVars = NO_TAKER  # the taker still matching after the slot, if any
    insurance: LC = ZERO
    insurance_fund_collateral: LC = ZERO
    # per market index, 1 + the account of its open deleverage round (0: none), opened from its
    # ``adl_round`` lane once per block (``gadgets.commitment.open_round_account``) and kept
    # equal to the lane's account by every slot that writes a lane
    round_accounts: tuple[LC, ...] = ()
    # A of the slot before, carried into a claim slot right after a heavy one (None elsewhere)
    carried: CarriedAccountVars | None = None


# -- the risk unit -------------------------------------------------------------------------------

# A market leaf's fields in the order it hashes them (6.4)
MARKET_PARAMS = tuple(MarketParams.__dataclass_fields__)
MARKET_DATA = MARKET_DATA_LANES  # the round's fields as one digest (PROTOCOL 6.4)
PARAM_IMF, PARAM_MMF = MARKET_PARAMS.index("imf"), MARKET_PARAMS.index("mmf")
PARAM_CMF = MARKET_PARAMS.index("cmf")
DATA_MARK, DATA_FUNDING_INDEX = MARKET_DATA.index("mark_price"), MARKET_DATA.index("funding_index")
DATA_OPEN_INTEREST = MARKET_DATA.index("open_interest")
DATA_ROUND = MARKET_DATA.index("adl_round")  # the open deleverage round's digest, 0 for none
DATA_TRIGGER_NONCE = MARKET_DATA.index("trigger_nonce")


def get_market_risk(market: MarketVars) -> MarketRiskVars:
    """What the risk unit reads of a market (its mark and funding index, imf, mmf, cmf)."""
    return MarketRiskVars(
        market.data[DATA_MARK],
        market.data[DATA_FUNDING_INDEX],
        market.params[PARAM_IMF],
        market.params[PARAM_MMF],
        market.params[PARAM_CMF],
    )


def compute_account_risk(
    cs: Builder,
    preset: Preset,
    collateral: LC,
    positions: Sequence[PositionLeafVars],
    markets: Sequence[MarketVars],
    with_cmr: bool = False,
) -> RiskVars:
    """TAV, IMR and MMR (and CMR ``with_cmr``) of an account's positions at the block's
    marks."""
    risk_positions = [PositionVars(p.size, p.funding_index, p.imf) for p in positions]
    market_risks = [get_market_risk(m) for m in markets]
    return compute_risk(cs, preset, collateral, risk_positions, market_risks, with_cmr)


def select_market(cs: Builder, slot: SlotVars, on: LC, market: LC) -> list[LC]:
    """One-hot over the market indices when ``on``: the record's market is in the tree
    (``in_tree``) and exists (``exists{m}``); all zero when off."""
    with cs.scope("market"):
        is_market = [is_equal(cs, market, constant(m)) for m in range(len(slot.markets))]
        cs.assert_mul(on, 1 - weighted_sum([1] * len(is_market), is_market), ZERO, "in_tree")
        return select_existing(cs, slot.markets, on, is_market)


def select_existing(
    cs: Builder, markets: Sequence[MarketVars], on: LC, is_market: Sequence[LC]
) -> list[LC]:
    """``on · is_market[m]`` for each market (``selected{m}``), each selected one existing
    (``exists{m}``)."""
    selected = [cs.mul(on, s, f"selected{m}") for m, s in enumerate(is_market)]
    for m, (s, market_vars) in enumerate(zip(selected, markets, strict=True)):
        cs.assert_mul(s, 1 - market_vars.exists, ZERO, f"exists{m}")
    return selected


def pick(cs: Builder, selected: Sequence[LC], values: Sequence[LC], name: str) -> LC:
    """``Σ selected_m · value_m`` (one constraint per market)."""
    picked = [
        cs.mul(s, v, f"{name}{m}") for m, (s, v) in enumerate(zip(selected, values, strict=True))
    ]
    return weighted_sum([1] * len(picked), picked)


@dataclass(frozen=True)
class RoundVars:
    """The open deleverage round of the market a round operation names
    (``circuits/ops/adl_round.py``'s ``open_round``): the sum of the round operations'
    selectors, the market one-hot (times it), its lane, the seven ``adl_*`` fields and the sign
    of ``size``."""

    on: LC
    selected: tuple[LC, ...]
    lane: LC
    account: LC  # 1 + the bankrupt account
    size: LC  # s, signed as the bankrupt account holds it
    total: LC  # S
    price: LC  # signed
    cursor: LC
    seen: LC
    moved: LC
    size_sign: SignVars

    @property
    def fields(self) -> tuple[LC, ...]:
        return (self.account, self.size, self.total, self.price, self.cursor, self.seen, self.moved)


@dataclass(frozen=True)
class RoundMove:
    """The lots a round operation moves from B to A at the round's price (``adl_round.
    apply_round_move``; every field times the operation's selector, and 0 where nothing moves):
    A's lots (signed), their magnitude, 1 when they are negative, 1 when any move."""

    lots: LC
    magnitude: LC
    negative: LC
    moves: LC

    def plus(self, other: RoundMove) -> RoundMove:
        return RoundMove(
            self.lots + other.lots,
            self.magnitude + other.magnitude,
            self.negative + other.negative,
            self.moves + other.moves,
        )


def is_deleveraging(
    cs: Builder, markets: Sequence[MarketVars], selected: Sequence[LC], name: str
) -> LC:
    """1 when the market ``selected`` picks (one-hot; all 0: none) has an open deleverage
    round, its ``adl_round`` lane not 0 (``liquidation.require_no_round``): one constraint per
    market index and ``is_zero``'s."""
    with cs.scope(name):
        lane = pick(cs, selected, [m.data[DATA_ROUND] for m in markets], "lane")
        return 1 - is_zero(cs, lane)


def write_round(
    cs: Builder, selected: Sequence[LC], digest: LC, account: LC
) -> tuple[tuple[LC, ...], tuple[LC, ...]]:
    """A round opened in the market ``selected`` picks (its lane 0 before, as the caller
    proves): what each market's ``adl_round`` lane gains (``digest``) and what its running
    round account gains (``account``, 1 + the bankrupt account's index)."""
    lanes = tuple(cs.mul(s, digest, f"round_lane{m}") for m, s in enumerate(selected))
    accounts = tuple(cs.mul(s, account, f"round_account{m}") for m, s in enumerate(selected))
    return lanes, accounts


# -- the record ----------------------------------------------------------------------------------


class RecordVars:
    """A slot's 64-byte pubdata record: byte 0 is the type (a combination of the selectors),
    bytes 1..6 the bits of A's index, bytes 7..59 boolean wires, bytes 60..63 zero."""

    def __init__(self, type_byte: LC, bits: Sequence[Sequence[LC]]) -> None:
        self.bits = [list(b) for b in bits]  # bits[k]: byte k's 8 bits, least significant first
        self.bytes = [type_byte] + [
            weighted_sum([1 << j for j in range(8)], byte) for byte in self.bits[1:]
        ]

    def field(self, start: int, length: int) -> LC:
        """Bytes ``start .. start+length-1`` read as a big-endian integer."""
        weights = [1 << (8 * (start + length - 1 - k)) for k in range(start, start + length)]
        return weighted_sum(weights, self.bytes[start : start + length])

    def field_bits(self, start: int, length: int) -> list[LC]:
        """The bits of ``field(start, length)``, least significant first."""
        return [bit for k in range(start + length - 1, start - 1, -1) for bit in self.bits[k]]

    def sum_outside(self, fields: Sequence[tuple[int, int]]) -> LC:
        """The sum of bytes 1..63 outside ``fields`` (zero exactly when they all are)."""
        used = {k for start, length in fields for k in range(start, start + length)}
        rest = [self.bytes[k] for k in range(1, RECORD_BYTES) if k not in used]
        return weighted_sum([1] * len(rest), rest)


# -- one operation's part of a slot ---------------------------------------------------------------


@dataclass(frozen=True)
class SlotVars:
    """What the operations of a slot read: the record, A and B before the slot, and the
    comparisons several operations share."""

    preset: Preset
    record: RecordVars
    a: AccountVars
    b: AccountVars
    owner_matches: LC  # 1 when A's owner equals the record's owner field (bytes 7..26)
    a_is_rule_only: LC  # 1 when A is the insurance fund or the funding pool
    markets: tuple[MarketVars, ...]  # the block's running market fields
    a_positions: tuple[PositionLeafVars, ...]  # A's positions, one per market index
    a_position_leaves: tuple[LC, ...]  # their leaves (their tree is A's positions root)
    a_risk: RiskVars  # A's TAV, IMR and MMR before the slot, at the block's marks
    book: BookUnitVars | None  # the order leaf the slot's order-book operation reads; None in a
    # light slot, whose operations do not read it
    timestamp: LC  # the block's
    # B's positions, their leaves and its risk before the slot: read by a fill, whose maker is
    # B (heavy slots only; () and None in a light one)
    b_positions: tuple[PositionLeafVars, ...] = ()
    b_position_leaves: tuple[LC, ...] = ()
    b_risk: RiskVars | None = None
    taker: TakerOrderVars = NO_TAKER  # the taker pending before the slot (only a claim reads it)
    # per market index, 1 + the account of its open deleverage round, 0 for none (the block's
    # running values: ``BlockVars.round_accounts``); () in a slot that does not read them
    round_accounts: tuple[LC, ...] = ()
    round: RoundVars | None = None  # the round a round operation opens (heavy slots only)

    def get_round(self) -> RoundVars:
        if self.round is None:
            raise ValueError("only a heavy slot opens a deleverage round")
        return self.round

    def get_book(self) -> BookUnitVars:
        if self.book is None:
            raise ValueError("a light slot has no book unit")
        return self.book


@dataclass(frozen=True)
class SignedPayload:
    """An L2-signed operation's part of the signed message (protocol/signing.py)."""

    on: LC
    payload: tuple[LC, ...]  # the operation's payload fields, each multiplied by ``on``


@dataclass(frozen=True)
class Effect:
    """What an operation adds to A's and B's fields (zero when it is not the slot's type)."""

    a_collateral: LC = ZERO
    a_nonce: LC = ZERO
    a_owner: LC = ZERO  # set on creation (the owner of an empty leaf is 0)
    a_exists: LC = ZERO
    a_pubkey: tuple[LC, LC] = (ZERO, ZERO)
    b_collateral: LC = ZERO
    # 1 when A must pass the valid-risk-change rule (``require_valid_risk_change``)
    a_risk_checked: LC = ZERO
    # what is added to each of A's positions (one per market index; () adds nothing)
    a_positions: tuple[PositionLeafVars, ...] = ()
    a_open_orders: LC = ZERO
    uses_book: LC = ZERO  # 1 when the operation reads and writes the slot's order leaf
    order: OrderVars | None = None  # what is added to the order leaf's fields (None: nothing)
    book_nonces: tuple[LC, LC] = (ZERO, ZERO)  # what is added to the ask and bid counters
    signed: SignedPayload | None = None
    # B's side of a fill: what is added to its positions and open orders, and whether it must
    # pass the valid-risk-change rule
    b_positions: tuple[PositionLeafVars, ...] = ()
    b_open_orders: LC = ZERO
    b_risk_checked: LC = ZERO
    # what a fill accrues for the fee account and the funding pool (PROTOCOL 7.2), and adds to
    # each market's open interest (() adds nothing)
    fees: LC = ZERO
    funding: LC = ZERO
    open_interest: tuple[LC, ...] = ()
    step: StepVars | None = None  # the matching step the operation runs, if it runs one
    # a taker the operation leaves pending without a step (a modify's re-rested order)
    pending: TakerOrderVars | None = None
    # a fill tried and not made (a maker cancelled because the fill fails its risk rule, or a
    # taker ended because it fails its own or open interest): what it would add to each side's
    # positions and collateral, for that side's risk after only, and 1 when that risk must
    # fail the valid-risk-change rule
    b_trial_positions: tuple[PositionLeafVars, ...] = ()
    b_trial_collateral: LC = ZERO
    b_risk_fails: LC = ZERO
    a_trial_positions: tuple[PositionLeafVars, ...] = ()
    a_trial_collateral: LC = ZERO
    a_risk_fails: LC = ZERO
    # what is added to A's and B's pool shares (a mint's or burn's holder and the fund's supply)
    a_pool_shares: LC = ZERO
    b_pool_shares: LC = ZERO
    a_cancel_epoch: LC = ZERO  # added to A's cancel epoch (a cancel-all's 1)
    # what the operation does to the book unit's trigger leaf (placing a trigger order writes
    # it; cancelling or firing one removes it)
    trigger: TriggerChange = NO_TRIGGER
    # 1 when the sum of A's and B's TAVs before the slot must cover B's maintenance margin
    # after it, ``TAV_A + TAV_B >= MMR_B'`` (a takeover's condition: the merged positions'
    # MMR; moving positions at any price conserves the sum of TAVs)
    b_absorbs_a: LC = ZERO
    insurance: LC = ZERO  # what a liquidation's fill accrues for the insurance fund (7.4)
    # 1 when B after the slot, A's positions added as trial positions, must fall short of its
    # maintenance margin with both TAVs: a deleverage's ``not is_takeover_possible``
    b_cannot_absorb_a: LC = ZERO
    # what is added to each market's round lane and to its running round account (a
    # deleverage opening a round: ``write_round``; a round's end closing it: ``rewrite_lane``;
    # () adds nothing), and the lots a round operation moves (``circuits/ops/adl_round.py``)
    round_lanes: tuple[LC, ...] = ()
    round_accounts: tuple[LC, ...] = ()
    round_move: RoundMove | None = None
    # added to each market's trigger nonce (a placed trigger order's 1; () adds nothing)
    trigger_nonces: tuple[LC, ...] = ()


@dataclass(frozen=True)
class OpCircuit:
    """One operation type in the block circuit (one per module of ``circuits/ops``): its
    descriptor (``protocol/ops/<op>.py``: type, record layout, origin, accounts) and its
    constraints."""

    descriptor: Descriptor
    define: Callable[[Builder, SlotVars, LC], Effect]
    # the (market, key) of the order leaf an order-book operation reads, from the state before
    # it (None where the circuit cannot prove that operation yet)
    get_book_key: Callable[[Any, Any], tuple[int, int] | None] | None = None
    # B from the state before the operation: the maker a matching step fills against, or the
    # insurance fund a pool-share operation pays or is paid by; None where B is A
    get_counterparty: Callable[[Any, Any], int | None] | None = None
    # A from the state before the operation, for an operation that names no account (a trigger
    # order's owner); None to take the accounts it names
    get_account: Callable[[Any, Any], int | None] | None = None
    # the trigger leaf the book unit opens, from the state before the operation: the id of the
    # trigger order it places, cancels or fires, and that order (the one a placement writes;
    # None where there is none); None for an operation that opens no trigger leaf
    get_trigger: Callable[[Any, Any], tuple[int, TriggerOrder | None] | None] | None = None

    @property
    def op_class(self) -> Any:
        return self.descriptor.op_class

    @property
    def name(self) -> str:
        return self.descriptor.name

    @property
    def op_type(self) -> int:
        return int(self.descriptor.op_type)

    @property
    def fields(self) -> tuple[tuple[int, int], ...]:
        """``(first byte, length)`` of every record field (the bytes it uses besides byte 0)."""
        return self.descriptor.layout.offsets()

    @property
    def signed(self) -> bool:
        """An L2 transaction: carries nonce, expiry and signature."""
        return self.descriptor.origin == Origin.L2_SIGNED

    def get_accounts(self, op: Any, state: Any = None) -> tuple[int, int]:
        """(A, B) of an operation: the first and last account it names; B = A when it names
        one, and account 0 for both when it names none (the noop). Given the state before it,
        A (and B) is the account ``get_account`` finds, if any, and B the maker when the
        operation fills one."""
        accounts = self.descriptor.get_accounts(op)
        a, b = (accounts[0], accounts[-1]) if accounts else (0, 0)
        if state is not None and self.get_account is not None:
            owner = self.get_account(state, op)
            if owner is not None:
                a = b = owner
        if state is not None and self.get_counterparty is not None:
            maker = self.get_counterparty(state, op)
            if maker is not None:
                b = maker
        return a, b


# -- small checks --------------------------------------------------------------------------------


def assert_nonzero_if(cs: Builder, on: LC, x: LC, name: str) -> None:
    """Constrain ``x != 0`` when ``on`` is 1: ``x * hint == on`` (one constraint)."""
    x_inv = cs.hint(f"{name}_inverse", lambda o, v: inv(v) if o and v else 0, on, x)
    cs.assert_mul(x, x_inv, on, name)


def define_signer_checks(cs: Builder, slot: SlotVars, on: LC) -> None:
    """``get_signer`` and ``require_not_rule_only`` of protocol/ops/common.py for an enabled
    signed operation: A exists and moves collateral by signature. Its key, nonce and signature
    are the slot's signature unit; its expiry the slot's."""
    with cs.scope("signer"):
        cs.assert_mul(on, 1 - slot.a.exists, ZERO, "account_exists")
        cs.assert_mul(on, slot.a_is_rule_only, ZERO, "not_rule_only")


# -- a sponge whose input length is chosen by the selectors -------------------------------------


def compute_sponge_digests(cs: Builder, tag: LC, inputs: Sequence[LC]) -> list[LC]:
    """``protocol.poseidon.sponge`` with the capacity tag given as a combination (the slot's
    signed message has one length per operation type): the digest after each block, so that
    an input of fewer blocks takes an earlier one. Inputs past an operation's length must be
    zero (its padding)."""
    state = [tag] + [constant(0)] * SPONGE_RATE
    padded = [*inputs, *[constant(0)] * (-len(inputs) % SPONGE_RATE)]
    digests = []
    with cs.scope("sponge"):
        for i in range(0, len(padded), SPONGE_RATE):
            block = padded[i : i + SPONGE_RATE]
            state = permute(cs, [state[0], *(s + x for s, x in zip(state[1:], block, strict=True))])
            digests.append(state[1])
    return digests


def alloc_private(cs: Builder, names: Sequence[str], values: Sequence[int] | None) -> list[LC]:
    """One private input per name, with ``values`` in witness mode (None in setup mode)."""
    return [cs.private(n, None if values is None else values[i]) for i, n in enumerate(names)]
