"""The witness builder: a block, or an exit, as the inputs of its circuit.

``build_block_witness(state, block)`` applies ``block`` to ``state`` with the functions
``protocol.block.process_block`` calls (header, each operation in its savepoint, end check)
and records around each operation what its slot reads: accounts A and B as they are before it
(leaf fields, and Merkle siblings from the trees that ``update_state_root`` brings up to date
after every operation), its record, and for an L2 transaction its expiry and signature. A's
siblings are taken before the operation; B's after it (they do not depend on B's own leaf, and
include A's new one, which is what the circuit's second update starts from); B is a fill's
maker where the operation fills one. The unused slots are filled with noops, before the
block's end, whose fee account, funding pool and insurance fund leaves are taken after the
slots (each one's path after the credits of those before it).

``build_block_inputs`` adds the circuit: the (ConstraintSystem, witness) pair the prover takes.
The system is the same for every block of a deployment, so it is built once per preset and
chain id (``get_block_system``) and each block's witness is computed in a values-only builder
(``circuits.r1cs``), which records no constraint: several times faster, and the prover checks
the witness against the cached system before it proves.
``build_exit_witness(state, index)`` opens one account, and the insurance fund (for the pool
share), with their positions and the market leaves, for the exit circuit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import cast

from circuits.block import BlockWitness, MarketWitness, build_block_circuit, define_block
from circuits.exit import ExitWitness, get_exit_witness
from circuits.gadgets.book_tree import pack_node
from circuits.ops.book_unit import BookWitness, get_order_fields, get_trigger_fields
from circuits.ops.common import OpCircuit, empty_positions_root
from circuits.ops.pre_execution import MarketSlotWitness
from circuits.ops.slot import (
    LIGHT_TYPES,
    OP_CIRCUITS,
    ROUND_OPS,
    AccountWitness,
    SlotWitness,
    get_dummy_signature,
    get_slot_kind,
)
from circuits.r1cs import Builder, ConstraintSystem
from circuits.system_cache import load_or_build
from protocol.accounts import INSURANCE_FUND
from protocol.blob import DataAvailability, compute_data_hash, get_l1_records
from protocol.block import (
    Block,
    Operation,
    compute_record,
    process_block_end,
    process_block_header,
    process_operation,
)
from protocol.commitment import StateTrees, compute_quote_shift, update_state_root
from protocol.errors import InvalidBlock, InvalidTransaction, UnknownAccount
from protocol.events import Event, OrderCancelled, TakerDone
from protocol.markets import ADL_FIELDS
from protocol.matching import STEP_LIMIT
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.liquidate import Liquidate
from protocol.ops.noop import Noop
from protocol.ops.pre_execution import PreExecution
from protocol.ops.trigger_order import FireTrigger
from protocol.params import Preset
from protocol.pubdata import OpType, compute_batch_pubdata
from protocol.signing import SignedOp
from protocol.state import ACCRUING_ACCOUNTS, State
from sequencer.kzg import compute_source_hash

_CIRCUIT_OF = {circuit.op_class: circuit for circuit in OP_CIRCUITS}


class UnprovableOperationError(ValueError):
    """An operation the block circuit does not prove: a type it has no slot logic for yet
    (trading), an account index outside the tree (L1 never queues one), or an unsigned L2
    transaction."""


def _get_trees(state: State) -> StateTrees:
    update_state_root(state)
    assert state.trees is not None  # update_state_root makes them
    return state.trees


def capture_account(state: State, index: int) -> AccountWitness:
    """Account ``index`` as the circuit reads it now: leaf fields and Merkle siblings."""
    trees = _get_trees(state)
    siblings = tuple(trees.accounts.proof(index).siblings)
    account = state.accounts.get(index)
    if account is None:
        return AccountWitness.empty(index, siblings, empty_positions_root(state.preset))
    positions = trees.positions.get(index)
    return AccountWitness(
        index,
        siblings,
        True,
        int.from_bytes(account.owner, "big"),
        account.pubkey,
        account.nonce,
        account.collateral,
        empty_positions_root(state.preset) if positions is None else positions.root(),
        account.open_orders,
        account.pool_shares,
        account.cancel_epoch,
    )


def capture_positions(state: State, index: int) -> tuple[tuple[int, int, int, int], ...]:
    """Account ``index``'s position fields per market index (zeros where it has none)."""
    account = state.accounts.get(index)
    held = {} if account is None else account.positions
    fields = []
    for m in range(state.preset.max_markets):
        p = held.get(m)
        fields.append(
            (0, 0, 0, 0) if p is None else (p.size, p.entry_quote, p.funding_index, p.imf)
        )
    return tuple(fields)


