"""The witness builder: it applies a block exactly as ``process_block`` does, and what it
records around each operation opens against the account roots before and after it."""

from __future__ import annotations

import copy

import pytest

from circuits.block import build_block_circuit
from circuits.ops.slot import AccountWitness, get_dummy_signature
from circuits.r1cs import UnsatisfiedConstraintError
from protocol.block import (
    Block,
    Operation,
    process_block,
    process_block_header,
    process_operation,
)
from protocol.commitment import update_state_root
from protocol.errors import InvalidBlock, UnknownAccount
from protocol.field import R, from_signed
from protocol.jubjub import compress
from protocol.ops.deposit import Deposit
from protocol.ops.forced_withdraw import ForcedWithdraw
from protocol.ops.noop import Noop
from protocol.ops.register_key import RegisterKey
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.params import MINIMAL
from protocol.poseidon import hash2, hash4
from protocol.pubdata import OpType
from protocol.signing import sign_tx
from protocol.smt import compute_root
from protocol.snapshot import encode_state
from protocol.state import State, make_genesis
from sequencer.witness import (
    UnprovableOperationError,
    build_block_inputs,
    build_block_witness,
    build_exit_witness,
    get_block_system,
)
from tests.protocol.helpers import (
    CHAIN_ID,
    FAR,
    MARKET,
    key_of,
    make_state,
    oracle_price,
    owner_of,
)


def funded_state() -> State:
    state = make_genesis(MINIMAL, CHAIN_ID, (), owner_of(0), owner_of(1))
    key = compress(key_of(3).public_key)
    ops = (
        Deposit(3, owner_of(3), 10**6),
        RegisterKey(3, owner_of(3), key),
        Deposit(4, owner_of(4), 5),
    )
    process_block(state, Block(1, 100, ops))
    return state


def transfer(amount: int, nonce: int = 0) -> Transfer:
    return sign_tx(Transfer(3, nonce, FAR, 4, amount), key_of(3), CHAIN_ID)


def leaf_of(a: AccountWitness) -> int:
    """``protocol.commitment.compute_account_leaf`` from the fields the witness carries."""
    if not a.exists:
        return 0
    identity = hash4(a.owner, *a.pubkey, a.nonce)
    balance = hash4(from_signed(a.collateral), a.positions_root, a.open_orders, a.pool_shares)
    return hash2(identity, balance)


def account_root(state: State) -> int:
    update_state_root(state)
    assert state.trees is not None
    return state.trees.accounts.root()


BLOCK_OPS: tuple[Operation, ...] = (
    transfer(250_000),
    Deposit(5, owner_of(5), 7),
    ForcedWithdraw(4, owner_of(4), 3),
    sign_tx(Withdraw(3, 1, FAR, 10), key_of(3), CHAIN_ID),
)


def test_it_applies_the_block_as_process_block_does() -> None:
    native, proving = funded_state(), funded_state()
    block = Block(2, 200, BLOCK_OPS)
    process_block(native, block)
    build_block_witness(proving, block)
    assert encode_state(proving) == encode_state(native)
    assert update_state_root(proving) == update_state_root(native)


def test_the_slots_open_against_the_roots_before_and_after_each_operation() -> None:
    state = funded_state()
    replay = copy.deepcopy(state)
    witness = build_block_witness(state, Block(2, 200, BLOCK_OPS))
    process_block_header(replay, 2, 200)
    for op, slot in zip(BLOCK_OPS, witness.slots, strict=False):
        assert compute_root(leaf_of(slot.a), slot.a.index, slot.a.siblings) == account_root(replay)
        process_operation(replay, op)
        after = account_root(replay)
        assert replay.trees is not None
        b_leaf = replay.trees.accounts.get(slot.b.index)
        assert compute_root(b_leaf, slot.b.index, slot.b.siblings) == after


def test_unused_slots_are_noops_and_unsigned_slots_carry_the_dummy_signature() -> None:
    state = funded_state()
    witness = build_block_witness(state, Block(2, 200, (transfer(1), Deposit(4, owner_of(4), 1))))
    assert len(witness.slots) == MINIMAL.operation_slots
    assert len(witness.market_slots) == MINIMAL.market_slots
    signed, deposit, *noops = witness.slots
    assert (signed.expiry, signed.signature) == (FAR, transfer(1).signature)
    assert (deposit.expiry, deposit.signature) == (200, get_dummy_signature()[1])
    assert all(s.record == bytes(64) and s.a.index == s.b.index == 0 for s in noops)
    assert all(s.record == bytes(64) for s in witness.market_slots)
    assert (witness.old_timestamp, witness.timestamp) == (100, 200)


