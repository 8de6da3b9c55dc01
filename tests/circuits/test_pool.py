"""Pool shares in the block circuit (PROTOCOL 7.7, 8.8, 8.27/8.28): mint, burn and the L1
forced burn proven exactly as the rules do them, in heavy slots whose B is the insurance fund
(its TAV over its positions at the block's marks is the pool's value), and each refusal of the
rules refused by the circuit at its own named constraint.

The differential runs random pool operations against a pool without a supply (first mint) and
one whose fund holds a position valued at the mark; every block is proven with the rules'
public inputs, and a block the rules refuse has its first refused operation refused by the
circuit (a forced witness: ``tests/circuits/forced.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from circuits.block import build_block_circuit
from circuits.r1cs import UnsatisfiedConstraintError
from protocol.accounts import INSURANCE_FUND
from protocol.block import Operation, compute_record, process_operation
from protocol.errors import InvalidBlock, InvalidTransaction
from protocol.events import RequestRejected, SharesBurned, SharesMinted
from protocol.field import R
from protocol.ops.burn_shares import BurnShares
from protocol.ops.forced_burn import ForcedBurn
from protocol.ops.mint_shares import MintShares
from protocol.pool import compute_pool_value
from protocol.risk import compute_risk
from protocol.state import State
from sequencer.witness import build_block_inputs, build_slot_witness
from tests.circuits.forced import forced_witness
from tests.circuits.test_block import (
    START,
    TRADING,
    is_consistency_check,
    native_public_inputs,
    new_state,
    next_block,
    signed,
    started_block,
)
from tests.circuits.tracing import unsatisfied
from tests.protocol.helpers import BTC, CHAIN_ID, FAR, PRICES, owner_of

PRESET = TRADING  # two heavy slots: every pool operation needs one


def check_block(state: State, ops: list[Operation]) -> None:
    """The circuit proves ``ops`` with the rules' public inputs (both states advance)."""
    block = next_block(state, ops)
    expected = native_public_inputs(copy.deepcopy(state), block)
    cs, witness = build_block_inputs(state, block)
    cs.check(witness)
    assert cs.public_inputs(witness) == expected


def mint(account: int, nonce: int, amount: int, signer: int | None = None) -> MintShares:
    op: MintShares = signed(MintShares(account, nonce, FAR, amount), signer or account)
    return op


def burn(account: int, nonce: int, shares: int, signer: int | None = None) -> BurnShares:
    op: BurnShares = signed(BurnShares(account, nonce, FAR, shares), signer or account)
    return op


def fresh() -> State:
    """Users 3, 4, 5 with START each; no share minted yet."""
    return new_state(PRESET)


FUND_LOTS = 100  # the fund's short in BTC


def with_position(mark: int = PRICES[BTC]) -> State:
    """3 minted 600,000 shares, 4 minted 300,000; then the fund holds a short of
    ``FUND_LOTS`` BTC (as a takeover leaves it, set natively) and the mark is ``mark``: the
    pool's value is its collateral less the short's value there."""
    state = fresh()
    check_block(state, [mint(3, 0, 600_000), mint(4, 0, 300_000)])
    fund = state.accounts[INSURANCE_FUND]
    for name, value in (("size", -FUND_LOTS), ("entry_quote", -FUND_LOTS * PRICES[BTC])):
        state.set_position_field(fund, BTC, name, value)
    state.set_collateral(fund, fund.collateral + FUND_LOTS * PRICES[BTC])
    state.set_market_data(state.markets[BTC], "mark_price", mark)
    return state


def test_the_first_mint_then_later_mints_and_burns_are_proven() -> None:
    state = fresh()
    check_block(state, [mint(3, 0, 1_000), mint(4, 0, 777)])  # 1:1, then at value = supply
    assert state.accounts[INSURANCE_FUND].pool_shares == 1_777
    check_block(state, [burn(3, 1, 500), ForcedBurn(4, owner_of(4), 700)])
    assert (state.accounts[3].pool_shares, state.accounts[4].pool_shares) == (500, 77)
    assert state.accounts[INSURANCE_FUND].collateral == 577