def capture_book(state: State, market: int, key: int, trigger_id: int | None = None) -> BookWitness:
    """The order leaf at ``key`` in ``market``'s book as the slot's book unit reads it now:
    the order's fields, its path's sibling nodes, the market's book leaf and its siblings;
    with ``trigger_id``, the trigger leaf there too (its fields, zeros for none, and its
    siblings in the market's trigger tree)."""
    trees, preset = _get_trees(state), state.preset
    book = state.markets[market].book
    order = book.orders.get(key)
    fields = get_order_fields(order)
    shift = compute_quote_shift(preset)
    proof = trees.get_order_tree(market).proof(key)
    siblings = tuple(pack_node(node, shift) for node in proof.siblings)
    order_root = trees.get_order_tree(market).root()[0]
    book_leaf = (order_root, trees.get_trigger_tree(market).root(), book.ask_nonce, book.bid_nonce)
    book_siblings = tuple(trees.books.proof(market).siblings)
    witness = BookWitness(market, key, fields, siblings, book_leaf, book_siblings)
    if trigger_id is None:
        return witness
    trigger = state.markets[market].triggers.get(trigger_id)
    trigger_siblings = tuple(trees.get_trigger_tree(market).proof(trigger_id).siblings)
    return replace(witness, trigger=get_trigger_fields(trigger), trigger_siblings=trigger_siblings)


def capture_book_of(state: State, circuit: OpCircuit, op: Operation) -> BookWitness | None:
    """The order leaf ``op`` reads, if it reads one in a market and key that exist (else the
    rules refuse ``op``)."""
    touched = None if circuit.get_book_key is None else circuit.get_book_key(state, op)
    if touched is None:
        return None
    market, key = touched
    if not (0 <= market < len(state.markets) and 0 <= key < 1 << state.preset.order_tree_depth):
        return None
    opened = None if circuit.get_trigger is None else circuit.get_trigger(state, op)
    if opened is None:
        return capture_book(state, market, key)
    trigger_id, trigger = opened
    if not 0 <= trigger_id < 1 << state.preset.order_nonce_bits:
        return None
    book = capture_book(state, market, key, trigger_id)
    return replace(book, trigger=get_trigger_fields(trigger))


def check_provable(state: State, op: Operation) -> None:
    """Raises UnprovableOperationError if the block circuit cannot prove ``op`` applied to
    ``state`` now (the builder asks before it takes an operation into a block)."""
    _get_circuit(state, op)


def _get_circuit(state: State, op: Operation) -> OpCircuit:
    circuit = _CIRCUIT_OF.get(type(op))
    if circuit is None:
        raise UnprovableOperationError(f"{type(op).__name__} has no slot in the block circuit")
    for index in circuit.get_accounts(op):
        if not state.is_valid_account_index(index):
            raise UnprovableOperationError(f"account {index!r} is outside the tree")
    if circuit.signed and getattr(op, "signature", None) is None:
        raise UnprovableOperationError(f"{type(op).__name__} carries no signature")
    return circuit


# the operations that hand a slot a step
MATCHING_STEPS = (CreateOrder, Claim, ForcedOrder, FireTrigger, Liquidate)

# how a matching step the block circuit proves ends its taker (``TakerDone.outcome``): as the
# rules finish it, or, in a claim, on the taker's own failure: at the maker it meets (reduce-only
# with nothing to reduce; its risk rule or open interest after the fill tried) or where its
# remainder would rest (no margin, no nonce left on the side, no room for an order), or before
# either, its market deleveraging; a forced order's first step may end its taker as a claim's
# does, and so may a fired trigger's
FROZEN = "MarketDeleveraging"
PROVEN_OUTCOMES = frozenset({"filled", "rested", "cancelled", STEP_LIMIT})
PROVEN_FAILURES = frozenset(
    {
        *("ReduceOnlyViolation", "RiskCheckFailed", "OpenInterestLimit"),
        *("OrderBookFull", "TooManyOpenOrders", FROZEN),
    }
)


def check_outcome(op: Operation, events: Sequence[Event]) -> bool:
    """Whether the step of ``op`` ends its taker on the taker's own failure; raises
    UnprovableOperationError for a failure the block circuit does not prove yet."""
    if not isinstance(op, MATCHING_STEPS):
        return False
    for event in events:
        if isinstance(event, TakerDone) and event.outcome not in PROVEN_OUTCOMES:
            if event.outcome not in PROVEN_FAILURES:
                raise UnprovableOperationError(
                    f"a taker ended by its own failure ({event.outcome}) is not proven yet"
                )
            return True
    return False