def test_an_invalid_block_changes_nothing() -> None:
    state = funded_state()
    root, snapshot = update_state_root(state), encode_state(state)
    block = Block(2, 200, (transfer(1), transfer(1)))  # the second reuses the nonce
    with pytest.raises(InvalidBlock, match="operation 1"):
        build_block_witness(state, block)
    assert encode_state(state) == snapshot and update_state_root(state) == root
    cs, values = build_block_inputs(state, Block(2, 200, (transfer(1),)))  # the trees still hold
    cs.check(values)


def test_an_invalid_block_leaves_no_leaf_it_undid_in_the_trees() -> None:
    """The first pre-execution is applied and its market rehashed (the second slot reads the
    trees) before the second fails: the trees must not keep the undone market."""
    state = make_state(MINIMAL, MARKET, signatures=False)
    root, snapshot = update_state_root(state), encode_state(state)
    noops: tuple[Operation, ...] = (Noop(),) * MINIMAL.operation_slots
    block = Block(1, 200, (*noops, oracle_price(0, 10_100, 200), oracle_price(1, 0, 200)))
    with pytest.raises(InvalidBlock, match=r"operation 5 \(PreExecution\): index price"):
        build_block_witness(state, block)
    assert encode_state(state) == snapshot and update_state_root(state) == root


def test_block_inputs_are_the_whole_build_values_on_the_cached_system() -> None:
    """The values-only witness is, wire for wire, what building the circuit with its values
    gives; the system is built once per deployment; a tampered value is refused by name."""
    state = funded_state()
    block = Block(2, 200, (transfer(7), Deposit(4, owner_of(4), 3), transfer(2, nonce=1)))
    witness = build_block_witness(copy.deepcopy(state), block)
    cs, values = build_block_inputs(state, block)
    whole, whole_values = build_block_circuit(MINIMAL, CHAIN_ID, witness)
    assert values == whole_values and cs.digest() == whole.digest()
    assert cs is get_block_system(MINIMAL, CHAIN_ID)
    cs.check(values)
    for wire in (1, len(values) - 1):  # the old state root; the commitment's last S-box
        tampered = list(values)
        tampered[wire] = (tampered[wire] + 1) % R
        with pytest.raises(UnsatisfiedConstraintError):
            cs.check(tampered)


@pytest.mark.parametrize(
    "op",
    [
        RegisterKey(1 << MINIMAL.account_tree_depth, owner_of(3), bytes(32)),  # outside the tree
        Transfer(3, 0, FAR, 4, 5),  # no signature
    ],
)
def test_an_unprovable_operation_is_refused_before_anything_changes(op: object) -> None:
    state = funded_state()
    snapshot = encode_state(state)
    with pytest.raises(UnprovableOperationError):
        build_block_witness(state, Block(2, 200, (Deposit(4, owner_of(4), 1), op)))  # type: ignore[arg-type]
    assert encode_state(state) == snapshot


def test_pre_executions_are_proven_only_in_the_market_slots_that_close_the_block() -> None:
    first_market_slot = MINIMAL.operation_slots
    noops: tuple[Operation, ...] = (Noop(),) * first_market_slot
    state = make_state(MINIMAL, MARKET, signatures=False)  # two markets
    snapshot = encode_state(state)
    cases: list[tuple[tuple[Operation, ...], str]] = [
        ((oracle_price(0, 10_000, 200),), "operation 0 .PreExecution. is outside the market slots"),
        ((*noops, Deposit(4, owner_of(4), 1)), f"operation {first_market_slot} .Deposit. is in a"),
    ]
    for ops, message in cases:
        with pytest.raises(UnprovableOperationError, match=message):
            build_block_witness(state, Block(1, 200, ops))
        assert encode_state(state) == snapshot
    ops = (Deposit(4, owner_of(4), 1), *noops[1:], Noop(), oracle_price(1, 1_010, 200))
    witness = build_block_witness(copy.deepcopy(state), Block(1, 200, ops))
    assert [s.record[0] for s in witness.market_slots] == [OpType.NOOP, OpType.PRE_EXECUTION]
    cs, values = build_block_inputs(state, Block(1, 200, ops))
    cs.check(values)
    assert state.markets[1].data.index_price == 1_010


def test_too_many_operations_make_an_invalid_block() -> None:
    ops = (Deposit(4, owner_of(4), 1),) * (MINIMAL.ops_per_block + 1)
    with pytest.raises(InvalidBlock):
        build_block_witness(funded_state(), Block(2, 200, ops))


def test_the_exit_witness_opens_the_account_in_the_state_root() -> None:
    state = funded_state()
    process_block(state, Block(2, 200, (transfer(250_000),)))
    w = build_exit_witness(state, 4)
    assert (w.account.index, w.account.collateral) == (4, 250_005)
    root = compute_root(leaf_of(w.account), 4, w.account.siblings)
    new_root = update_state_root(state)
    assert state.trees is not None
    assert hash4(root, w.book_root, state.trees.markets.root(), w.timestamp) == new_root
    with pytest.raises(UnknownAccount):
        build_exit_witness(state, 9)
