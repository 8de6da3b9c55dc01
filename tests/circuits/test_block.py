"""The block circuit against the rules (``protocol.block.process_block``).

- Differential: for random blocks of money-path operations, valid or not, the circuit's public
  inputs equal the native old and new state roots, the timestamp and ``protocol.blob``'s batch
  data (the contract's digest, the challenge the circuit derives, the folded evaluation), and an
  operation the rules refuse has no satisfying slot witness.
- Refusals and tampering are rejected by the constraint check, which names the constraint.
- Setup mode builds the same system; one real Groth16 run (``prove`` marker) shows that a proof
  forced from a bad witness does not verify.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from circuits.block import (
    OP_CIRCUITS,
    PUBLIC_INPUTS,
    BlockWitness,
    MarketWitness,
    build_block_circuit,
)
from circuits.ops.book_unit import BookWitness
from circuits.r1cs import UnsatisfiedConstraintError
from protocol import blob, jubjub, pubdata
from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL
from protocol.block import (
    Block,
    Operation,
    process_block,
    process_block_end,
    process_block_header,
    process_operation,
    process_operation_with_claims,
)
from protocol.commitment import update_state_root
from protocol.errors import InvalidBlock, InvalidTransaction, RiskCheckFailed
from protocol.events import TakerDone
from protocol.field import R
from protocol.jubjub import compress
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce
from protocol.ops.deposit import Deposit
from protocol.ops.forced_withdraw import ForcedWithdraw
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.noop import Noop
from protocol.ops.register_key import RegisterKey
from protocol.ops.set_leverage import SetLeverage
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.params import MINIMAL, Preset
from protocol.risk import compute_risk
from protocol.signing import sign_tx
from protocol.state import State, make_genesis
from protocol.types import FUNDING_INDEX_SCALE
from sequencer.witness import (
    UnprovableOperationError,
    build_block_inputs,
    build_block_witness,
    build_slot_witness,
    capture_book,
)
from tests.circuits.forced import forced_witness
from tests.circuits.tracing import unsatisfied
from tests.protocol.helpers import BTC, CHAIN_ID, FAR, MARKET, PRICES, key_of, owner_of

# the minimal slots, two per block (quicker): a heavy one, then a light one
PRESET = MINIMAL.with_overrides(ops_per_block=2, trading_slots=1, market_slots=0)
# both heavy: two trading operations a block
TRADING = MINIMAL.with_overrides(ops_per_block=2, market_slots=0)
USERS = (3, 4, 5)
START = 1_000_000  # each user's first deposit


def _no_point_y() -> bytes:
    """The smallest y with no curve point."""
    for y in range(2, 100):
        try:
            jubjub.decompress(y.to_bytes(32, "big"))
        except jubjub.PointError:
            return y.to_bytes(32, "big")
    raise AssertionError("every small y has a point")


BAD_KEYS = {
    "y_not_canonical": b"\xff" * 32,
    "no_point": _no_point_y(),
    "sign_with_zero_x": (1 << 255 | 1).to_bytes(32, "big"),
    "identity": (1).to_bytes(32, "big"),
    "order_4": bytes(32),
    "not_in_subgroup": compress(jubjub.add(key_of(9).public_key, jubjub.Point(0, R - 1))),
}


def key_bytes(index: int) -> bytes:
    return compress(key_of(index).public_key)


def signed(op: Any, signer: int) -> Any:
    return sign_tx(op, key_of(signer), CHAIN_ID)


def new_state(preset: Preset = PRESET) -> State:
    """Genesis with one market (BTC; market 1 absent), then users 3, 4, 5 funded with START
    and their keys registered (natively)."""
    state = make_genesis(preset, CHAIN_ID, ((MARKET, PRICES[BTC]),), owner_of(0), owner_of(1))
    ops: list[Operation] = []
    for user in USERS:
        ops += [
            Deposit(user, owner_of(user), START),
            RegisterKey(user, owner_of(user), key_bytes(user)),
        ]
    size = preset.ops_per_block
    for n, start in enumerate(range(0, len(ops), size), start=1):
        process_block(state, Block(n, 100 * n, tuple(ops[start : start + size])))
    update_state_root(state)
    return state


def next_block(state: State, ops: list[Operation], dt: int = 10) -> Block:
    return Block(state.block_number + 1, state.timestamp + dt, tuple(ops))


def native_public_inputs(state: State, block: Block) -> list[int]:
    """What the contract and the rules say: old root, new root, timestamp, and the batch data
    of the pubdata posted as calldata (``protocol.blob.compute_batch_data``)."""
    old = update_state_root(state)
    result = process_block(state, block)
    records = pubdata.compute_batch_pubdata(result.records, state.preset.ops_per_block)
    new, ts = update_state_root(state), block.timestamp
    data = blob.compute_batch_data(blob.compute_calldata_hash(records), records, ts, old, new)
    return [old, new, ts, data.data_hash, data.challenge, data.evaluation]


def check_block(state: State, block: Block) -> None:
    """The circuit proves ``block`` with the rules' public inputs (both states advance)."""
    expected = native_public_inputs(copy.deepcopy(state), block)
    cs, witness = build_block_inputs(state, block)
    cs.check(witness)
    assert cs.public_inputs(witness) == expected


# -- forcing a slot the rules refuse ---------------------------------------------------------------


def rejection(witness: BlockWitness) -> str:
    """The name of the first constraint the block witness breaks (fails if none); a forced
    witness is consistent, so no root check is among the broken ones."""
    cs, values = build_block_circuit(PRESET, CHAIN_ID, witness)
    assert values is not None
    with pytest.raises(UnsatisfiedConstraintError) as err:
        cs.check(values)
    broken = unsatisfied(cs, values)
    assert not {name for name in broken if is_consistency_check(name)}, broken
    assert err.value.name.split("/")[1] in RULE_SCOPES, err.value.name
    return err.value.name


# where a slot checks the rules: the operations' own constraints, and the slot's shared checks
RULE_SCOPES = {
    *(c.name for c in OP_CIRCUITS),
    *("a_collateral", "b_collateral", "expiry", "signature", "valid_risk_change"),
    *("step", "only_claims_while_pending"),
}


def is_consistency_check(name: str) -> bool:
    """A constraint that ties the slots to the state roots rather than checking a rule."""
    ends = ("follows_a", "root_follows_last_slot", "_is_public", "root_matches")
    return name.endswith(ends) or any(
        scope in name.split("/") for scope in ("merkle_update", "book_update", "old", "new")
    )


def started_block(state: State, dt: int = 10) -> State:
    """A copy of ``state`` with the next block's clock set."""
    scratch = copy.deepcopy(state)
    process_block_header(scratch, scratch.block_number + 1, scratch.timestamp + dt)
    return scratch


