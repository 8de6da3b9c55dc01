"""The block circuit: ``preset.ops_per_block`` slots proving ``protocol.block.process_block``
(docs/PROTOCOL.md 8.C and 9); the first ``preset.trading_slots`` are heavy (every proven
operation), the next ``claim_slots`` claim slots (claims only), then light ones (the money path:
``circuits/ops/slot.py``) up to ``operation_slots``, and the last ``market_slots`` hold the
block's pre-executions
(``circuits/ops/pre_execution.py``: a market's index, mark, premium and funding).

Public inputs, in order (``PUBLIC_INPUTS``): ``old_state_root``, ``new_state_root``,
``timestamp``, ``data_hash``, ``challenge``, ``evaluation`` (``define_public_inputs``). Private:
the timestamp before the block, the book root, every market's leaf fields (a
:class:`MarketWitness` per market index) and per slot a :class:`SlotWitness`: its 64-byte
record, accounts A and B as they are before the slot (leaf fields and Merkle siblings), the
signed expiry and the signature.

- State roots: ``hash4(account_root, book_root, market_root, timestamp)``. The account root,
  the book root and the markets' fields are running values (:class:`BlockVars`) that go from
  slot to slot (``circuits/ops/slot.py``); the markets are opened once, in the header (their
  root is the old state root's market root), and the new market root is recomputed from them
  at the block's end (a fill changes open interest).
- The block's end (``State.credit_accrued``, PROTOCOL 7.2): the fee account's, the funding
  pool's and the insurance fund's collateral go from slot to slot as running copies from free
  start values; after the slots each leaf is opened, its collateral must be the copy (which
  pins the start value), and it is credited with the block's fees, funding or liquidation
  spreads. A taker a matching step leaves with size
  goes to the next slot as running values too, for its claim; none is left after the last
  heavy or claim slot (``heavy_end/no_pending_taker``: a light slot proves no claim, so the
  block ends with none).
- Clock (``process_block_header``): ``old_timestamp <= timestamp < 2^timestamp_bits``.
- Data (``protocol.blob.compute_batch_data``, ``circuits/gadgets/blob.py``'s ``bind_data``):
  the records cut into 31-byte chunks are the blob's field elements (combinations of the
  records' bit wires, free); the circuit commits to them with ``c = sponge([timestamp, c_0,
  ...], DOMAIN_PUBDATA)``, derives ``z = hash4(c, data_hash, old_root, new_root)`` and exposes
  ``z`` and ``e = y + z^4096 · y_l1``, the values at ``z`` of the records' polynomial and of
  their L1 records'. The contract computes ``data_hash`` from what it received and checks ``e``
  (PROTOCOL 9.9).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from circuits.gadgets.bits import assert_range
from circuits.gadgets.blob import bind_data
from circuits.gadgets.boolean import assert_boolean
from circuits.gadgets.commitment import (
    MarketVars,
    compute_market_root,
    hash_market_params,
    open_round_account,
)
from circuits.gadgets.poseidon import hash4
from circuits.ops.common import (
    DATA_ROUND,
    MARKET_DATA,
    MARKET_PARAMS,
    NO_TAKER,
    BlockVars,
    RecordVars,
    alloc_private,
    empty_positions_root,
)
from circuits.ops.pre_execution import MarketSlotWitness, define_market_slot
from circuits.ops.slot import (
    OP_CIRCUITS,
    RESERVED_SUMS,
    AccountWitness,
    SlotWitness,
    alloc_account,
    define_slot,
    get_dummy_signature,
    get_slot_kind,
    update_account,
)
from circuits.r1cs import ZERO, Builder, ConstraintSystem, HintFn, LinearCombination, constant
from protocol.accounts import INSURANCE_FUND
from protocol.commitment import get_market_data_lanes
from protocol.field import R
from protocol.markets import ADL_FIELDS, Market, MarketParams
from protocol.params import Preset
from protocol.pubdata import OP_BYTES
from protocol.smt import SparseMerkleTree

__all__ = [
    "OP_CIRCUITS",
    "AccountWitness",
    "BlockWitness",
    "MarketWitness",
    "SlotWitness",
    "build_block_circuit",
    "define_block",
    "get_dummy_signature",
    "sample_block_witness",
]

PUBLIC_INPUTS = (
    "old_state_root",
    "new_state_root",
    "timestamp",
    "data_hash",
    "challenge",
    "evaluation",
)


@dataclass(frozen=True)
class MarketWitness:
    """One market index's leaf fields before the block (all 0 where there is no market)."""

    exists: bool
    params: tuple[int, ...]  # MarketParams in field order
    data: tuple[int, ...]  # MarketData's lanes (MARKET_DATA_LANES), signed values as they are
    # the open deleverage round's fields (ADL_FIELDS, signed), the adl_round lane's preimage;
    # all 0 for none
    round: tuple[int, ...] = (0,) * len(ADL_FIELDS)

    @classmethod
    def of(cls, market: Market | None) -> MarketWitness:
        if market is None:
            return cls(False, (0,) * len(MARKET_PARAMS), (0,) * len(MARKET_DATA))
        params = tuple(getattr(market.params, name) for name in MARKET_PARAMS)
        round_fields = tuple(getattr(market.data, name) for name in ADL_FIELDS)
        return cls(True, params, tuple(get_market_data_lanes(market.data)), round_fields)

    def values(self) -> list[int]:
        return [int(self.exists), *self.params, *(v % R for v in self.data)]


