"""The claim slot (docs/PROTOCOL.md 8.C, "Slot kinds"): the ``claim_slots`` after the heavy
ones prove a pending taker's claim (or a noop) exactly as a heavy slot does, without the
signature unit, the other operations and the pool-share ranges; anything else there is refused
by the witness builder, by the circuit, and, for a noop while a taker is pending, at
``only_claims_while_pending``.

The differential proves the same blocks, an order in slot 1 and its claim in slot 2, with
slot 2 a claim slot (``CLAIMS``) and with it heavy (``ALL_HEAVY``): the same public inputs.
Its blocks cover what the claim slot does its own way (``SlotKind.one_market``: the traded
position leaf rewritten along its path, the risk after with one market's share replaced):
fills in the left and the right leaf of a two-market tree, each beside a live sibling, and a
taker ended on its own risk rule (a trial, both sides' risks after); a maker failing its risk
rule in the claim slot is checked against the rules alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

import pytest

from bench.constraints import count_claim_slot_scopes, count_heavy_slot_scopes
from circuits.block import build_block_circuit, define_block
from circuits.gadgets.equality import is_equal
from circuits.gadgets.smt import compute_root_from_bits
from circuits.ops.common import compute_account_leaf, compute_balance_hash
from circuits.ops.slot import (
    CLAIM,
    HEAVY,
    AccountWitness,
    alloc_account,
    carry_account,
    get_slot_kind,
    update_account,
)
from circuits.r1cs import Builder, UnsatisfiedConstraintError
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
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder, TimeInForce
from protocol.ops.deposit import Deposit
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.noop import Noop
from protocol.ops.register_key import RegisterKey
from protocol.ops.transfer import Transfer
from protocol.params import DEVNET, MINIMAL, Preset
from protocol.risk import compute_risk
from protocol.smt import SparseMerkleTree
from protocol.state import State, make_genesis
from sequencer.witness import UnprovableOperationError, build_block_inputs, build_block_witness
from tests.circuits.test_block import (
    CHAIN_ID,
    START,
    TRADING,
    USERS,
    key_bytes,
    next_block,
    order,
    resting_state,
    signed,
)
from tests.circuits.tracing import TracingBuilder, unsatisfied
from tests.protocol.helpers import BTC, ETH, FAR, MARKET, PRICES, owner_of

# three slots: two heavy, then a claim slot; and the same three all heavy
CLAIMS = MINIMAL.with_overrides(ops_per_block=3, trading_slots=2, claim_slots=1, market_slots=0)
ALL_HEAVY = CLAIMS.with_overrides(trading_slots=3, claim_slots=0)


def with_preset(state: State, preset: Preset) -> State:
    """A copy of ``state`` whose blocks have ``preset``'s slots (the same trees)."""
    copied = copy.deepcopy(state)
    copied.config = replace(copied.config, preset=preset)
    copied.preset = preset
    return copied


def proven_inputs(state: State, ops: list[Operation]) -> list[int]:
    """The public inputs of the block of ``ops`` after ``state``, checked in the circuit."""
    cs, witness = build_block_inputs(state, next_block(state, ops))
    cs.check(witness)
    return cs.public_inputs(witness)


def test_the_layout_puts_the_claim_slots_after_the_heavy_ones() -> None:
    assert [get_slot_kind(CLAIMS, i) for i in range(3)] == [HEAVY, HEAVY, CLAIM]
    kinds = [get_slot_kind(DEVNET, i).name for i in range(DEVNET.operation_slots)]
    assert kinds == ["heavy"] * 3 + ["claim"] + ["light"] * 3
    assert DEVNET.matching_slots == 4 and MINIMAL.matching_slots == MINIMAL.trading_slots


def _modified(state: State) -> list[Operation]:
    """3 moves its second ask to the mark + 20: the claim rests the post-only taker."""
    second = max(o.key for o in state.markets[BTC].book.orders.values() if o.is_ask)
    moved = signed(ModifyOrder(3, 3, FAR, BTC, second, PRICES[BTC] + 20, 70), 3)
    return [Noop(), moved, Claim(3)]