# -- shape -------------------------------------------------------------------------------------


def test_setup_mode_builds_the_same_system() -> None:
    state = new_state()
    cs, _ = build_block_inputs(state, next_block(state, [Deposit(3, owner_of(3), 5)]))
    shape, none = build_block_circuit(PRESET, CHAIN_ID)
    assert none is None
    # two minimal heavy slots (each with its account, positions and risk units, its book unit
    # with a trigger path, and B's positions and risk for a fill), the two markets opened once
    # and the block's end (the fee account, the funding pool and the insurance fund credited;
    # PERFORMANCE: grows with each proven operation)
    assert len(shape.constraints) < 95_000
    assert shape == cs and shape.digest() == cs.digest()
    assert cs.public_names == PUBLIC_INPUTS


def test_the_chain_id_is_part_of_the_circuit() -> None:
    a, _ = build_block_circuit(PRESET, CHAIN_ID)
    b, _ = build_block_circuit(PRESET, CHAIN_ID + 1)
    assert a.digest() != b.digest()


# -- valid blocks ------------------------------------------------------------------------------


def check_blocks(state: State, ops: list[Operation]) -> None:
    """``ops`` in blocks of ``ops_per_block``, each proven with the rules' public inputs."""
    for start in range(0, len(ops), PRESET.ops_per_block):
        check_block(state, next_block(state, ops[start : start + PRESET.ops_per_block]))


def test_every_operation_type_matches_the_rules() -> None:
    state = new_state()
    ops: list[Operation] = [
        Deposit(6, owner_of(6), 77),  # creates account 6
        Deposit(3, owner_of(9), 5),  # credits 3 whoever sends it
        signed(Transfer(3, 0, FAR, 4, 250_000), 3),
        signed(Withdraw(4, 0, FAR, 1_000), 4),
        ForcedWithdraw(5, owner_of(5), 10**9),  # more than it has: all of it
        ForcedWithdraw(3, owner_of(3), 3),
        RegisterKey(6, owner_of(6), key_bytes(6)),
        signed(Transfer(6, 0, FAR, 3, 77), 6),
    ]
    check_blocks(state, ops)
    check_block(state, next_block(state, [], dt=0))  # all noops, same timestamp


@pytest.mark.parametrize("name", sorted(BAD_KEYS))
def test_an_unusable_key_is_consumed_with_status_0(name: str) -> None:
    state = new_state()
    check_block(state, next_block(state, [RegisterKey(3, owner_of(3), BAD_KEYS[name])]))


def test_refused_priority_requests_are_consumed_as_noops() -> None:
    state = new_state()
    ops: list[Operation] = [
        RegisterKey(4, owner_of(5), key_bytes(5)),  # not the owner
        RegisterKey(9, owner_of(9), key_bytes(9)),  # no account
        ForcedWithdraw(0, owner_of(0), 1),  # the insurance fund
        ForcedWithdraw(5, owner_of(4), 1),  # not the owner
        ForcedWithdraw(9, owner_of(9), 1),  # no account
        ForcedWithdraw(3, owner_of(3), 0),  # nothing asked
    ]
    check_blocks(state, ops)


# -- differential ------------------------------------------------------------------------------

ACCOUNT = st.sampled_from([0, 2, 3, 4, 5, 6])
AMOUNT = st.sampled_from([0, 1, 999, 300_000, START, 2**64 - 1])
NONCE_SHIFT = st.sampled_from([0, 0, 0, -1, 1])
SIGNER_SHIFT = st.sampled_from([0, 0, 0, 1])
MARKET_INDEX = st.sampled_from([BTC, BTC, 1, 7])  # market 1 is absent, 7 outside the tree
IMF = st.sampled_from([0, MARKET.imf - 1, MARKET.imf, 500_000, 1_000_000, 1_000_001])
OP_SPEC = st.one_of(
    st.tuples(st.just("deposit"), ACCOUNT, AMOUNT),
    st.tuples(st.just("register"), ACCOUNT, st.sampled_from(["own", "other", *BAD_KEYS])),
    st.tuples(st.just("transfer"), ACCOUNT, ACCOUNT, AMOUNT, NONCE_SHIFT, SIGNER_SHIFT),
    st.tuples(st.just("withdraw"), ACCOUNT, AMOUNT, NONCE_SHIFT, SIGNER_SHIFT),
    st.tuples(st.just("forced_withdraw"), ACCOUNT, st.booleans(), AMOUNT),
    st.tuples(st.just("leverage"), ACCOUNT, MARKET_INDEX, IMF, NONCE_SHIFT, SIGNER_SHIFT),
    ORDER_SPEC := st.tuples(
        st.just("order"),
        st.sampled_from([3, 4, 5, 1]),
        st.booleans(),  # is_ask
        st.sampled_from([-20, -10, 0, 10, 20]),  # off the mark
        st.sampled_from([1, 50, 100, 10**6]),
        st.sampled_from([TimeInForce.GTC, TimeInForce.IOC, TimeInForce.POST_ONLY]),
        NONCE_SHIFT,
        SIGNER_SHIFT,
    ),
)


def make_op(state: State, spec: tuple[Any, ...], nonces: dict[int, int]) -> Operation:
    """The operation ``spec`` describes, its nonce counted from the ones the block used."""
    kind, account, *rest = spec
    if kind == "deposit":
        return Deposit(account, owner_of(account), rest[0])
    if kind == "register":
        key = {"own": key_bytes(account), "other": key_bytes(account + 1)}.get(rest[0])
        return RegisterKey(account, owner_of(account), key or BAD_KEYS[rest[0]])
    if kind == "forced_withdraw":
        return ForcedWithdraw(account, owner_of(account if rest[0] else account + 1), rest[1])
    existing = state.accounts.get(account)
    nonce = nonces.get(account, 0 if existing is None else existing.nonce)
    nonces[account] = nonce + 1
    *fields, shift, signer = rest
    if kind == "transfer":
        op: Any = Transfer(account, max(0, nonce + shift), FAR, fields[0], fields[1])
    elif kind == "leverage":
        op = SetLeverage(account, max(0, nonce + shift), FAR, fields[0], fields[1])
    elif kind == "order":
        is_ask, offset, size, tif = fields
        price = PRICES[BTC] + offset
        op = CreateOrder(account, max(0, nonce + shift), FAR, BTC, is_ask, size, price, 0, tif)
    else:
        op = Withdraw(account, max(0, nonce + shift), FAR, fields[0])
    return signed(op, account + signer)