@dataclass(frozen=True)
class BlockWitness:
    """The block circuit's private inputs (``sequencer.witness.build_block_witness``)."""

    old_timestamp: int
    timestamp: int
    book_root: int
    markets: tuple[MarketWitness, ...]  # one per market index (2^market_tree_depth)
    slots: tuple[SlotWitness, ...]  # exactly operation_slots, padded with noops
    data_hash: int  # the contract's digest d of the posted data (protocol.blob.compute_data_hash)
    # the fee account, the funding pool and the insurance fund (``RESERVED_SUMS``): their
    # collateral before the block, and their leaves after the slots, before the block's end
    # credits them (each one's path after the updates of those before it)
    reserved_collateral: tuple[int, int, int]
    reserved: tuple[AccountWitness, AccountWitness, AccountWitness]
    market_slots: tuple[MarketSlotWitness, ...]  # exactly market_slots: pre-executions or noops


def _check_preset(preset: Preset) -> None:
    if preset.amount_bits != 64 or preset.collateral_bits != 64:
        raise ValueError("the records carry 8-byte amounts: amount and collateral bits must be 64")


def _define_header(
    cs: Builder, preset: Preset, w: BlockWitness | None
) -> tuple[LinearCombination, ...]:
    """The timestamps and the book root; checks the clock."""
    with cs.scope("header"):
        names = ("old_timestamp", "timestamp", "book_root")
        values = None if w is None else (w.old_timestamp, w.timestamp, w.book_root)
        old_ts, ts, book = alloc_private(cs, names, values)
        with cs.scope("timestamp_in_range"):
            assert_range(cs, ts, preset.timestamp_bits)
        with cs.scope("timestamp_not_before_last"):
            assert_range(cs, ts - old_ts, preset.timestamp_bits)
    return old_ts, ts, book


def _alloc_markets(
    cs: Builder, preset: Preset, w: BlockWitness | None
) -> tuple[tuple[MarketVars, ...], tuple[LinearCombination, ...]]:
    """Every market index's leaf fields, as private inputs (``exists`` boolean), and 1 + the
    account of each one's open deleverage round (0 for none), its round lane opened
    (``open_round_account``)."""
    names = ("exists", *MARKET_PARAMS, *MARKET_DATA)
    markets, accounts = [], []
    for i in range(preset.max_markets):
        with cs.scope(f"market{i}"):
            values = None if w is None else w.markets[i].values()
            exists, *fields = alloc_private(cs, names, values)
            assert_boolean(cs, exists, "exists_boolean")
            params = tuple(fields[: len(MARKET_PARAMS)])
            data = tuple(fields[len(MARKET_PARAMS) :])
            markets.append(MarketVars(exists, params, data, hash_market_params(cs, params)))
            round_values = None if w is None else [v % R for v in w.markets[i].round]
            round_fields = alloc_private(cs, [f"round_{n}" for n in ADL_FIELDS], round_values)
            accounts.append(open_round_account(cs, data[DATA_ROUND], round_fields))
    return tuple(markets), tuple(accounts)