def test_a_first_mint_into_a_fund_that_holds_value_is_proven() -> None:
    """What the fund held before the first mint is issued to nobody: the supply counts it, the
    minter gets a share per micro-USDC and burns back only its own."""
    state = fresh()
    fund = state.accounts[INSURANCE_FUND]
    state.set_collateral(fund, 50_000)
    check_block(state, [mint(3, 0, 1_000)])
    assert (state.accounts[3].pool_shares, fund.pool_shares) == (1_000, 51_000)
    check_block(state, [burn(3, 1, 1_000)])
    assert (state.accounts[3].collateral, fund.collateral) == (START, 50_000)


def test_a_fund_with_a_position_is_valued_at_the_mark() -> None:
    """The mark 5 % above the entry: the short lost 5 % of its notional, so a share is worth
    less and a mint gets more shares than it pays micro-USDC; burns pay the value at the mark."""
    mark = PRICES[BTC] * 105 // 100
    state = with_position(mark)
    value = compute_pool_value(state)
    assert value == 900_000 - FUND_LOTS * (mark - PRICES[BTC])
    check_block(state, [mint(5, 0, 100_000), burn(3, 1, 200_000)])
    assert state.accounts[5].pool_shares == 100_000 * 900_000 // value
    value, supply = compute_pool_value(state), state.accounts[INSURANCE_FUND].pool_shares
    check_block(state, [ForcedBurn(4, owner_of(4), 300_000)])
    assert state.accounts[4].collateral == START - 300_000 + 300_000 * value // supply


def test_forced_burns_the_rules_refuse_are_proven_with_status_0() -> None:
    state = with_position()
    supply = state.accounts[INSURANCE_FUND].pool_shares
    ops: list[Operation] = [
        ForcedBurn(3, owner_of(4), 1),  # not the owner
        ForcedBurn(9, owner_of(9), 1),  # no account
        ForcedBurn(INSURANCE_FUND, state.accounts[INSURANCE_FUND].owner, 1),  # the fund
        ForcedBurn(2, state.accounts[2].owner, 1),  # the funding pool
        ForcedBurn(3, owner_of(3), 0),  # nothing asked
        ForcedBurn(3, owner_of(3), 600_001),  # more than held
        ForcedBurn(3, owner_of(3), 2**64 - 1),  # the record's whole width
        ForcedBurn(5, owner_of(5), 1),  # holds none
    ]
    for start in range(0, len(ops), 2):
        check_block(state, ops[start : start + 2])
    assert state.accounts[INSURANCE_FUND].pool_shares == supply


def fund_near_margin(state: State) -> State:
    """The fund's collateral cut so that its TAV is just above its MMR: burning 3's shares
    would leave it under."""
    fund = state.accounts[INSURANCE_FUND]
    risk = compute_risk(fund, state.markets)
    state.set_collateral(fund, fund.collateral - (risk.tav - risk.mmr) + 10)
    return state


def test_a_forced_burn_that_leaves_the_fund_under_margin_is_proven_with_status_0() -> None:
    state = fund_near_margin(with_position())
    before = state.accounts[3].collateral
    check_block(state, [ForcedBurn(3, owner_of(3), 600_000)])
    assert state.accounts[3].collateral == before


# -- refusals at named constraints --------------------------------------------------------------


def first_broken(scratch: State, op: Operation, record: bytes | None = None) -> str:
    """The first constraint the forced witness of ``op`` (with ``record``) breaks: never a root
    check, always one of the rules'."""
    cs, values = build_block_circuit(PRESET, CHAIN_ID, forced_witness(scratch, op, record))
    assert values is not None
    with pytest.raises(UnsatisfiedConstraintError) as err:
        cs.check(values)
    assert not {n for n in unsatisfied(cs, values) if is_consistency_check(n)}
    return err.value.name


def rules_record(scratch: State, op: Operation) -> bytes:
    return compute_record(op, process_operation(copy.deepcopy(scratch), op))


def with_result(op: Operation, events: tuple[Any, ...]) -> bytes:
    return compute_record(op, events)


def insolvent(state: State) -> State:
    fund = state.accounts[INSURANCE_FUND]
    state.set_collateral(fund, fund.collateral - compute_pool_value(state) - 1)
    return state