def _leverage_first(specs: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """A block's operations with at most one leverage change, first: in the heavy slot."""
    changes = [s for s in specs if s[0] == "leverage"][:1]
    return changes + [s for s in specs if s[0] != "leverage"]


def first_refused(state: State, block: Block) -> tuple[State, Operation]:
    """The state just before the block's first refused operation, and that operation."""
    scratch = started_block(state, block.timestamp - state.timestamp)
    for op in block.operations:
        try:
            build_slot_witness(scratch, op)
        except InvalidTransaction:
            return scratch, op
    raise AssertionError("the block has no refused operation")


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(OP_SPEC, min_size=1, max_size=PRESET.ops_per_block), max_size=2))
def test_the_circuit_proves_what_the_rules_do(blocks: list[list[tuple[Any, ...]]]) -> None:
    check_differential(new_state(), blocks)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(ORDER_SPEC, min_size=1, max_size=PRESET.ops_per_block), max_size=2))
@example(  # a bid that takes half an ask, an IOC ask that takes the whole bid
    [
        [("order", 5, False, 10, 50, TimeInForce.GTC, 0, 0)],
        [("order", 5, True, -10, 100, TimeInForce.IOC, 0, 0)],
    ]
)
@example(  # a bid that takes one ask and part of the next (with its claim)
    [[("order", 5, False, 10, 150, TimeInForce.GTC, 0, 0)]]
)
def test_the_circuit_trades_as_the_rules_do(blocks: list[list[tuple[Any, ...]]]) -> None:
    """Orders against a book with asks above the mark and a bid below it: fills, rests,
    cancels and refusals."""
    check_differential(resting_state(), blocks)


def check_differential(state: State, blocks: list[list[tuple[Any, ...]]]) -> None:
    """Each block proven with the rules' public inputs, or, refused by the rules, its first
    refused operation refused by the circuit at a rule's constraint."""
    check_differential_ops(state, [_leverage_first(specs) for specs in blocks], make_op)


def check_differential_ops(
    state: State,
    blocks: list[list[tuple[Any, ...]]],
    make: Callable[[State, tuple[Any, ...], dict[int, int]], Operation],
) -> None:
    """``check_differential`` of the operations ``make`` builds from the specs."""
    for specs in blocks:
        nonces: dict[int, int] = {}
        block = next_block(state, with_claims(state, [make(state, s, nonces) for s in specs]))
        try:
            try:
                native_public_inputs(copy.deepcopy(state), block)
            except InvalidBlock:
                rejection(forced_witness(*first_refused(state, block)))
                continue
            check_block(state, block)
        except UnprovableOperationError as error:  # a step that cancels a maker, say
            assert "not proven yet" in str(error) or "light slot" in str(error)


def with_claims(state: State, ops: list[Operation]) -> list[Operation]:
    """``ops`` with the claims each taker needs right after it (as the builder inserts them),
    the transactions that fit in a block; a refused operation stays for the rules to refuse."""
    scratch, out = started_block(state), list[Operation]()
    for op in ops:
        try:
            group = [o for o, _ in process_operation_with_claims(scratch, op)]
        except InvalidTransaction:
            group = [op]
        if len(out) + len(group) > state.preset.ops_per_block:
            break
        out += group
    return out


# -- refusals, named ---------------------------------------------------------------------------

REFUSED: dict[str, tuple[Callable[[State], Operation], str]] = {
    "transfer overdraft": (
        lambda s: signed(Transfer(3, 0, FAR, 4, START + 1), 3),
        "slot0/valid_risk_change",
    ),
    "withdraw overdraft": (
        lambda s: signed(Withdraw(3, 0, FAR, START + 1), 3),
        "slot0/valid_risk_change",
    ),
    "wrong signature": (
        lambda s: signed(Transfer(3, 0, FAR, 4, 5), 4),
        "slot0/signature/eddsa/s_g_is_r_plus_c_a_x",
    ),
    "nonce reuse": (
        lambda s: signed(Transfer(3, 0, FAR, 4, 5), 3),  # after the nonce moved on (below)
        "slot0/signature/eddsa/s_g_is_r_plus_c_a_x",
    ),
    "expired": (
        lambda s: signed(Withdraw(3, 0, s.timestamp - 1, 5), 3),
        "slot0/expiry/not_expired/range/bits_sum",
    ),
    "zero amount": (
        lambda s: signed(Transfer(3, 0, FAR, 4, 0), 3),
        "slot0/transfer/amount_positive",
    ),
    "transfer to oneself": (
        lambda s: signed(Transfer(3, 0, FAR, 3, 5), 3),
        "slot0/transfer/receiver_allowed",
    ),
    "transfer to the funding pool": (
        lambda s: signed(Transfer(3, 0, FAR, 2, 5), 3),
        "slot0/transfer/receiver_allowed",
    ),
    "transfer to no account": (
        lambda s: signed(Transfer(3, 0, FAR, 9, 5), 3),
        "slot0/transfer/receiver_exists",
    ),
    "insurance fund sends": (
        lambda s: signed(Transfer(0, 0, FAR, 3, 5), 0),
        "slot0/transfer/signer/not_rule_only",
    ),
    "withdraw from no account": (
        lambda s: signed(Withdraw(9, 0, FAR, 5), 9),
        "slot0/withdraw/signer/account_exists",
    ),
    "deposit of zero": (lambda s: Deposit(3, owner_of(3), 0), "slot0/deposit/amount_positive"),
    "deposit overflow": (
        lambda s: Deposit(3, owner_of(3), 2**64 - START),
        "slot0/a_collateral/range/bits_sum",
    ),
    "leverage signed by another key": (
        lambda s: signed(SetLeverage(3, 0, FAR, BTC, 200_000), 4),
        "slot0/signature/eddsa/s_g_is_r_plus_c_a_x",
    ),
    "leverage nonce reuse": (
        lambda s: signed(SetLeverage(3, 0, FAR, BTC, 200_000), 3),  # nonce moved on (below)
        "slot0/signature/eddsa/s_g_is_r_plus_c_a_x",
    ),
    "leverage below the market's": (
        lambda s: signed(SetLeverage(3, 0, FAR, BTC, MARKET.imf - 1), 3),
        "slot0/set_leverage/imf_allowed",
    ),
    "leverage in an absent market": (
        lambda s: signed(SetLeverage(3, 0, FAR, 1, 200_000), 3),
        "slot0/set_leverage/market/exists1",
    ),
    "leverage of the insurance fund": (
        lambda s: signed(SetLeverage(0, 0, FAR, BTC, 200_000), 0),
        "slot0/set_leverage/signer/not_rule_only",
    ),
}