def build_slot_witness(state: State, op: Operation) -> SlotWitness:
    """Applies ``op`` (``process_operation``: all or nothing) and returns its slot's inputs.
    Raises UnprovableOperationError (``op`` applied) for a matching step the circuit does not
    prove yet (``check_outcome``)."""
    circuit = _get_circuit(state, op)
    a_index, b_index = circuit.get_accounts(op, state)
    a, b = capture_account(state, a_index), capture_account(state, b_index)
    positions = capture_positions(state, a_index)
    b_positions = capture_positions(state, b_index)
    book = capture_book_of(state, circuit, op)
    round_fields = capture_round(state, circuit, op)
    # the step meets a maker (where it fails, the taker ends there, not where it would rest)
    meets = circuit.get_counterparty is not None and circuit.get_counterparty(state, op) is not None
    events = process_operation(state, op)
    ends = check_outcome(op, events)
    record = compute_record(op, events)
    choice = (False,) * 4  # a matching step's private bits (``STEP_CHOICES``)
    if isinstance(op, MATCHING_STEPS):
        reasons = [e.reason for e in events if isinstance(e, OrderCancelled)]
        frozen = any(isinstance(e, TakerDone) and e.outcome == FROZEN for e in events)
        choice = (bool(reasons), reasons == ["risk"], ends, ends and not meets and not frozen)
    b_after = capture_account(state, b_index)
    if b_index == a_index:  # B is A after the slot, unchanged by it
        b, b_positions = b_after, capture_positions(state, b_index)
    else:
        b = replace(b, siblings=b_after.siblings)
    if circuit.signed:
        tx = cast(SignedOp, op)
        assert tx.signature is not None  # _get_circuit checked it
        expiry, signature = tx.expiry, tx.signature
    else:
        expiry, signature = state.timestamp, get_dummy_signature()[1]
    return SlotWitness(
        *(record, a, b, expiry, signature, positions, book, b_positions, *choice, round_fields)
    )


def capture_round(state: State, circuit: OpCircuit, op: Operation) -> tuple[int, ...]:
    """The ``adl_*`` fields of the round a round operation reads (signed), () for another
    operation or a market outside the tree."""
    market = getattr(op, "market", None)
    if circuit not in ROUND_OPS or not isinstance(market, int):
        return ()
    if not 0 <= market < len(state.markets):
        return ()
    data = state.markets[market].data
    return tuple(getattr(data, name) for name in ADL_FIELDS)


def build_block_witness(
    state: State, block: Block, data: DataAvailability = DataAvailability.CALLDATA
) -> BlockWitness:
    """Applies ``block`` to ``state`` as ``process_block`` does (all or nothing: InvalidBlock
    names the first invalid operation) and returns the block circuit's private inputs, with the
    digest the contract computes of the batch posted as ``data`` (PROTOCOL 9.9).

    Raises UnprovableOperationError, leaving the state as it was, for a block the circuit
    cannot prove."""
    preset = state.preset
    if len(block.operations) > preset.ops_per_block:
        raise InvalidBlock(f"{len(block.operations)} operations exceed {preset.ops_per_block}")
    for position, op in enumerate(block.operations):
        _check_slot_kind(state, position, op)
    old_timestamp, book_root = state.timestamp, _get_trees(state).books.root()
    markets = capture_markets(state)
    accounts = state.accounts
    collateral = tuple(accounts[i].collateral for i in ACCRUING_ACCOUNTS)
    try:
        with state.transaction():
            process_block_header(state, block.number, block.timestamp)
            ops = list(block.operations)
            ops += [Noop()] * (preset.ops_per_block - len(ops))
            first_market_slot = preset.operation_slots
            slots = [_build_nth_slot(state, i, op) for i, op in enumerate(ops[:first_market_slot])]
            market_slots = [
                _build_market_slot(state, first_market_slot + i, op)
                for i, op in enumerate(ops[first_market_slot:])
            ]
            reserved = _capture_reserved(state)
            process_block_end(state)
    except BaseException:
        # the trees were rehashed with leaves (accounts, positions, orders, markets) the
        # rollback undid: the next root rebuilds them from the state
        state.trees = None
        raise
    records = [*(s.record for s in slots), *(m.record for m in market_slots)]
    batch = compute_batch_pubdata(records, preset.ops_per_block)
    data_hash = compute_data_hash(compute_source_hash(data, batch), get_l1_records(batch))
    return BlockWitness(
        old_timestamp,
        block.timestamp,
        book_root,
        markets,
        tuple(slots),
        data_hash,
        (collateral[0], collateral[1], collateral[2]),
        (reserved[0], reserved[1], reserved[2]),
        tuple(market_slots),
    )