def define_block(cs: Builder, preset: Preset, chain_id: int, w: BlockWitness | None) -> None:
    """The block circuit, built into ``cs`` (``w`` None in setup mode)."""
    _check_preset(preset)
    if w is not None and (len(w.slots), len(w.market_slots)) != (
        preset.operation_slots,
        preset.market_slots,
    ):
        raise ValueError(
            f"a block witness has {preset.operation_slots} operation slots and "
            f"{preset.market_slots} market slots, not {len(w.slots)} and {len(w.market_slots)}"
        )
    if w is not None and len(w.markets) != preset.max_markets:
        raise ValueError(f"a block witness has {preset.max_markets} markets, not {len(w.markets)}")
    old_ts, ts, book = _define_header(cs, preset, w)
    with cs.scope("markets"):
        markets, round_accounts = _alloc_markets(cs, preset, w)
        old_market_root = compute_market_root(cs, markets)
    with cs.scope("reserved"):
        values = None if w is None else [c % R for c in w.reserved_collateral]
        names = tuple(name for name, *_ in RESERVED_SUMS)
        copies = alloc_private(cs, names, values)
    c_fee, c_pool, c_fund = copies  # in ``RESERVED_SUMS``' order
    running = first = BlockVars(
        book,
        markets,
        fee_account_collateral=c_fee,
        funding_pool_collateral=c_pool,
        insurance_fund_collateral=c_fund,
        round_accounts=round_accounts,
    )
    records: list[RecordVars] = []
    first_root = root = None
    for i in range(preset.operation_slots):
        with cs.scope(f"slot{i}"):
            kind = get_slot_kind(preset, i)
            slot_w = None if w is None else w.slots[i]
            # a heavy slot right before a claim slot carries its taker's account into it
            following = get_slot_kind(preset, i + 1) if i + 1 < preset.operation_slots else None
            carries = following is not None and following.one_market and not kind.one_market
            old, new, record, running = define_slot(
                cs, preset, chain_id, ts, running, kind, slot_w, kind.has_book and carries
            )
            if root is None:
                first_root = old
            elif old is not root:  # a claim slot starts from the root its carry came with
                cs.assert_equal(old, root, "root_follows_last_slot")
        root = new
        records.append(record)
        if i == preset.matching_slots - 1:  # the last heavy (or claim) slot
            with cs.scope("heavy_end"):
                # no taker left matching (``check_block_end``): once per block
                cs.assert_equal(running.taker.active, ZERO, "no_pending_taker")
            running = replace(running, taker=NO_TAKER)
    for i in range(preset.market_slots):  # the pre-executions close the block (PROTOCOL 8.23)
        with cs.scope(f"slot{preset.operation_slots + i}"):
            market_w = None if w is None else w.market_slots[i]
            record, running = define_market_slot(cs, preset, chain_id, ts, running, market_w)
        records.append(record)
    assert first_root is not None and root is not None
    with cs.scope("block_end"):
        root = _credit_reserved(cs, preset, running, root, w)
    with cs.scope("state_roots"):
        new_market_root = old_market_root
        if running.markets is not first.markets:  # a heavy slot may change open interest
            new_market_root = compute_market_root(cs, running.markets)
        old_state_root = hash4(cs, first_root, first.book_root, old_market_root, old_ts)
        new_state_root = hash4(cs, root, running.book_root, new_market_root, ts)
    define_public_inputs(cs, w, records, ts, old_state_root, new_state_root)


def _credit_reserved(
    cs: Builder, preset: Preset, running: BlockVars, root: LinearCombination, w: BlockWitness | None
) -> LinearCombination:
    """``State.credit_accrued``: the fee account, the funding pool and the insurance fund,
    opened after the slots in that order (each exists: ``exists``; its collateral is the
    running copy: ``tracked``), credited with the block's fees, funding and liquidation
    spreads (in range: every slot checked it). Returns the account root after the three."""
    for i, (name, index, copy_field, sum_field) in enumerate(RESERVED_SUMS):
        collateral, amount = getattr(running, copy_field), getattr(running, sum_field)
        with cs.scope(name):
            account, siblings = alloc_account(cs, preset, None if w is None else w.reserved[i])
            cs.assert_equal(account.index, constant(index), "index")
            cs.assert_equal(account.exists, constant(1), "exists")
            cs.assert_equal(account.collateral, collateral, "tracked")
            credited = replace(account, collateral=account.collateral + amount)
            update, _ = update_account(cs, account, credited, siblings, False)
            old, root_after = update.old_root, update.new_root
            cs.assert_equal(old, root, "follows_slots")
            root = root_after
    return root