def test_a_forced_witness_of_a_valid_operation_is_the_real_one() -> None:
    """``forced_witness`` fills a slot as the circuit applies it, B's path after A's update:
    for an operation the rules accept it is exactly the witness builder's, so a refused one
    fails only where the rules refuse it."""
    state = new_state()
    ops: list[Operation] = [
        Deposit(6, owner_of(6), 77),  # creates account 6
        Deposit(3, owner_of(9), 5),
        signed(Transfer(3, 0, FAR, 4, 250_000), 3),
        signed(Withdraw(4, 0, FAR, 1_000), 4),
        ForcedWithdraw(5, owner_of(5), 10**9),
        RegisterKey(6, owner_of(6), key_bytes(6)),
        signed(Transfer(6, 0, FAR, 0, 7), 6),  # to the insurance fund: B is account 0
    ]
    for op in ops:
        block = next_block(state, [op])
        scratch = started_block(state)
        real = build_block_witness(state, block)
        forced = forced_witness(scratch, op, real.slots[0].record)
        # (its clock starts at the block's own timestamp: the header's check is not at stake;
        # its digest is any value, the challenge and evaluation being the circuit's outputs)
        same = replace(forced, old_timestamp=real.old_timestamp, data_hash=real.data_hash)
        assert same == real, type(op).__name__
    cs, values = build_block_circuit(PRESET, CHAIN_ID, forced)
    assert values is not None
    cs.check(values)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_operation_cannot_be_proven(case: str) -> None:
    make, constraint = REFUSED[case]
    state = new_state()
    if case.endswith("nonce reuse"):
        check_block(state, next_block(state, [signed(Withdraw(3, 0, FAR, 1), 3)]))
    scratch = started_block(state)
    op = make(scratch)
    with pytest.raises(InvalidTransaction):
        build_slot_witness(copy.deepcopy(scratch), op)
    assert rejection(forced_witness(scratch, op)) == constraint


def trading_state(lots: int = 500) -> State:
    """``new_state``, then 3 short and 4 long ``lots`` of BTC at its mark, traded natively
    (trading is not proven yet): accounts whose risk the set-leverage slot values."""
    state = new_state(TRADING)
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    for account, is_ask in ((3, True), (4, False)):
        order = CreateOrder(account, 0, FAR, BTC, is_ask, lots, PRICES[BTC])
        process_operation_with_claims(state, signed(order, account))
    process_block_end(state)
    assert state.accounts[3].positions[BTC].size == -lots
    return state


def test_set_leverage_values_every_position_at_the_mark() -> None:
    state = trading_state()
    ops = [signed(SetLeverage(3, 1, FAR, BTC, 150_000), 3), signed(SetLeverage(4, 1, FAR, 0, 0), 4)]
    check_block(state, next_block(state, ops))
    assert state.accounts[3].positions[BTC].imf == 150_000


def test_a_position_set_leverage_creates_takes_the_market_funding_index() -> None:
    state = trading_state()
    state.set_market_data(state.markets[BTC], "funding_index", -7_000)  # as funding hours would
    ops = [
        signed(SetLeverage(5, 0, FAR, BTC, 250_000), 5),  # 5 has no BTC position
        signed(SetLeverage(3, 1, FAR, BTC, 150_000), 3),  # 3's risk counts its unsettled funding
    ]
    check_block(state, next_block(state, ops))
    assert state.accounts[5].positions[BTC].funding_index == -7_000
    assert state.accounts[3].positions[BTC].funding_index == 0  # not settled by set leverage


def test_set_leverage_that_breaks_the_risk_rule_cannot_be_proven() -> None:
    state = trading_state()
    scratch = started_block(state)
    op = signed(SetLeverage(3, 1, FAR, BTC, 300_000), 3)  # IMR 1.5 USDC > TAV about 1 USDC
    with pytest.raises(RiskCheckFailed):
        build_slot_witness(copy.deepcopy(scratch), op)
    assert rejection(forced_witness(scratch, op)) == "slot0/valid_risk_change"


def test_the_money_path_values_positions_at_the_mark() -> None:
    """Transfers, withdrawals and forced withdrawals of accounts with positions: the risk unit
    values them at the block's marks (3 is short, 4 long, each with about 1 USDC of TAV)."""
    state = trading_state()
    ops = [signed(Transfer(3, 1, FAR, 5, 100_000), 3), signed(Withdraw(4, 1, FAR, 200_000), 4)]
    check_block(state, next_block(state, ops))
    check_block(state, next_block(state, [ForcedWithdraw(4, owner_of(4), 10**9)]))  # TAV - IMR
    assert state.accounts[5].collateral == START + 100_000


def test_a_withdrawal_past_the_free_margin_cannot_be_proven() -> None:
    state = trading_state()
    scratch = started_block(state)
    op = signed(Withdraw(4, 1, FAR, START), 4)  # its position's margin stays in the account
    with pytest.raises(RiskCheckFailed):
        build_slot_witness(copy.deepcopy(scratch), op)
    assert rejection(forced_witness(scratch, op)) == "slot0/valid_risk_change"


def resting_state() -> State:
    """``trading_state``, then resting orders: 3 asks at the mark + 10 (two orders), 4 bids
    at the mark - 10 (traded natively)."""
    state = trading_state()
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    orders = [(3, True, PRICES[BTC] + 10, 1), (3, True, PRICES[BTC] + 10, 2)]
    orders.append((4, False, PRICES[BTC] - 10, 1))
    for account, is_ask, price, nonce in orders:
        order = CreateOrder(account, nonce, FAR, BTC, is_ask, 100, price)
        process_operation_with_claims(state, signed(order, account))
    process_block_end(state)
    assert len(state.markets[BTC].book.orders) == 3
    return state


def order_key(state: State, account: int, is_ask: bool) -> int:
    """The key of ``account``'s first resting order of that side in BTC."""
    book = state.markets[BTC].book
    return min(o.key for o in book.orders.values() if o.account == account and o.is_ask == is_ask)


def test_a_cancel_is_proven() -> None:
    state = resting_state()
    ask, bid = order_key(state, 3, True), order_key(state, 4, False)
    ops = [
        signed(CancelOrder(3, 3, FAR, BTC, ask), 3),
        signed(CancelOrder(4, 2, FAR, BTC, bid), 4),
    ]
    check_block(state, next_block(state, ops))
    assert len(state.markets[BTC].book.orders) == 1
    assert (state.accounts[3].open_orders, state.accounts[4].open_orders) == (1, 0)