def _capture_reserved(state: State) -> list[AccountWitness]:
    """The accounts the block's end credits (``ACCRUING_ACCOUNTS``: the fee account, the
    funding pool, the insurance fund), as the circuit opens them after the slots: each one's
    fields before its credit, and its path after the credits of those before it (its own leaf
    is not on it). The trees are left as they were."""
    tree = _get_trees(state).accounts
    reserved = [capture_account(state, i) for i in ACCRUING_ACCOUNTS]
    tree.begin()
    try:
        for k, account in enumerate(reserved):
            reserved[k] = replace(account, siblings=tuple(tree.proof(account.index).siblings))
            credit = state.get_accrued(account.index)
            tree.set(account.index, replace(account, collateral=account.collateral + credit).leaf())
    finally:
        tree.rollback()
    return reserved


def _check_slot_kind(state: State, position: int, op: Operation) -> None:
    """``op`` can be proven in slot ``position``: a pre-execution (or a noop) in a market slot,
    the last ``market_slots``; anything else the circuit proves in the others, a trading
    operation in a heavy one, a claim in a heavy or claim slot, nothing else in a claim
    slot."""
    preset, name = state.preset, type(op).__name__
    if position >= preset.operation_slots:
        if not isinstance(op, PreExecution | Noop):
            raise UnprovableOperationError(f"operation {position} ({name}) is in a market slot")
        return
    if isinstance(op, PreExecution):
        raise UnprovableOperationError(
            f"operation {position} (PreExecution) is outside the market slots: the block's last "
            f"{preset.market_slots}"
        )
    _get_circuit(state, op)
    kind = get_slot_kind(preset, position)
    if op.op_type() not in kind.op_types:
        where = f"only the block's first {preset.trading_slots} slots prove it"
        if op.op_type() == OpType.CLAIM:
            where = f"only the block's first {preset.matching_slots} slots prove a claim"
        elif op.op_type() in LIGHT_TYPES:
            where = "a claim slot proves claims and noops only"
        raise UnprovableOperationError(
            f"operation {position} ({name}) is in a {kind.name} slot: {where}"
        )


def _build_market_slot(state: State, position: int, op: Operation) -> MarketSlotWitness:
    """Market slot ``position``: what it reads before ``op`` (a pre-execution or a noop), then
    ``op`` applied."""
    _get_trees(state)  # the book tree's paths as they are now
    pre_execution = op if isinstance(op, PreExecution) else None
    witness = MarketSlotWitness.of(state, pre_execution)
    try:
        process_operation(state, op)
    except InvalidTransaction as error:
        raise InvalidBlock(f"operation {position} ({type(op).__name__}): {error}") from error
    return witness


def capture_markets(state: State) -> tuple[MarketWitness, ...]:
    """Every market index's leaf fields as the block circuit opens them (absent ones blank)."""
    markets = state.markets
    return tuple(
        MarketWitness.of(markets[i] if i < len(markets) else None)
        for i in range(state.preset.max_markets)
    )


def _build_nth_slot(state: State, position: int, op: Operation) -> SlotWitness:
    """Slot ``position``: ``op`` applied, its inputs captured."""
    try:
        return build_slot_witness(state, op)
    except InvalidTransaction as error:
        raise InvalidBlock(f"operation {position} ({type(op).__name__}): {error}") from error


def build_block_inputs(
    state: State, block: Block, data: DataAvailability = DataAvailability.CALLDATA
) -> tuple[ConstraintSystem, list[int]]:
    """Applies ``block`` and returns the block circuit and its witness (what
    ``prover.groth16.Prover.prove`` takes); the public inputs are ``circuits.block``'s
    ``PUBLIC_INPUTS``."""
    witness = build_block_witness(state, block, data)
    cs = get_block_system(state.preset, state.config.chain_id)
    values = compute_block_values(state.preset, state.config.chain_id, witness)
    if len(values) != cs.num_wires:
        raise AssertionError(f"the witness has {len(values)} wires, the system {cs.num_wires}")
    return cs, values


@cache
def get_block_system(preset: Preset, chain_id: int) -> ConstraintSystem:
    """The block circuit of a deployment, built once (setup mode) and shared by its blocks;
    kept on disk too (``circuits.system_cache``), so that a new process loads it back."""
    return load_or_build(
        f"block {preset!r} {chain_id}", lambda: build_block_circuit(preset, chain_id)[0]
    )


def compute_block_values(preset: Preset, chain_id: int, witness: BlockWitness) -> list[int]:
    """The block circuit's wire values for ``witness``, without building its constraints."""
    builder = Builder(witness=True, values_only=True)
    define_block(builder, preset, chain_id, witness)
    return builder.witness_values()


def build_exit_witness(state: State, index: int) -> ExitWitness:
    """The exit circuit's private inputs for account ``index`` of ``state``."""
    if state.accounts.get(index) is None:
        raise UnknownAccount(f"no account {index}")
    account, fund = capture_account(state, index), capture_account(state, INSURANCE_FUND)
    return get_exit_witness(state, account, fund, _get_trees(state).books.root())