def define_public_inputs(
    cs: Builder,
    w: BlockWitness | None,
    records: Sequence[RecordVars],
    ts: LinearCombination,
    old_state_root: LinearCombination,
    new_state_root: LinearCombination,
) -> None:
    """Binds the records to the posted data (``bind_data``) and exposes ``PUBLIC_INPUTS``."""
    with cs.scope("data"):
        (data_hash,) = alloc_private(cs, ("data_hash",), None if w is None else (w.data_hash,))
        z, e = bind_data(
            cs, [r.bytes for r in records], ts, old_state_root, new_state_root, data_hash
        )
    values = (old_state_root, new_state_root, ts, data_hash, z, e)
    for name, value in zip(PUBLIC_INPUTS, values, strict=True):
        cs.expose(name, value)


def build_block_circuit(
    preset: Preset,
    chain_id: int,
    witness: BlockWitness | None = None,
    hint_overrides: Mapping[str, HintFn] | None = None,
) -> tuple[ConstraintSystem, list[int] | None]:
    """The block circuit of ``preset`` for the chain ``chain_id`` (its signed messages name it)
    and, given a witness, the wire values (``None`` in setup mode: the same system)."""
    cs = Builder(witness=witness is not None, hint_overrides=hint_overrides)
    define_block(cs, preset, chain_id, witness)
    return cs.finalize()


_RESERVED_INDICES = [index for _, index, *_ in RESERVED_SUMS]


def _sample_lane(rng: random.Random, i: int) -> int:
    """A random market data lane, but the round's: no round open (its lane 0)."""
    return 0 if i == DATA_ROUND else rng.randrange(-(1 << 32), 1 << 32)


def sample_block_witness(preset: Preset, rng: random.Random) -> BlockWitness:
    """A valid block of noops (each reading account 0, the insurance fund) over an account tree
    of random leaves beside the fee account, the funding pool and the fund (the circuit
    catalog's sample)."""
    depth = preset.account_tree_depth
    tree = SparseMerkleTree(depth)
    for _ in range(8):
        tree.set(rng.randrange(3, 1 << depth), rng.randrange(1, R))
    positions_root = empty_positions_root(preset)
    reserved = [
        replace(
            AccountWitness.empty(index, (), positions_root),
            exists=True,
            owner=rng.randrange(1 << 160),
            collateral=rng.randrange(1 << 32),
        )
        for index in _RESERVED_INDICES
    ]
    for account in reserved:
        tree.set(account.index, account.leaf())
    reserved = [replace(a, siblings=tuple(tree.proof(a.index).siblings)) for a in reserved]
    fund = reserved[_RESERVED_INDICES.index(INSURANCE_FUND)]  # account 0, which noops read
    timestamp = rng.randrange(1, 1 << preset.timestamp_bits)
    noop = SlotWitness(bytes(OP_BYTES), fund, fund, timestamp, get_dummy_signature()[1])
    market = MarketWitness(
        True,
        tuple(getattr(MarketParams(), name) for name in MARKET_PARAMS),  # valid fractions
        tuple(_sample_lane(rng, i) for i in range(len(MARKET_DATA))),
    )
    absent = MarketWitness.of(None)
    return BlockWitness(
        rng.randrange(timestamp + 1),
        timestamp,
        rng.randrange(R),
        (market, *[absent] * (preset.max_markets - 1)),
        (noop,) * preset.operation_slots,
        rng.randrange(R),
        (reserved[0].collateral, reserved[1].collateral, reserved[2].collateral),
        (reserved[0], reserved[1], reserved[2]),
        (MarketSlotWitness.noop(preset),) * preset.market_slots,
    )