def test_a_modify_is_proven_in_place_or_rested_again_by_its_claim() -> None:
    """3 cuts its first ask to 60 in place (one slot, it keeps its key), then moves its second
    to the mark + 20 with 70 lots: the modify cancels it and hands a post-only taker to its
    claim, which rests it at the side's next nonce; 4's bid moves up to the mark - 5 alike."""
    state = resting_state()
    first, second = sorted(o.key for o in state.markets[BTC].book.orders.values() if o.is_ask)
    bid = order_key(state, 4, False)
    mark = PRICES[BTC]
    check_block(
        state, next_block(state, [signed(ModifyOrder(3, 3, FAR, BTC, first, mark + 10, 60), 3)])
    )
    assert state.markets[BTC].book.orders[first].remaining == 60
    moved = signed(ModifyOrder(3, 4, FAR, BTC, second, mark + 20, 70), 3)
    check_block(state, next_block(state, [moved, Claim(3)]))
    book = state.markets[BTC].book
    assert second not in book.orders and state.accounts[3].open_orders == 2
    (rested,) = (o for o in book.orders.values() if o.price == mark + 20)
    assert (rested.account, rested.remaining, rested.is_ask) == (3, 70, True)
    check_block(
        state,
        next_block(state, [signed(ModifyOrder(4, 2, FAR, BTC, bid, mark - 5, 100), 4), Claim(4)]),
    )
    assert [o.price for o in book.iter_side(False)] == [mark - 5] and bid not in book.orders


@pytest.mark.parametrize(
    ("case", "constraint"),
    [
        ("another account's order", "slot0/cancel_order/order_is_signers"),
        ("no order at the key", "slot0/cancel_order/order_exists"),
    ],
)
def test_a_refused_cancel_cannot_be_proven(case: str, constraint: str) -> None:
    state = resting_state()
    key = order_key(state, 4, False)
    if case == "no order at the key":
        key += 1
    scratch = started_block(state)
    op = signed(CancelOrder(3, 3, FAR, BTC, key), 3)
    with pytest.raises(InvalidTransaction):
        build_slot_witness(copy.deepcopy(scratch), op)
    assert rejection(forced_witness(scratch, op)) == constraint


def order(
    account: int, nonce: int, is_ask: bool, price: int, size: int = 100, **kw: Any
) -> CreateOrder:
    op: CreateOrder = signed(
        CreateOrder(account, nonce, FAR, BTC, is_ask, size, price, **kw), account
    )
    return op


def test_orders_that_fill_nothing_are_proven() -> None:
    """Against asks at mark + 10 and a bid at mark - 10: orders that rest (GTC, GTT, post-only,
    reduce-only) and orders cancelled unfilled (IOC, market with a worst price inside)."""
    state = resting_state()
    mark, now = PRICES[BTC], state.timestamp
    gtt, ioc, post = TimeInForce.GTT, TimeInForce.IOC, TimeInForce.POST_ONLY
    blocks = [
        [
            order(5, 0, False, mark),
            order(5, 1, True, mark + 20, time_in_force=gtt, order_expiry=now + 99),
        ],
        [
            order(5, 2, False, mark + 5, time_in_force=post),
            order(3, 3, False, mark - 50, reduce_only=True),
        ],
        [
            order(5, 3, True, mark + 30, time_in_force=ioc),  # above every bid
            order(4, 2, True, mark + 15, kind=OrderKind.MARKET, time_in_force=ioc),
        ],
    ]
    for ops in blocks:
        check_block(state, next_block(state, list(ops)))
    assert len(state.markets[BTC].book.orders) == 7
    assert state.accounts[5].open_orders == 3