def _trade(state: State, trades: list[tuple[int, int, bool, int, int]]) -> None:
    """A block of native orders ``(account, market, is_ask, size, price)``, each at its
    account's next nonce."""
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    for account, market, is_ask, size, price in trades:
        nonce = state.accounts[account].nonce
        op = CreateOrder(account, nonce, FAR, market, is_ask, size, price)
        process_operation_with_claims(state, signed(op, account))
    process_block_end(state)


def two_markets() -> State:
    """``resting_state`` with ETH listed too: users 3, 4, 5 funded and keyed, 3 short and 4
    long 500 BTC, 3's two asks at the BTC mark + 10 and 4's bid at the mark - 10."""
    markets = ((MARKET, PRICES[BTC]), (MARKET, PRICES[ETH]))
    state = make_genesis(TRADING, CHAIN_ID, markets, owner_of(0), owner_of(1))
    for n, user in enumerate(USERS, start=1):
        funded = (
            Deposit(user, owner_of(user), START),
            RegisterKey(user, owner_of(user), key_bytes(user)),
        )
        process_block(state, Block(n, 100 * n, funded))
    update_state_root(state)
    mark = PRICES[BTC]
    _trade(state, [(3, BTC, True, 500, mark), (4, BTC, False, 500, mark)])
    asks = [(3, BTC, True, 100, mark + 10)] * 2
    _trade(state, [*asks, (4, BTC, False, 100, mark - 10)])
    return state


def _both_markets_held(state: State) -> list[Operation]:
    """3 (the maker) and 5 (the taker) hold ETH too: the claim rewrites their BTC leaf, the
    left one, beside a live sibling."""
    _trade(state, [(3, ETH, True, 100, PRICES[ETH]), (5, ETH, False, 100, PRICES[ETH])])
    return [Noop(), order(5, 1, False, PRICES[BTC] + 10, size=150), Claim(5)]


def _in_eth(state: State) -> list[Operation]:
    """5 holds BTC (it took 3's first BTC ask), 3 rests two ETH asks: the order in ETH fills
    the first, the claim 50 of the second, the right leaf rewritten beside a live one."""
    ask = PRICES[ETH] + 1
    _trade(state, [(5, BTC, False, 100, PRICES[BTC] + 10), *[(3, ETH, True, 100, ask)] * 2])
    taker = signed(CreateOrder(5, 1, FAR, ETH, False, 150, ask), 5)
    return [Noop(), taker, Claim(5)]


def _taker_fails_risk(state: State) -> list[Operation]:
    """5's TAV - IMR covers the order's first 100 lots (about 101,500) and not 150: the claim
    tries 50 of 3's second ask, and ends 5 on its own risk rule (the trial, both sides)."""
    _set_margin(state, 5, 127_000)
    return [Noop(), order(5, 0, False, PRICES[BTC] + 10, size=150), Claim(5)]


def _set_margin(state: State, account: int, margin: int) -> None:
    """``account``'s collateral set so that its TAV - IMR is ``margin``."""
    holder = state.get_account(account)
    risk = compute_risk(holder, state.markets)
    state.set_collateral(holder, holder.collateral - (risk.tav - risk.imr) + margin)


BLOCKS: dict[str, Callable[[State], list[Operation]]] = {
    # the order fills 3's first ask, the claim 50 of its second
    "fill": lambda state: [Noop(), order(5, 0, False, PRICES[BTC] + 10, size=150), Claim(5)],
    # the IOC ask fills 4's bid, the claim finds nothing crossing and cancels the remainder
    "cancel the remainder": lambda state: [
        Noop(),
        order(5, 0, True, PRICES[BTC] - 10, size=150, time_in_force=TimeInForce.IOC),
        Claim(5),
    ],
    "rest": _modified,
    "both markets held": _both_markets_held,
    "in the right leaf": _in_eth,
    "the taker fails its risk": _taker_fails_risk,
    # the order fills 3's first ask and is done: the claim slot's noop (its record's account
    # 0) leaves the account the heavy slot carried, 5's, as it is
    "a noop after a taker done": lambda state: [
        Noop(),
        order(5, 0, False, PRICES[BTC] + 10, size=100),
        Noop(),
    ],
    # 4's ask meets its own bid, which the heavy slot cancels (B is A), the claim rests it
    "a self-trade": lambda state: [
        Noop(),
        order(4, 2, True, PRICES[BTC] - 10, size=50),
        Claim(4),
    ],
    # 4 pays 3: the two paths meet at the tree's level 2 (4 = 0b100, 3 = 0b011), so the carried
    # siblings are 4's with 3's new node at that level (at level 0 in "cancel the remainder")
    "a transfer, then a noop": lambda state: [Noop(), signed(Transfer(4, 2, FAR, 3, 7), 4), Noop()],
}


