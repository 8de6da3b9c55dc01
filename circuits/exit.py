"""The exit (desert) circuit: what an account may take out of the rollup once it is frozen
(docs/PROTOCOL.md 8.C; ``performDesert`` on L1).

Public inputs, in order: ``state_root``, ``account_index``, ``owner``, ``amount``. Private: the
account's leaf fields and Merkle siblings, and the book root, market root and timestamp of the
state root. It proves that the leaf at ``account_index`` — opened against the account root,
which with the three private values hashes to ``state_root`` — is owned by ``owner`` and holds
a collateral of ``amount``, with ``0 <= amount < 2^collateral_bits``.

For now the account must have no open positions (its positions root is the empty root), so its
value is its collateral. Trading extends this: the positions are opened against the positions
root and valued at the last published mark prices, with their unsettled funding, from the
market leaves (``amount = max(0, TAV)``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.jubjub import PointVar
from circuits.gadgets.poseidon import hash2, hash4
from circuits.gadgets.smt import compute_root
from circuits.ops.common import (
    AccountVars,
    alloc_private,
    compute_balance_hash,
    compute_identity_hash,
    empty_positions_root,
)
from circuits.ops.slot import AccountWitness
from circuits.r1cs import ONE, Builder, ConstraintSystem, HintFn, constant
from protocol.accounts import FIRST_USER_ACCOUNT, Account
from protocol.commitment import compute_account_leaf
from protocol.field import R
from protocol.params import Preset
from protocol.smt import SparseMerkleTree

PUBLIC_INPUTS = ("state_root", "account_index", "owner", "amount")
_FIELDS = (
    *("index", "owner", "pubkey_x", "pubkey_y", "nonce", "collateral"),
    *("positions_root", "open_orders", "pool_shares"),
)


@dataclass(frozen=True)
class ExitWitness:
    """The exit circuit's private inputs (``sequencer.witness.build_exit_witness``)."""

    account: AccountWitness  # an existing account
    book_root: int
    market_root: int
    timestamp: int


def define_exit(cs: Builder, preset: Preset, w: ExitWitness | None) -> None:
    """The exit circuit, built into ``cs`` (``w`` None in setup mode)."""
    depth = preset.account_tree_depth
    with cs.scope("account"):
        values = None if w is None else [v for i, v in enumerate(w.account.values()) if i != 1]
        index, owner, pk_x, pk_y, nonce, collateral, *rest = alloc_private(cs, _FIELDS, values)
        siblings = alloc_private(
            cs, [f"sibling{i}" for i in range(depth)], None if w is None else w.account.siblings
        )
        a = AccountVars(index, ONE, owner, PointVar(pk_x, pk_y), nonce, collateral, *rest)
        leaf = hash2(cs, compute_identity_hash(cs, a), compute_balance_hash(cs, a))
        account_root = compute_root(cs, leaf, index, siblings)
        empty = empty_positions_root(preset)
        cs.assert_equal(a.positions_root, constant(empty), "no_positions")
        with cs.scope("amount"):
            assert_range(cs, collateral, preset.collateral_bits)
    with cs.scope("state"):
        names = ("book_root", "market_root", "timestamp")
        roots = None if w is None else (w.book_root, w.market_root, w.timestamp)
        book, market, timestamp = alloc_private(cs, names, roots)
        state_root = hash4(cs, account_root, book, market, timestamp)
    for name, value in zip(PUBLIC_INPUTS, (state_root, index, owner, collateral), strict=True):
        cs.expose(name, value)


def build_exit_circuit(
    preset: Preset,
    witness: ExitWitness | None = None,
    hint_overrides: Mapping[str, HintFn] | None = None,
) -> tuple[ConstraintSystem, list[int] | None]:
    """The exit circuit of ``preset`` and, given a witness, the wire values."""
    cs = Builder(witness=witness is not None, hint_overrides=hint_overrides)
    define_exit(cs, preset, witness)
    return cs.finalize()


def sample_exit_witness(preset: Preset, rng: random.Random) -> ExitWitness:
    """A valid exit of a random account from a tree of random leaves (the catalog's sample)."""
    depth = preset.account_tree_depth
    tree = SparseMerkleTree(depth)
    for _ in range(8):
        tree.set(rng.randrange(1 << depth), rng.randrange(1, R))
    index = rng.randrange(FIRST_USER_ACCOUNT, 1 << depth)
    account = Account(index, rng.randbytes(20), nonce=rng.randrange(100))
    account.collateral = rng.randrange(1 << preset.collateral_bits)
    empty = empty_positions_root(preset)
    tree.set(index, compute_account_leaf(account, empty))
    witness = AccountWitness(
        index,
        tuple(tree.proof(index).siblings),
        True,
        int.from_bytes(account.owner, "big"),
        account.pubkey,
        account.nonce,
        account.collateral,
        empty,
        0,
        0,
    )
    timestamp = rng.randrange(1 << preset.timestamp_bits)
    return ExitWitness(witness, rng.randrange(R), rng.randrange(R), timestamp)