@pytest.mark.parametrize(
    ("case", "constraint"),
    [
        ("post-only that crosses", "slot0/step/no_crossing"),
        ("price outside the band", "slot0/create_order/price_in_band/range/bits_sum"),
        ("below the minimum size", "slot0/create_order/size_at_least_min/range/bits_sum"),
        ("GTT in the past", "slot0/create_order/expiry_in_future/range/bits_sum"),
        ("order margin", "slot0/step/order_margin_covered"),
        ("reduce-only without a position", "slot0/create_order/reduce_only_has_position"),
    ],
)
def test_a_refused_order_cannot_be_proven(case: str, constraint: str) -> None:
    state = resting_state()
    mark, post_only = PRICES[BTC], TimeInForce.POST_ONLY
    op = {
        "post-only that crosses": order(5, 0, False, mark + 10, time_in_force=post_only),
        "price outside the band": order(5, 0, False, mark // 2),
        "below the minimum size": signed(CreateOrder(5, 0, FAR, BTC, False, 0, mark), 5),
        "GTT in the past": order(5, 0, False, mark, time_in_force=TimeInForce.GTT, order_expiry=1),
        "order margin": signed(CreateOrder(5, 0, FAR, BTC, False, 10**6, mark), 5),
        "reduce-only without a position": order(5, 0, False, mark, reduce_only=True),
    }[case]
    scratch = started_block(state)
    with pytest.raises(InvalidTransaction):
        build_slot_witness(copy.deepcopy(scratch), op)
    assert rejection(forced_witness(scratch, op, book=_forced_book(scratch, op))) == constraint


def _forced_book(state: State, op: CreateOrder) -> BookWitness:
    """The book unit at the key the order would rest at, had the rules let it."""
    book = state.markets[op.market].book
    return capture_book(
        state, op.market, book.compute_key(op.price, book.get_next_nonce(op.is_ask))
    )


def test_orders_that_fill_one_maker_are_proven() -> None:
    """Takers filled by the best maker in their first step, both sides settled, the fees and
    the funding credited at the block's end: a bid that takes part of the first ask (the
    maker's order stays), an IOC ask that takes the whole bid (the maker's order leaves, its
    open orders fall), then a market bid at a worst price past the band."""
    state = resting_state()
    mark, ioc = PRICES[BTC], TimeInForce.IOC
    ask_maker = order_key(state, 3, True)
    check_block(
        state,
        next_block(
            state,
            [
                order(5, 0, False, mark + 10, size=40),
                order(5, 1, True, mark - 10, time_in_force=ioc),
            ],
        ),
    )
    book = state.markets[BTC].book
    assert book.orders[ask_maker].remaining == 60 and state.accounts[4].open_orders == 0
    assert state.accounts[5].positions[BTC].size == -60
    worst = signed(CreateOrder(5, 2, FAR, BTC, False, 60, mark * 2, OrderKind.MARKET, ioc), 5)
    check_block(state, next_block(state, [worst]))
    assert ask_maker not in book.orders and state.accounts[5].positions.get(BTC) is None
    assert state.accounts[FEE_ACCOUNT].collateral > 0


def test_a_fill_settles_both_sides_funding_and_the_block_end_credits_the_pool() -> None:
    """After the funding index moved: a bid that takes 3's ask settles 3's short (the pool
    pays it), an ask that takes 4's bid settles 4's long (it pays the pool); the circuit
    reaches the rules' roots, the pool credited once per block."""
    state = resting_state()
    market = state.markets[BTC]
    moved = 2 * FUNDING_INDEX_SCALE  # 2 micro-USDC a lot
    state.set_market_data(market, "funding_index", market.data.funding_index + moved)
    pool = state.accounts[FUNDING_POOL]
    before = pool.collateral
    check_block(state, next_block(state, [order(5, 0, False, PRICES[BTC] + 10, size=40)]))
    assert pool.collateral == before - 2 * 500  # 3 was short 500
    ioc = TimeInForce.IOC
    check_block(state, next_block(state, [order(5, 1, True, PRICES[BTC] - 10, time_in_force=ioc)]))
    assert pool.collateral == before  # 4, long 500, paid as much; 5's long opened after


def _first_broken(witness: BlockWitness, preset: Preset = PRESET) -> str:
    cs, values = build_block_circuit(preset, CHAIN_ID, witness)
    assert values is not None
    with pytest.raises(UnsatisfiedConstraintError) as err:
        cs.check(values)
    return err.value.name


def test_the_block_end_credits_the_reserved_accounts_as_the_slots_left_them() -> None:
    """A block with a fill: the fee account's collateral is the running copy's (its free start
    value pinned at the end), it exists, and it is credited exactly the block's fees; the
    funding pool likewise."""
    state = resting_state()
    witness = build_block_witness(
        state, next_block(state, [order(5, 0, False, PRICES[BTC] + 10, size=40)])
    )
    fee, pool, fund = witness.reserved
    assert pool.index == FUNDING_POOL and state.accounts[FEE_ACCOUNT].collateral > fee.collateral
    start = witness.reserved_collateral
    moved = replace(witness, reserved_collateral=(start[0] + 1, start[1], start[2]))
    assert _first_broken(moved) == "block_end/fee_account/tracked"
    moved = replace(witness, reserved_collateral=(start[0], start[1] - 1, start[2]))
    assert _first_broken(moved) == "block_end/funding_pool/tracked"
    moved = replace(witness, reserved_collateral=(start[0], start[1], start[2] + 1))
    # the insurance fund is account 0, which the first noop reads: its copy is pinned there
    assert _first_broken(moved) == "slot1/a_collateral/insurance_fund_tracked"
    absent = replace(witness, reserved=(replace(fee, exists=False), pool, fund))
    assert _first_broken(absent) == "block_end/fee_account/exists"
    other = replace(witness, reserved=(fee, replace(pool, index=3), fund))
    assert _first_broken(other) == "block_end/funding_pool/index"
    other = replace(witness, reserved=(fee, pool, replace(fund, index=3)))
    assert _first_broken(other) == "block_end/insurance_fund/index"


def test_orders_that_take_several_steps_are_proven() -> None:
    """A taker left with size after its first step stays pending into the next slot's claim,
    which takes the next step (both slots heavy): a bid that takes one ask whole and part of
    the next, an IOC ask that takes the bid and has its remainder cancelled by the claim (no
    bid crosses it any more), a bid whose remainder rests after its fill."""
    state = resting_state()
    mark, ioc = PRICES[BTC], TimeInForce.IOC
    asks = sorted(o.key for o in state.markets[BTC].book.orders.values() if o.is_ask)
    blocks: list[list[Operation]] = [
        [order(5, 0, False, mark + 10, size=150), Claim(5)],
        [order(5, 1, True, mark - 10, size=150, time_in_force=ioc), Claim(5)],
        [order(4, 2, False, mark + 10, size=80), Claim(4)],
    ]
    for ops in blocks:
        check_block(state, next_block(state, ops))
    book = state.markets[BTC].book
    assert asks[0] not in book.orders and asks[1] not in book.orders
    (rested,) = book.orders.values()  # 4's bid remainder, the only order left
    assert (rested.account, rested.remaining, rested.price) == (4, 30, mark + 10)
    assert state.accounts[5].positions[BTC].size == 150 - 100


def test_the_step_limit_ends_a_taker_at_the_last_heavy_slot() -> None:
    """At minimal a taker takes at most 2 steps (``trading_slots``): a bid of 250 fills both
    asks of 100, and its claim's step, the second, ends it with 50 lots cancelled."""
    state = resting_state()
    ops: list[Operation] = [order(5, 0, False, PRICES[BTC] + 10, size=250), Claim(5)]
    assert _ended(state, ops) == "step-limit"
    assert state.accounts[5].positions[BTC].size == 200 and state.accounts[5].open_orders == 0


def test_steps_that_cancel_the_maker_they_meet_are_proven() -> None:
    """A step removes the best crossing order unfilled when it is the taker's own (self-trade)
    or has expired, and the taker goes on in its claim: 4's IOC ask meets its own bid (then
    nothing crosses: the remainder is cancelled); a bid meets 5's expired GTT ask, then fills
    against 3's ask."""
    state = resting_state()
    mark, ioc, gtt = PRICES[BTC], TimeInForce.IOC, TimeInForce.GTT
    bid = order_key(state, 4, False)
    check_block(
        state, next_block(state, [order(4, 2, True, mark - 10, time_in_force=ioc), Claim(4)])
    )
    assert bid not in state.markets[BTC].book.orders and state.accounts[4].open_orders == 0
    soon = state.timestamp + 15
    check_block(
        state,
        next_block(state, [order(5, 0, True, mark + 5, 10, time_in_force=gtt, order_expiry=soon)]),
    )
    check_block(state, next_block(state, [order(4, 3, False, mark + 10, size=50), Claim(4)], dt=20))
    book = state.markets[BTC].book
    assert all(o.account == 3 for o in book.orders.values()) and state.accounts[5].open_orders == 0
    assert state.accounts[4].positions[BTC].size == 500 + 50


def test_a_maker_whose_fill_fails_its_risk_rule_is_cancelled_and_the_taker_goes_on() -> None:
    """4's bid would take 4 past its margin (TAV - IMR is 1 micro-USDC): the step tries the
    fill, shows 4's valid-risk-change rule failing, cancels the bid and applies nothing of the
    fill; the claim then finds nothing crossing and cancels the IOC remainder."""
    state = resting_state()
    bid, holder = order_key(state, 4, False), state.accounts[4]
    risk = compute_risk(holder, state.markets)
    state.set_collateral(holder, holder.collateral - (risk.tav - risk.imr) + 1)
    before = holder.collateral
    ioc = TimeInForce.IOC
    ops: list[Operation] = [order(5, 0, True, PRICES[BTC] - 10, 50, time_in_force=ioc), Claim(5)]
    honest = build_block_witness(copy.deepcopy(state), next_block(state, ops))
    assert honest.slots[0].maker_fails_risk
    untried = replace(honest.slots[0], maker_fails_risk=False)  # no other reason to cancel
    untried_block = replace(honest, slots=(untried, honest.slots[1]))
    assert _first_broken(untried_block, TRADING) == "slot0/step/fill_step/cancel_has_reason"
    check_block(state, next_block(state, ops))
    assert bid not in state.markets[BTC].book.orders and holder.collateral == before
    assert state.accounts[5].positions.get(BTC) is None and holder.open_orders == 0


def _least_collateral(state: State, account: int, op: CreateOrder) -> int:
    """The least collateral of ``account`` with which the rules take ``op`` (its first step)."""
    low, high = 0, state.accounts[account].collateral
    while low < high:
        middle = (low + high) // 2
        trial = copy.deepcopy(state)
        trial.set_collateral(trial.accounts[account], middle)
        process_block_header(trial, trial.block_number + 1, trial.timestamp + 10)
        try:
            process_operation(trial, op)
        except InvalidTransaction:
            low = middle + 1
        else:
            high = middle
    return low


def _ended(state: State, ops: list[Operation]) -> str:
    """Proves ``ops`` (an order and its claim) and returns how its taker ended."""
    block = next_block(state, ops)
    events = process_block(copy.deepcopy(state), block).events
    outcomes = [e.outcome for step in events for e in step if isinstance(e, TakerDone)]
    check_block(state, block)
    assert state.pending is None
    return outcomes[-1]


def test_claims_that_end_their_taker_on_its_own_failure_are_proven() -> None:
    """A claim ends its taker, the remainder cancelled and nothing else moved, where the
    taker fails on its own side (``end_taker``): reduce-only with nothing left to reduce, its
    risk rule or the open-interest cap after the next fill tried, or no margin or no nonce for
    the remainder to rest. 5 trades against 3's two asks of 100 at the mark + 10 or 4's bid of
    100 at the mark - 10; the collateral is the least the first step needs."""
    mark, ioc = PRICES[BTC], TimeInForce.IOC
    state = resting_state()
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    process_operation_with_claims(state, order(5, 0, True, mark - 10, time_in_force=ioc))
    process_block_end(state)  # 5 is short 100, 4's bid gone
    closing = order(5, 1, False, mark + 10, 150, reduce_only=True)
    assert _ended(state, [closing, Claim(5)]) == "ReduceOnlyViolation"
    assert BTC not in state.accounts[5].positions
    assert [o.remaining for o in state.markets[BTC].book.orders.values()] == [100]

    state = resting_state()
    buy = order(5, 0, False, mark + 10, 150)
    state.set_collateral(state.accounts[5], _least_collateral(state, 5, buy))
    assert _ended(state, [buy, Claim(5)]) == "RiskCheckFailed"
    assert state.accounts[5].positions[BTC].size == 100

    state = resting_state()
    interest = state.markets[BTC].data.open_interest
    state.markets[BTC].params = replace(state.markets[BTC].params, max_open_interest=interest + 120)
    state.dirty.markets.add(BTC)
    assert _ended(state, [buy, Claim(5)]) == "OpenInterestLimit"
    assert state.markets[BTC].data.open_interest == interest + 100

    state = resting_state()
    sell = order(5, 0, True, mark - 10, 150)
    state.set_collateral(state.accounts[5], _least_collateral(state, 5, sell))
    block = next_block(state, [sell, Claim(5)])
    honest = build_block_witness(copy.deepcopy(state), block)
    assert (honest.slots[1].ends_taker, honest.slots[1].rest_fails) == (True, True)
    untold = replace(honest.slots[1], ends_taker=False, rest_fails=False)  # it would rest
    rests = replace(honest, slots=(honest.slots[0], untold))
    assert _first_broken(rests, TRADING) == "slot1/step/order_margin_covered"
    assert _ended(state, [sell, Claim(5)]) == "RiskCheckFailed"
    assert state.accounts[5].positions[BTC].size == -100 and state.accounts[5].open_orders == 0

    state = resting_state()  # the asks' nonces spent: the remainder cannot rest
    state.markets[BTC].book.ask_nonce = 1 << state.preset.order_nonce_bits
    state.dirty.books.add(BTC)
    assert _ended(state, [sell, Claim(5)]) == "OrderBookFull"
    assert state.accounts[5].positions[BTC].size == -100 and state.accounts[5].open_orders == 0


def test_a_pending_taker_lets_only_its_claim_follow() -> None:
    """The running taker: a slot after a step that left size must be that taker's claim, and
    none may be left after the heavy slots (here all of the block's)."""
    state = resting_state()
    taker = order(5, 0, False, PRICES[BTC] + 10, size=150)
    honest = build_block_witness(copy.deepcopy(state), next_block(state, [taker, Claim(5)]))
    slots = list(honest.slots)
    noop = build_block_witness(copy.deepcopy(state), next_block(state, [Noop()])).slots[0]
    follows = replace(honest, slots=(slots[0], noop))
    assert _first_broken(follows, TRADING) == "slot1/only_claims_while_pending"
    moved = replace(honest, slots=(noop, slots[0]))  # the taker's step in the last slot
    assert _first_broken(moved, TRADING) == "heavy_end/no_pending_taker"


def test_a_light_slot_proves_only_the_money_path() -> None:
    """The block's second slot is light: a leverage change there is refused by the witness
    builder (the state as it was) and by the circuit itself; in the heavy slot it is proven
    beside the light slot's transfer."""
    state = new_state()
    change = signed(SetLeverage(3, 0, FAR, BTC, 200_000), 3)
    transfer = signed(Transfer(4, 0, FAR, 5, 7), 4)
    before = update_state_root(state)
    with pytest.raises(UnprovableOperationError, match="in a light slot"):
        build_block_inputs(state, next_block(state, [transfer, change]))
    assert update_state_root(state) == before
    witness = build_block_witness(copy.deepcopy(state), next_block(state, [change, transfer]))
    swapped = replace(witness, slots=witness.slots[::-1])
    with pytest.raises(ValueError, match="a light slot cannot prove an operation of type 21"):
        build_block_circuit(PRESET, CHAIN_ID, swapped)
    check_block(state, next_block(state, [change, transfer]))
    assert state.accounts[3].positions[BTC].imf == 200_000


def test_a_key_is_needed_to_sign() -> None:
    scratch = started_block(new_state())
    op = signed(Withdraw(1, 0, FAR, 5), 1)  # the fee account has no key
    assert rejection(forced_witness(scratch, op)).startswith("slot0/signature/eddsa/public_key")


# -- tampering with the record -----------------------------------------------------------------


def _honest(ops: list[Operation]) -> tuple[State, BlockWitness, list[int]]:
    """A state, the block witness of ``ops`` from it, and the rules' public inputs."""
    state = new_state()
    block = next_block(state, ops)
    expected = native_public_inputs(copy.deepcopy(state), block)
    return state, build_block_witness(state, block), expected


def _with_record(
    witness: BlockWitness, slot: int, edit: Callable[[bytearray], None]
) -> BlockWitness:
    record = bytearray(witness.slots[slot].record)
    edit(record)
    slots = list(witness.slots)
    slots[slot] = replace(slots[slot], record=bytes(record))
    return replace(witness, slots=tuple(slots))


def _set(offset: int, value: int) -> Callable[[bytearray], None]:
    def edit(record: bytearray) -> None:
        record[offset] = value

    return edit


@pytest.mark.parametrize(
    ("ops", "offset", "value", "constraint"),
    [
        ([ForcedWithdraw(3, owner_of(3), 5)], 42, 6, "slot0/forced_withdraw/withdrawn_field"),
        (
            [RegisterKey(3, owner_of(3), BAD_KEYS["no_point"])],
            59,
            1,
            "slot0/register_key/status_field",
        ),
        ([RegisterKey(3, owner_of(3), key_bytes(7))], 59, 0, "slot0/register_key/status_field"),
        ([Deposit(3, owner_of(3), 5)], 40, 1, "slot0/deposit/unused_bytes_zero"),
        # another depositor: the data commitment, hence the challenge, moves
        ([Deposit(3, owner_of(3), 5)], 26, 0, "challenge_is_public"),
        (
            [signed(Transfer(3, 0, FAR, 4, 5), 3)],
            20,
            6,
            "slot0/signature/eddsa/s_g_is_r_plus_c_a_x",
        ),
    ],
)
def test_a_changed_record_byte_is_rejected(
    ops: list[Operation], offset: int, value: int, constraint: str
) -> None:
    _, witness, expected = _honest(ops)
    cs, values = build_block_circuit(
        PRESET, CHAIN_ID, _with_record(witness, 0, _set(offset, value))
    )
    assert values is not None
    values[1 : 1 + len(expected)] = expected  # the public inputs stay those of the posted batch
    with pytest.raises(UnsatisfiedConstraintError) as err:
        cs.check(values)
    assert err.value.name == constraint


def test_on_the_blob_path_the_circuits_evaluation_is_ckzgs_opening_of_the_posted_blob() -> None:
    """With blobs, d digests the blob's versioned hash, and the circuit's e at its own z is
    ckzg's y of the very blob the batch posts (what the precompile checks) folded with the L1
    records' value that the contract computes from calldata."""
    from sequencer import kzg

    state = new_state()
    block = next_block(state, [Deposit(3, owner_of(3), 5), Deposit(4, owner_of(4), 7)])
    result = process_block(copy.deepcopy(state), block)
    records = pubdata.compute_batch_pubdata(result.records, PRESET.ops_per_block)
    cs, values = build_block_inputs(state, block, blob.DataAvailability.BLOBS)
    cs.check(values)
    _, _, _, d, z, e = cs.public_inputs(values)
    opening = kzg.open_blob(records, z)
    l1 = blob.get_l1_records(records)
    assert d == blob.compute_data_hash(opening.versioned_hash, l1)
    assert kzg.is_valid_opening(opening.commitment, z, opening.y, opening.proof)
    y_l1 = blob.evaluate_l1_records(l1, PRESET.ops_per_block, z)
    assert e == blob.fold_evaluations(opening.y, y_l1, z)


def test_a_changed_old_root_is_rejected() -> None:
    _, witness, expected = _honest([Deposit(3, owner_of(3), 5)])
    cs, values = build_block_circuit(PRESET, CHAIN_ID, witness)
    assert values is not None and cs.public_inputs(values) == expected
    values[1] = (values[1] + 1) % R
    with pytest.raises(UnsatisfiedConstraintError) as err:
        cs.check(values)
    assert err.value.name == "old_state_root_is_public"


@pytest.mark.parametrize(
    ("index", "edit"),
    [
        (0, lambda m: replace(m, data=(m.data[0], m.data[1] + 1, *m.data[2:]))),
        (0, lambda m: replace(m, params=(m.params[0], m.params[1] - 1, *m.params[2:]))),
        (0, lambda m: replace(m, exists=False)),
        (1, lambda m: replace(m, exists=True)),
    ],
    ids=["mark_price", "imf", "market_absent", "absent_market_exists"],
)
def test_the_markets_are_opened_against_the_old_market_root(
    index: int, edit: Callable[[MarketWitness], MarketWitness]
) -> None:
    _, witness, expected = _honest([Deposit(3, owner_of(3), 5)])
    assert [m.exists for m in witness.markets] == [True, False]  # BTC only
    markets = tuple(edit(m) if i == index else m for i, m in enumerate(witness.markets))
    cs, values = build_block_circuit(PRESET, CHAIN_ID, replace(witness, markets=markets))
    assert values is not None
    values[1 : 1 + len(expected)] = expected
    with pytest.raises(UnsatisfiedConstraintError) as err:
        cs.check(values)
    assert err.value.name == "old_state_root_is_public"


# -- Groth16 -----------------------------------------------------------------------------------


@pytest.mark.prove
def test_a_proof_forced_from_a_bad_witness_does_not_verify() -> None:
    """At the minimal preset itself: an honest block (a leverage change and a fill among its
    operations) proves and verifies; a forced proof of an overdraft does not."""
    from prover.groth16 import Prover, verify
    from prover.setup import load_or_setup
    from scripts.deployment import KEYS_DIR

    state = new_state(MINIMAL)
    bad = forced_witness(started_block(state), signed(Transfer(3, 0, FAR, 4, START + 1), 3))
    cs, bad_values = build_block_circuit(MINIMAL, CHAIN_ID, bad)
    assert bad_values is not None
    prover = Prover(load_or_setup(cs, "block", "minimal", KEYS_DIR))  # the operator's key
    with pytest.raises(UnsatisfiedConstraintError):
        prover.prove(cs, bad_values)
    forced = prover.assemble(cs, bad_values)
    assert not verify(prover.pk.vk, cs.public_inputs(bad_values), forced)

    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    ask = CreateOrder(4, 0, FAR, BTC, True, 50, PRICES[BTC] + 10)
    process_operation_with_claims(state, signed(ask, 4))
    process_block_end(state)
    ops: list[Operation] = [
        signed(SetLeverage(5, 0, FAR, BTC, 200_000), 5),  # heavy slots'
        signed(CreateOrder(3, 0, FAR, BTC, False, 20, PRICES[BTC] + 10), 3),  # fills 20
        signed(Transfer(3, 1, FAR, 4, 5), 3),  # light slots'
        Deposit(6, owner_of(6), 9),
    ]
    block = next_block(state, ops)
    expected = native_public_inputs(copy.deepcopy(state), block)
    honest_cs, values = build_block_inputs(state, block)
    assert honest_cs.public_inputs(values) == expected
    assert verify(prover.pk.vk, expected, prover.prove(honest_cs, values))