# the blocks that need ETH listed
BASES: dict[str, Callable[[], State]] = {
    "both markets held": two_markets,
    "in the right leaf": two_markets,
}


@pytest.mark.parametrize("case", BLOCKS)
def test_a_claim_slot_proves_a_claim_as_a_heavy_slot_does(case: str) -> None:
    state = BASES.get(case, resting_state)()
    ops = BLOCKS[case](state)
    claims, heavy = with_preset(state, CLAIMS), with_preset(state, ALL_HEAVY)
    assert proven_inputs(claims, ops) == proven_inputs(heavy, ops)
    assert claims.pending is None and claims.block_number == heavy.block_number


def test_the_claim_slots_trials_are_the_rules() -> None:
    """The claims the two-heavy-slot twin cannot hold (its step limit differs) checked against
    the rules alone: 5's claim tries 3's second ask, which fails 3's risk rule (its TAV - IMR,
    125,000, covers 100 more lots short, about 99,200, and not 150), so the ask is cancelled
    and, the claim being the taker's second step (CLAIMS' limit), the taker ends."""
    state = with_preset(resting_state(), CLAIMS)
    _set_margin(state, 3, 125_000)
    proven_inputs(state, [Noop(), order(5, 0, False, PRICES[BTC] + 10, size=150), Claim(5)])
    assert state.pending is None
    assert state.accounts[5].positions[BTC].size == 100
    assert not [o for o in state.markets[BTC].book.orders.values() if o.account == 3]


def test_the_taker_failing_its_risk_ended_the_claim() -> None:
    """What ``_taker_fails_risk``'s block did by the rules: 5 got 100 lots, 3's second ask
    kept all its 100."""
    state = with_preset(resting_state(), CLAIMS)
    proven_inputs(state, _taker_fails_risk(state))
    assert state.accounts[5].positions[BTC].size == 100
    kept = [o.remaining for o in state.markets[BTC].book.orders.values() if o.account == 3]
    assert kept == [100]


def test_a_claim_slot_after_a_claim_slot_reads_its_taker_itself() -> None:
    """3 heavy slots, then 2 claim slots: the order in the last heavy slot takes 3's two asks
    and 4's (100, 100, 50), the first claim reading the taker its heavy slot carried, the
    second (after a claim slot, which carries nothing) reading it from the tree; the same
    public inputs as with all five heavy."""
    claims = MINIMAL.with_overrides(ops_per_block=5, trading_slots=3, claim_slots=2, market_slots=0)
    state = resting_state()
    _trade(state, [(4, BTC, True, 100, PRICES[BTC] + 10)])
    ops: list[Operation] = [
        Noop(),
        Noop(),
        order(5, 0, False, PRICES[BTC] + 10, size=250),
        Claim(5),
        Claim(5),
    ]
    twin = claims.with_overrides(trading_slots=5, claim_slots=0)
    assert [get_slot_kind(claims, i) for i in range(5)] == [HEAVY] * 3 + [CLAIM] * 2
    done = with_preset(state, claims)
    assert proven_inputs(done, ops) == proven_inputs(with_preset(state, twin), ops)
    assert done.accounts[5].positions[BTC].size == 250


def _carried_share(state: State, ops: list[Operation]) -> tuple[int, int]:
    """The taker's BTC share of IMR and of MMR that the claim slot (slot 2) reads from the
    heavy slot before it (its before-share, picked), in the rules' block of ``ops``, whose
    witness the circuit accepts."""
    witness = build_block_witness(copy.deepcopy(state), next_block(state, ops))
    cs = TracingBuilder()
    define_block(cs, CLAIMS, CHAIN_ID, witness)
    trace = cs.trace()
    assert unsatisfied(trace.system, trace.witness) == set()
    return tuple(  # type: ignore[return-value]
        trace.value(trace.witness, f"slot2/a_risk_after/old_{f}0") for f in ("imr", "mmr")
    )