REFUSED: dict[str, tuple[Callable[[], State], Callable[[State], Operation], str]] = {
    "a mint of nothing": (fresh, lambda s: mint(3, 0, 0), "mint_shares/amount_positive"),
    "a mint that buys no share": (
        lambda: with_position(PRICES[BTC] // 2),  # a share is worth more than 1
        lambda s: mint(5, 0, 1),
        "mint_shares/shares_positive",
    ),
    "a mint into an insolvent pool": (
        lambda: insolvent(with_position()),
        lambda s: mint(5, 0, 1_000),
        "mint_shares/pool_solvent",
    ),
    "a mint by the funding pool": (fresh, lambda s: mint(2, 0, 5, 3), "mint_shares/signer/"),
    "a mint past the free margin": (
        fresh,
        lambda s: mint(3, 0, START + 1),
        "valid_risk_change",
    ),
    "a burn of no share": (with_position, lambda s: burn(3, 1, 0), "burn_shares/shares_positive"),
    "a burn of more than held": (
        with_position,
        lambda s: burn(3, 1, 600_001),
        "burn_shares/shares_held",
    ),
    "a burn leaving the fund under MMR": (
        lambda: fund_near_margin(with_position()),
        lambda s: burn(3, 1, 600_000),
        "burn_shares/fund_keeps_margin",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_pool_operation_cannot_be_proven(case: str) -> None:
    make_state, make_op, constraint = REFUSED[case]
    scratch = started_block(make_state())
    op = make_op(scratch)
    with pytest.raises(InvalidTransaction):
        build_slot_witness(copy.deepcopy(scratch), op)
    assert first_broken(scratch, op).startswith(f"slot0/{constraint}")


def test_shares_rounded_up_are_refused() -> None:
    """A mint at a value that does not divide: the record claiming one share more breaks
    ``minted_field``; a quotient hinted one more (its remainder one divisor less) breaks the
    division's remainder range."""
    scratch = started_block(with_position(PRICES[BTC] * 105 // 100))
    op = mint(5, 0, 100_000)
    (event,) = process_operation(copy.deepcopy(scratch), op)
    assert isinstance(event, SharesMinted) and event.amount * 900_000 % (
        compute_pool_value(scratch)
    )
    record = with_result(op, (event._replace(shares=event.shares + 1),))
    assert first_broken(scratch, op, record) == "slot0/mint_shares/minted_field"
    cs, values = build_block_circuit(
        PRESET,
        CHAIN_ID,
        forced_witness(scratch, op, record),
        hint_overrides={
            "slot0/mint_shares/div_rem/quotient_remainder": lambda a, b: (a // b + 1, a % b - b)
        },
    )
    assert values is not None
    broken = unsatisfied(cs, values)
    assert broken and all(n.startswith("slot0/mint_shares/div_rem/remainder/") for n in broken)


def test_a_burn_paid_more_than_its_part_is_refused() -> None:
    scratch = started_block(with_position(PRICES[BTC] * 105 // 100))
    op = burn(3, 1, 1_000)
    (event,) = process_operation(copy.deepcopy(scratch), op)
    assert isinstance(event, SharesBurned)
    record = with_result(op, (event._replace(amount=event.amount + 1),))
    assert first_broken(scratch, op, record) == "slot0/burn_shares/paid_field"


def test_status_0_claimed_for_a_valid_forced_burn_is_refused() -> None:
    scratch = started_block(with_position())
    op = ForcedBurn(3, owner_of(3), 1_000)
    assert not isinstance(process_operation(copy.deepcopy(scratch), op)[0], RequestRejected)
    record = with_result(op, ())  # status 0, nothing out
    assert first_broken(scratch, op, record) == "slot0/forced_burn/status_field"


@pytest.mark.parametrize(
    "op",
    [
        ForcedBurn(3, owner_of(4), 1_000),  # not the owner
        ForcedBurn(3, owner_of(3), 600_001),  # more than held
        ForcedBurn(INSURANCE_FUND, owner_of(0), 1),  # the fund
    ],
    ids=["non-owner", "over-held", "fund"],
)
def test_status_1_for_a_refused_forced_burn_is_refused(op: ForcedBurn) -> None:
    scratch = started_block(with_position())
    assert isinstance(process_operation(copy.deepcopy(scratch), op)[0], RequestRejected)
    paid = op.shares * compute_pool_value(scratch) // 900_000
    record = with_result(op, (SharesBurned(op.account, op.shares, paid),))
    assert first_broken(scratch, op, record) == "slot0/forced_burn/status_field"


def test_a_forced_burn_leaving_the_fund_under_mmr_claimed_applied_is_refused() -> None:
    scratch = started_block(fund_near_margin(with_position()))
    op = ForcedBurn(3, owner_of(3), 600_000)
    assert isinstance(process_operation(copy.deepcopy(scratch), op)[0], RequestRejected)
    paid = 600_000 * compute_pool_value(scratch) // 900_000
    record = with_result(op, (SharesBurned(3, 600_000, paid),))
    assert first_broken(scratch, op, record) == "slot0/forced_burn/status_field"


# -- the differential ---------------------------------------------------------------------------

ACCOUNT = st.sampled_from([3, 3, 4, 5, 0, 2, 9])
AMOUNT = st.sampled_from([0, 1, 999, 100_000, 600_000, START, 2**64 - 1])
SHIFT = st.sampled_from([0, 0, 0, -1, 1])
POOL_SPEC = st.one_of(
    st.tuples(st.just("mint"), ACCOUNT, AMOUNT, SHIFT),
    st.tuples(st.just("burn"), ACCOUNT, AMOUNT, SHIFT),
    st.tuples(st.just("forced_burn"), ACCOUNT, st.booleans(), AMOUNT),
)
STATES = {"fresh": fresh, "position": with_position, "crashed": lambda: with_position(15_000)}


def make_op(state: State, spec: tuple[Any, ...], nonces: dict[int, int]) -> Operation:
    kind, account, *rest = spec
    if kind == "forced_burn":
        owner = owner_of(account if rest[0] else account + 1)
        return ForcedBurn(account, owner, rest[1])
    existing = state.accounts.get(account)
    nonce = nonces.get(account, 0 if existing is None else existing.nonce)
    nonces[account] = nonce + 1
    signer = account if account in (3, 4, 5) else 3
    make = mint if kind == "mint" else burn
    return make(account, max(0, nonce + rest[1]), rest[0], signer)


def first_refused(state: State, ops: list[Operation]) -> tuple[State, Operation]:
    scratch = started_block(state)
    for op in ops:
        try:
            build_slot_witness(scratch, op)
        except InvalidTransaction:
            return scratch, op
    raise AssertionError("no refused operation")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(STATES)),
    st.lists(st.lists(POOL_SPEC, min_size=1, max_size=2), min_size=1, max_size=2),
)
@example("fresh", [[("mint", 3, 999, 0), ("burn", 3, 999, 0)]])
@example("crashed", [[("forced_burn", 3, True, 600_000), ("mint", 5, 100_000, 0)]])
def test_the_circuit_pools_as_the_rules_do(name: str, blocks: list[list[tuple[Any, ...]]]) -> None:
    state = STATES[name]()
    for specs in blocks:
        nonces: dict[int, int] = {}
        ops = [make_op(state, s, nonces) for s in specs]
        try:
            native_public_inputs(copy.deepcopy(state), next_block(state, ops))
        except InvalidBlock:
            scratch, op = first_refused(state, ops)
            name = first_broken(scratch, op)
            assert name.split("/")[1] in {
                *("mint_shares", "burn_shares", "a_collateral", "b_collateral"),
                *("signature", "valid_risk_change", "expiry"),
            }, name
            continue
        check_block(state, ops)


@pytest.mark.parametrize("op_name", ["burn_shares", "forced_burn"])
def test_a_solvent_pool_claimed_insolvent_is_refused(op_name: str) -> None:
    """The pool value's sign (``gadgets.risk.compute_sign_magnitude``): a positive value
    claimed negative, so that a share would pay nothing, breaks only that gadget's
    constraints, whatever magnitude goes with it."""
    op: Operation
    if op_name == "burn_shares":  # the record claims nothing paid
        scratch, op = started_block(with_position()), burn(3, 1, 1_000)
        record = compute_record(op, (SharesBurned(3, 1_000, 0),))
    else:  # a share worth less than 1 (the mark 10 up): the rules pay nothing either
        scratch = started_block(with_position(PRICES[BTC] + 10))
        op = ForcedBurn(3, owner_of(3), 1)
        record = rules_record(scratch, op)
        assert record[35:44] == bytes(8) + b"\x01"
    hint = f"slot0/{op_name}/value/magnitude/sign_and_magnitude"
    for magnitude in (lambda v: v, lambda v: -v % R, lambda v: 0):
        overrides = {hint: lambda v, m=magnitude: [1, m(v)]}
        cs, values = build_block_circuit(
            PRESET, CHAIN_ID, forced_witness(scratch, op, record), hint_overrides=overrides
        )
        assert values is not None
        broken = unsatisfied(cs, values)
        prefix = f"slot0/{op_name}/value/magnitude/"
        assert broken and all(n.startswith(prefix) for n in broken), broken
