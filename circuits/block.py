"""The block circuit: ``preset.ops_per_block`` slots proving ``protocol.block.process_block`` on
the money path (docs/PROTOCOL.md 8.C and 9).

Public inputs, in order: ``old_state_root``, ``new_state_root``, ``commitment``. Private: the
timestamps before and of the block, the book and market roots (these operations leave them as
they are), and per slot a :class:`SlotWitness`: its 64-byte record, accounts A and B as they
are before the slot (leaf fields and Merkle siblings), the signed expiry and the signature.

- State roots: ``hash4(account_root, book_root, market_root, timestamp)``; the account root
  goes from slot to slot (``circuits/ops/slot.py``).
- Clock (``process_block_header``): ``old_timestamp <= timestamp < 2^timestamp_bits``.
- Commitment (``protocol.pubdata.compute_commitment``): ``sponge([timestamp, c_0, ...],
  DOMAIN_PUBDATA)`` over the records cut into 31-byte chunks; the chunks are combinations of
  the records' bit wires, so they cost nothing but the sponge.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.poseidon import hash4, sponge
from circuits.ops.common import RecordVars, alloc_private, empty_positions_root
from circuits.ops.slot import (
    OP_CIRCUITS,
    AccountWitness,
    SlotWitness,
    define_slot,
    get_dummy_signature,
)
from circuits.r1cs import Builder, ConstraintSystem, HintFn, LinearCombination, weighted_sum
from protocol.field import R
from protocol.params import Preset
from protocol.pubdata import CHUNK_BYTES, DOMAIN_PUBDATA, OP_BYTES
from protocol.smt import SparseMerkleTree

__all__ = [
    "OP_CIRCUITS",
    "AccountWitness",
    "BlockWitness",
    "SlotWitness",
    "build_block_circuit",
    "define_block",
    "get_dummy_signature",
    "sample_block_witness",
]

PUBLIC_INPUTS = ("old_state_root", "new_state_root", "commitment")


@dataclass(frozen=True)
class BlockWitness:
    """The block circuit's private inputs (``sequencer.witness.build_block_witness``)."""

    old_timestamp: int
    timestamp: int
    book_root: int
    market_root: int
    slots: tuple[SlotWitness, ...]  # exactly ops_per_block, padded with noops


def _check_preset(preset: Preset) -> None:
    if preset.amount_bits != 64 or preset.collateral_bits != 64:
        raise ValueError("the records carry 8-byte amounts: amount and collateral bits must be 64")


def compute_chunks(records: Sequence[RecordVars]) -> list[LinearCombination]:
    """``protocol.pubdata.compute_chunks`` of the records' bytes: 31-byte big-endian chunks,
    the last one zero-padded at the end."""
    data = [byte for record in records for byte in record.bytes]
    chunks = []
    for start in range(0, len(data), CHUNK_BYTES):
        piece = data[start : start + CHUNK_BYTES]
        chunks.append(
            weighted_sum([256 ** (CHUNK_BYTES - 1 - p) for p in range(len(piece))], piece)
        )
    return chunks


def _define_header(
    cs: Builder, preset: Preset, w: BlockWitness | None
) -> tuple[LinearCombination, ...]:
    """The timestamps and the roots the block leaves alone; checks the clock."""
    with cs.scope("header"):
        names = ("old_timestamp", "timestamp", "book_root", "market_root")
        values = None if w is None else (w.old_timestamp, w.timestamp, w.book_root, w.market_root)
        old_ts, ts, book, market = alloc_private(cs, names, values)
        with cs.scope("timestamp_in_range"):
            assert_range(cs, ts, preset.timestamp_bits)
        with cs.scope("timestamp_not_before_last"):
            assert_range(cs, ts - old_ts, preset.timestamp_bits)
    return old_ts, ts, book, market


def define_block(cs: Builder, preset: Preset, chain_id: int, w: BlockWitness | None) -> None:
    """The block circuit, built into ``cs`` (``w`` None in setup mode)."""
    _check_preset(preset)
    if w is not None and len(w.slots) != preset.ops_per_block:
        raise ValueError(f"a block witness has {preset.ops_per_block} slots, not {len(w.slots)}")
    old_ts, ts, book, market = _define_header(cs, preset, w)
    records: list[RecordVars] = []
    first_root = root = None
    for i in range(preset.ops_per_block):
        with cs.scope(f"slot{i}"):
            old, new, record = define_slot(
                cs, preset, chain_id, ts, None if w is None else w.slots[i]
            )
            if root is None:
                first_root = old
            else:
                cs.assert_equal(old, root, "root_follows_last_slot")
        root = new
        records.append(record)
    assert first_root is not None and root is not None
    with cs.scope("state_roots"):
        old_state_root = hash4(cs, first_root, book, market, old_ts)
        new_state_root = hash4(cs, root, book, market, ts)
    with cs.scope("commitment"):
        commitment = sponge(cs, [ts, *compute_chunks(records)], DOMAIN_PUBDATA)
    for name, value in zip(
        PUBLIC_INPUTS, (old_state_root, new_state_root, commitment), strict=True
    ):
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


def sample_block_witness(preset: Preset, rng: random.Random) -> BlockWitness:
    """A valid block of noops over an account tree of random leaves, none at index 0 (the
    circuit catalog's sample)."""
    depth = preset.account_tree_depth
    tree = SparseMerkleTree(depth)
    for _ in range(8):
        tree.set(rng.randrange(1, 1 << depth), rng.randrange(1, R))
    blank = AccountWitness.empty(0, tuple(tree.proof(0).siblings), empty_positions_root(preset))
    timestamp = rng.randrange(1, 1 << preset.timestamp_bits)
    noop = SlotWitness(bytes(OP_BYTES), blank, blank, timestamp, get_dummy_signature()[1])
    return BlockWitness(
        rng.randrange(timestamp + 1),
        timestamp,
        rng.randrange(R),
        rng.randrange(R),
        (noop,) * preset.ops_per_block,
    )