@pytest.mark.parametrize("fails", [False, True], ids=["filled", "tried"])
def test_the_carried_taker_is_its_account_after_the_heavy_slot(fails: bool) -> None:
    """The taker's risk the heavy slot carries into the claim slot is the rules' after that
    slot: with the fill made (5 holds 100 lots: IMR 100,000, MMR 50,000 at the mark), or only
    tried, 3's risk rule failing it (5 holds nothing: 0, not the trial's 100 lots)."""
    state = with_preset(resting_state(), CLAIMS)
    if fails:
        _set_margin(state, 3, 1_000)
    taker = order(5, 0, False, PRICES[BTC] + 10, size=150)
    after = copy.deepcopy(state)
    process_block_header(after, after.block_number + 1, after.timestamp + 10)
    process_operation(after, taker)
    risk = compute_risk(after.get_account(5), after.markets)
    assert (risk.imr, risk.mmr) == ((0, 0) if fails else (100_000, 50_000))
    assert _carried_share(state, [Noop(), taker, Claim(5)]) == (risk.imr, risk.mmr)


def test_a_claim_slot_proves_nothing_but_claims_and_noops() -> None:
    """The witness builder refuses a transfer and an order in the claim slot; the circuit
    cannot hold either there; a noop while a taker is pending is refused at
    ``only_claims_while_pending``."""
    state = with_preset(resting_state(), CLAIMS)
    transfer = signed(Transfer(4, 2, FAR, 5, 7), 4)
    with pytest.raises(UnprovableOperationError, match="a claim slot proves claims and noops only"):
        build_block_inputs(copy.deepcopy(state), next_block(state, [Noop(), Noop(), transfer]))
    late = order(5, 0, True, PRICES[BTC] + 50)
    with pytest.raises(UnprovableOperationError, match="only the block's first 2 slots prove it"):
        build_block_inputs(copy.deepcopy(state), next_block(state, [Noop(), Noop(), late]))
    heavy = with_preset(state, ALL_HEAVY)
    witness = build_block_witness(heavy, next_block(heavy, [Noop(), Noop(), transfer]))
    with pytest.raises(ValueError, match="a claim slot cannot prove an operation of type 3"):
        build_block_circuit(CLAIMS, CHAIN_ID, witness)
    taker = order(5, 0, False, PRICES[BTC] + 10, size=150)
    honest = build_block_witness(copy.deepcopy(state), next_block(state, [Noop(), taker, Claim(5)]))
    noops = build_block_witness(copy.deepcopy(state), next_block(state, [Noop()] * 3))
    follows = replace(honest, slots=(*honest.slots[:2], noops.slots[2]))
    cs, values = build_block_circuit(CLAIMS, CHAIN_ID, follows)
    assert values is not None
    with pytest.raises(UnsatisfiedConstraintError, match="slot2/only_claims_while_pending"):
        cs.check(values)


def test_a_claim_slot_has_no_signature_unit_nor_the_other_operations() -> None:
    """At minimal (quick): the claim slot's scopes are the heavy slot's less the signature
    and expiry, every operation but the claim and the noop, and the pool-share ranges; it
    costs less by at least their sum."""
    heavy, claim = count_heavy_slot_scopes(MINIMAL), count_claim_slot_scopes(MINIMAL)
    dropped = set(heavy) - set(claim)
    assert {"signature", "expiry", "pool_shares", "create_order", "transfer"} <= dropped
    assert not dropped & {"claim", "noop", "book", "step", "a", "b", "b_risk_after"}
    assert sum(claim.values()) <= sum(heavy.values()) - sum(heavy[s] for s in dropped)


@pytest.mark.parametrize("b_index", [5, 4, 3], ids=["B is A", "apart at level 0", "at level 2"])
def test_the_carried_account_is_the_leaf_the_slot_leaves(b_index: int) -> None:
    """``carry_account``: A (5) written, then B; the carried fields' leaf along the carried
    siblings reaches the root B's write left, B's change included where B is A (no operation
    changes B's balance then, but the carry does not rest on that)."""
    depth = MINIMAL.account_tree_depth
    tree = SparseMerkleTree(depth)
    a_old = AccountWitness(5, (), True, 11, (1, 2), 3, 1_000, 0, 1, 0)
    tree.set(5, a_old.leaf())
    if b_index != 5:
        tree.set(b_index, replace(a_old, index=b_index, owner=12, collateral=500).leaf())
    a_w = replace(a_old, siblings=tuple(tree.proof(5).siblings))
    tree.set(5, replace(a_old, collateral=990).leaf())
    b_old = replace(a_old, collateral=990) if b_index == 5 else replace(a_old, owner=12)
    b_w = replace(b_old, index=b_index, collateral=b_old.collateral if b_index == 5 else 500)
    b_w = replace(b_w, siblings=tuple(tree.proof(b_index).siblings))
    tree.set(b_index, replace(b_w, collateral=b_w.collateral + 7).leaf())

    cs = Builder(witness=True)
    a, a_siblings = alloc_account(cs, MINIMAL, a_w)
    b, b_siblings = alloc_account(cs, MINIMAL, b_w)
    a_new, b_new = replace(a, collateral=a.collateral - 10), replace(b, collateral=b.collateral + 7)
    a_update, identity = update_account(cs, a, a_new, a_siblings, False)
    b_update, _ = update_account(cs, b, b_new, b_siblings, False)
    cs.assert_equal(b_update.old_root, a_update.new_root, "b_follows_a")
    same = is_equal(cs, a.index, b.index)
    account, siblings = carry_account(cs, same, (a_new, a_update, a_siblings), (b_new, b_update))
    leaf = compute_account_leaf(cs, account.exists, identity, compute_balance_hash(cs, account))
    cs.expose("root", compute_root_from_bits(cs, leaf, a_update.bits, siblings))
    system, witness = cs.finalize()
    assert witness is not None
    system.check(witness)
    assert system.public_inputs(witness) == [tree.root()]


# what a prover free of one of the claim slot's carry constraints would change (the wire it
# defines, ``TracingBuilder``), and the constraints that refuse it then
CARRY_CHEATS = {
    # a carry naming a positions root other than the carried positions': refused in the claim
    # slot while its claim is on (the claim's new leaf takes the root rewritten from the
    # carried positions, so nothing else sees it)
    "slot1/carried/positions_root": {"slot2/a/carried_positions_root"},
    # the claim's record naming another account than the carried A it proves: only the record
    # bit's own product refuses it (the record goes to the pubdata, not to a check)
    "slot2/a/record_bit0": set(),
}


@pytest.mark.parametrize("wire", CARRY_CHEATS)
def test_a_claim_slots_carry_constraint_is_necessary(wire: str) -> None:
    """``carried_positions_root`` and ``record_bit{i}`` are live: the honest claim block with
    the wire changed breaks the wire's own constraint and the ones ``CARRY_CHEATS`` names."""
    state = with_preset(resting_state(), CLAIMS)
    ops = BLOCKS["fill"](state)
    witness = build_block_witness(copy.deepcopy(state), next_block(state, ops))
    cs = TracingBuilder()
    define_block(cs, CLAIMS, CHAIN_ID, witness)
    trace = cs.trace()
    assert unsatisfied(trace.system, trace.witness) == set()
    cheat = trace.replay(wires={wire: lambda v: 1 - v if v in (0, 1) else v + 1})
    assert unsatisfied(trace.system, cheat) == {wire, *CARRY_CHEATS[wire]}


@pytest.mark.slow
def test_a_claim_step_at_devnet() -> None:
    """Issue 11's target: a claim step at most 40,000 constraints at devnet. A claim slot
    measured 57,652 on 2026-12-07 (a heavy slot: 69,681), then 49,046 with the one-market
    rewrite and the taker's positions carried, 41,486 with the 4-ary order tree, and 38,177
    with A's leaf and path carried too (PERFORMANCE, "Claim slots"). What the carry adds to
    the heavy slot before it counts toward the step: a block of a heavy and a claim slot
    against a heavy slot alone."""
    claim = sum(count_claim_slot_scopes(DEVNET).values())
    assert claim <= 38_200
    one = DEVNET.with_overrides(ops_per_block=1, trading_slots=1, claim_slots=0, market_slots=0)
    two = one.with_overrides(ops_per_block=2, claim_slots=1)
    step = len(build_block_circuit(two, 1)[0].constraints) - len(
        build_block_circuit(one, 1)[0].constraints
    )
    assert step <= 40_000
    assert claim < sum(count_heavy_slot_scopes(DEVNET).values()) - 40_000
