"""The exit circuit: an account's honest amount in a state root is accepted; a larger amount,
another account's index or another owner is not; a negative collateral exits with 0. Accounts
with positions (made by the engine's trades, at moved marks and funding indexes) exit with
exactly ``protocol.exits.compute_exit_amount``; the insurance fund and the funding pool have no
exit; and each of the circuit's own named constraints alone refuses a witness a cheating prover
would make (``tests/circuits/tracing.py``)."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import pytest

from circuits.exit import PUBLIC_INPUTS, ExitWitness, build_exit_circuit, define_exit
from circuits.r1cs import UnsatisfiedConstraintError
from protocol.accounts import (
    FEE_ACCOUNT,
    FIRST_USER_ACCOUNT,
    FUNDING_POOL,
    INSURANCE_FUND,
    Position,
)
from protocol.block import Block, process_block
from protocol.commitment import update_state_root
from protocol.exits import compute_exit_amount
from protocol.jubjub import compress
from protocol.ops.cancel_all import CancelAll
from protocol.ops.deposit import Deposit
from protocol.ops.mint_shares import MintShares
from protocol.ops.register_key import RegisterKey
from protocol.ops.transfer import Transfer
from protocol.params import DEVNET, MINIMAL, Preset
from protocol.risk import compute_risk
from protocol.signing import sign_tx
from protocol.state import State, make_genesis
from sequencer.witness import build_exit_witness
from tests.circuits.tracing import Trace, TracingBuilder, unsatisfied
from tests.protocol.helpers import (
    BTC,
    CHAIN_ID,
    ETH,
    FAR,
    MARKET,
    PRESET,
    PRICES,
    Env,
    key_of,
    owner_of,
)

DEVNET_PRESET = DEVNET.with_overrides(ops_per_block=1024, order_nonce_bits=12)


def funded_state(with_market: bool = False) -> State:
    """Accounts 3 (1 USDC, then 0.25 to 4) and 4 (5 micro-USDC, then + 0.25)."""
    markets = [(MARKET, PRICES[BTC])] if with_market else []
    state = make_genesis(MINIMAL, CHAIN_ID, markets, owner_of(0), owner_of(1))
    key = compress(key_of(3).public_key)
    ops = (
        Deposit(3, owner_of(3), 10**6),
        RegisterKey(3, owner_of(3), key),
        Deposit(4, owner_of(4), 5),
    )
    process_block(state, Block(1, 100, ops))
    transfer = sign_tx(Transfer(3, 0, FAR, 4, 250_000), key_of(3), CHAIN_ID)
    process_block(state, Block(2, 200, (transfer,)))
    return state


def run(witness: ExitWitness) -> tuple[list[int], str | None]:
    """The public inputs, and the first broken constraint's name (None when satisfied)."""
    cs, values = build_exit_circuit(MINIMAL, witness)
    assert values is not None
    try:
        cs.check(values)
    except UnsatisfiedConstraintError as err:
        return cs.public_inputs(values), err.name
    return cs.public_inputs(values), None


def rejection_with_public(witness: ExitWitness, position: int, value: int) -> str:
    """The constraint broken when public input ``position`` is claimed to be ``value``."""
    cs, values = build_exit_circuit(MINIMAL, witness)
    assert values is not None
    values[1 + position] = value
    with pytest.raises(UnsatisfiedConstraintError) as err:
        cs.check(values)
    return err.value.name


@pytest.mark.parametrize(("index", "amount"), [(3, 750_000), (4, 250_005)])
def test_the_honest_amount_is_accepted(index: int, amount: int) -> None:
    state = funded_state()
    public, broken = run(build_exit_witness(state, index))
    assert broken is None
    owner = int.from_bytes(owner_of(index), "big")
    assert public == [update_state_root(state), index, owner, amount]


def test_setup_mode_builds_the_same_system() -> None:
    cs, _ = build_exit_circuit(MINIMAL, build_exit_witness(funded_state(), 3))
    shape, none = build_exit_circuit(MINIMAL)
    assert none is None and shape == cs
    assert cs.public_names == PUBLIC_INPUTS


def test_a_larger_amount_is_rejected() -> None:
    witness = build_exit_witness(funded_state(), 3)
    assert rejection_with_public(witness, 3, 750_001) == "amount_is_public"


def test_another_accounts_index_is_rejected() -> None:
    state = funded_state()
    witness = build_exit_witness(state, 3)
    assert rejection_with_public(witness, 1, 4) == "account_index_is_public"
    # account 3's leaf at index 4 (with account 4's path) makes another account root than the
    # state's, which the fund's leaf, opened against the same root, refuses first
    moved = replace(
        witness.account, index=4, siblings=build_exit_witness(state, 4).account.siblings
    )
    forged = replace(witness, account=moved)
    assert rejection_with_public(forged, 0, update_state_root(state)) == "fund/same_account_root"


def test_another_owner_is_rejected() -> None:
    state = funded_state()
    witness = build_exit_witness(state, 3)
    other = int.from_bytes(owner_of(4), "big")
    assert rejection_with_public(witness, 2, other) == "owner_is_public"
    forged = replace(witness, account=replace(witness.account, owner=other))  # another leaf
    assert rejection_with_public(forged, 0, update_state_root(state)) == "fund/same_account_root"


def test_a_negative_collateral_exits_with_nothing() -> None:
    state = funded_state()
    state.set_collateral(state.accounts[4], -1)
    public, broken = run(build_exit_witness(state, 4))
    assert broken is None
    assert public[3] == 0 == compute_exit_amount(state, 4)


# -- accounts with positions -----------------------------------------------------------------


def trading_state(preset: Preset, seed: int) -> Env:
    """Users 3..6 trade both markets at random prices (long, short, several markets), two of
    them holding pool shares; then the marks and funding indexes move, some collateral falls (a
    negative TAV among them) and the fund holds a position (as a takeover leaves it). The
    first user cancels all twice (its leaf packs its cancel epoch 2 with its count)."""
    rng = random.Random(seed)
    env = Env(preset=preset)
    users = env.open_many(4, 10**9)
    for user in users[:2]:
        env.run(env.signed(MintShares, user, amount=rng.randrange(1, 10**7)))
    for _ in range(6):
        market = rng.choice((BTC, ETH))
        maker, taker = rng.sample(users, 2)
        is_ask = rng.random() < 0.5
        price = PRICES[market] + rng.randrange(-PRICES[market] // 10, PRICES[market] // 10)
        size = rng.randrange(1, 40)
        env.place(maker, market, is_ask, price, size)
        env.place(taker, market, not is_ask, price, rng.randrange(1, size + 1))
    env.place(users[0], BTC, True, PRICES[BTC] * 6 // 5, 1)  # rests, dies with its cancel all
    env.run(env.signed(CancelAll, users[0]))  # an epoch of 1 in the leaf (PROTOCOL 6.2)
    env.run(env.signed(CancelAll, users[0]))
    state = env.state
    for m in state.markets:
        mark = PRICES[m.index] * rng.randrange(50, 150) // 100
        state.set_market_data(m, "mark_price", mark)
        state.set_market_data(m, "funding_index", rng.randrange(-(10**10), 10**10))
    for user in rng.sample(users, 2):
        state.set_collateral(state.accounts[user], rng.randrange(-(10**6), 10**6))
    fund = state.accounts[INSURANCE_FUND]
    state.set_position_field(fund, rng.choice((BTC, ETH)), "size", rng.randrange(-100, 100))
    update_state_root(state)
    return env


def run_at(preset: Preset, witness: ExitWitness) -> tuple[list[int], str | None]:
    cs, values = build_exit_circuit(preset, witness)
    assert values is not None
    try:
        cs.check(values)
    except UnsatisfiedConstraintError as err:
        return cs.public_inputs(values), err.name
    return cs.public_inputs(values), None


def assert_the_rules_amounts(preset: Preset, state: State) -> list[int]:
    """Every user and the fee account exit with the rules' amount; returns the amounts."""
    root = update_state_root(state)
    amounts = []
    for index in [FEE_ACCOUNT, *(i for i in state.accounts if i >= FIRST_USER_ACCOUNT)]:
        public, broken = run_at(preset, build_exit_witness(state, index))
        assert broken is None
        owner = int.from_bytes(state.accounts[index].owner, "big")
        assert public == [root, index, owner, compute_exit_amount(state, index)]
        amounts.append(public[3])
    return amounts


@pytest.mark.parametrize(
    ("preset", "seed"), [(PRESET, 1), (PRESET, 2), (PRESET, 3), (DEVNET_PRESET, 4)]
)
def test_the_amount_is_the_rules_for_accounts_with_positions(preset: Preset, seed: int) -> None:
    state = trading_state(preset, seed).state
    users = [a for i, a in state.accounts.items() if i >= FIRST_USER_ACCOUNT]
    assert any(p.size for a in users for p in a.positions.values())
    assert any(a.pool_shares for a in users)
    amounts = assert_the_rules_amounts(preset, state)
    assert amounts.count(0) < len(amounts)


def test_a_fund_worth_nothing_pays_no_share() -> None:
    state = trading_state(PRESET, 9).state
    fund = state.accounts[INSURANCE_FUND]
    state.set_collateral(fund, -(10**12))
    assert compute_risk(fund, state.markets).tav < 0
    holders = [i for i, a in state.accounts.items() if a.pool_shares and i != INSURANCE_FUND]
    assert holders and assert_the_rules_amounts(PRESET, state)
    for index in holders:
        own = compute_risk(state.accounts[index], state.markets).tav
        assert compute_exit_amount(state, index) == max(0, own)


def test_long_short_funding_and_negative_value() -> None:
    """A long and a short on both markets with funding owed and received, checked by hand; a
    negative TAV exits with 0."""
    env = Env()
    env.open_many(2, 10**9)
    env.place(3, BTC, True, 10_000, 5)
    env.place(4, BTC, False, 10_000, 5)  # 3 short 5 BTC, 4 long
    env.place(4, ETH, True, 1_000, 7)
    env.place(3, ETH, False, 1_000, 7)  # 3 long 7 ETH, 4 short
    state = env.state
    btc, eth = state.markets
    assert {p.funding_index for a in (3, 4) for p in state.accounts[a].positions.values()} == {0}
    state.set_market_data(btc, "mark_price", 11_000)
    state.set_market_data(eth, "funding_index", 2_500_000)  # 2.5 per lot, longs pay
    c3, c4 = state.accounts[3].collateral, state.accounts[4].collateral
    expected = {3: c3 - 5 * 11_000 + 7 * 1_000 - 18, 4: c4 + 5 * 11_000 - 7 * 1_000 + 17}
    for index, amount in expected.items():
        public, broken = run_at(PRESET, build_exit_witness(state, index))
        assert broken is None and public[3] == amount == compute_exit_amount(state, index)
    state.set_collateral(state.accounts[3], 10)
    assert compute_risk(state.accounts[3], state.markets).tav == 10 - 48_018
    public, broken = run_at(PRESET, build_exit_witness(state, 3))
    assert broken is None and public[3] == 0 == compute_exit_amount(state, 3)


@pytest.mark.parametrize("index", [INSURANCE_FUND, FUNDING_POOL])
def test_the_fund_and_the_funding_pool_have_no_exit(index: int) -> None:
    state = trading_state(PRESET, 5).state
    cs, values = build_exit_circuit(PRESET, build_exit_witness(state, index))
    assert values is not None
    assert unsatisfied(cs, values) == {"account/not_reserved"}


def test_setup_mode_builds_the_same_system_with_positions() -> None:
    state = trading_state(DEVNET_PRESET, 7).state
    cs, _ = build_exit_circuit(DEVNET_PRESET, build_exit_witness(state, FIRST_USER_ACCOUNT))
    assert build_exit_circuit(DEVNET_PRESET)[0] == cs


# -- every named constraint of the exit circuit is necessary --------------------------------


@dataclass
class Traced:
    trace: Trace
    state: State
    index: int

    def amount(self, witness: list[int]) -> int:
        return witness[4]  # 1, state_root, account_index, owner, amount

    def honest_amount(self) -> int:
        return compute_exit_amount(self.state, self.index)


def traced(state: State, index: int) -> Traced:
    cs = TracingBuilder()
    define_exit(cs, PRESET, build_exit_witness(state, index))
    return Traced(cs.trace(), state, index)


@cache
def honest() -> Traced:
    """User 3: a position in both markets, unsettled funding, pool shares and a positive TAV;
    the fund holds a position too."""
    env = Env()
    env.open_many(2, 10**9)
    env.run(env.signed(MintShares, 3, amount=10**6))
    env.run(env.signed(MintShares, 4, amount=3 * 10**6))
    env.place(3, BTC, True, 10_000, 5)
    env.place(4, BTC, False, 10_000, 5)
    env.place(3, ETH, False, 1_000, 3)
    env.place(4, ETH, True, 1_000, 3)
    state = env.state
    state.set_market_data(state.markets[BTC], "funding_index", 3_000_000)
    state.set_position_field(state.accounts[INSURANCE_FUND], ETH, "size", 2)
    return traced(state, 3)


def _alone(t: Traced, name: str, **changes: Any) -> list[int]:
    """The replayed witness, asserting that it breaks ``name`` and nothing else."""
    witness = t.trace.replay(**changes)
    assert unsatisfied(t.trace.system, witness) == {name}
    return witness


def _wire(t: Traced, name: str, change: Callable[[int], int]) -> list[int]:
    """The wire ``name`` (a product) changed, its constraint alone broken."""
    return _alone(t, name, wires={name: change})


def case_not_reserved() -> None:
    state = trading_state(PRESET, 8).state
    t = traced(state, FIRST_USER_ACCOUNT)
    fund = build_exit_witness(state, INSURANCE_FUND)
    cs, values = build_exit_circuit(PRESET, fund)
    assert values is not None and unsatisfied(cs, values) == {"account/not_reserved"}
    assert t.trace.system == cs


def case_reserved_product() -> None:
    t = traced(trading_state(PRESET, 8).state, FUNDING_POOL)
    _wire(t, "account/reserved_product", lambda v: 1)


def case_positive_part() -> None:
    t = honest()
    witness = _wire(t, "amount/positive_part", lambda v: v + 1)
    assert t.amount(witness) == t.honest_amount() + 1


def case_value(side: str) -> Callable[[], None]:
    def case() -> None:
        t = honest()
        witness = _wire(t, f"{side}/position0/value", lambda v: v + 10**9)
        assert t.amount(witness) > t.honest_amount()

    return case


def case_size_times_delta(side: str) -> Callable[[], None]:
    def case() -> None:
        t = honest()
        witness = _wire(t, f"{side}/position0/size_times_delta", lambda v: v - 10**15)
        assert t.amount(witness) > t.honest_amount()

    return case


def case_leaf() -> None:
    # market 0's leaf claimed empty: the market root (and the public state root) follow
    _wire(honest(), "market0/leaf", lambda v: 0)


def case_exists_boolean() -> None:
    # user 3 of ``funded_state`` has no position: exists = 2 doubles market 0's leaf only
    state = funded_state(with_market=True)
    t = traced(state, 3)
    _alone(t, "market0/exists_boolean", inputs={"market0/exists": 2})


def _position_without_market(index: int) -> State:
    """A position of ``index`` in a market the state does not have (market 1 of one; the rules
    never make one, so it is written by hand)."""
    state = funded_state(with_market=True)
    state.accounts[index].positions[1] = Position(size=5)
    state.dirty.positions.add((index, 1))
    update_state_root(state)
    return state


def case_no_position_without_market() -> None:
    """Without the constraint the position's mark would be free."""
    t = traced(_position_without_market(3), 3)
    name = "account/position1/no_position_without_market"
    witness = _alone(t, name, inputs={"market1/mark_price": 10**6})
    assert t.amount(witness) == 750_000 + 5 * 10**6


def case_fund_no_position_without_market() -> None:
    state = _position_without_market(INSURANCE_FUND)
    state.set_account_field(state.accounts[INSURANCE_FUND], "pool_shares", 1)
    state.set_account_field(state.accounts[3], "pool_shares", 1)  # all of them
    update_state_root(state)
    t = traced(state, 3)
    name = "fund/position1/no_position_without_market"
    witness = _alone(t, name, inputs={"market1/mark_price": 10**6})
    assert t.amount(witness) == 750_000 + 5 * 10**6


def case_same_account_root() -> None:
    """Another fund leaf (more collateral) than the state's: a larger share."""
    t = honest()
    fund = t.state.accounts[INSURANCE_FUND].collateral
    witness = _alone(t, "fund/same_account_root", inputs={"fund/collateral": fund + 10**9})
    assert t.amount(witness) > t.honest_amount()


def case_no_shares_without_supply() -> None:
    """Shares with no supply (the fund's written by hand): the share would be shares x value."""
    state = copy.deepcopy(honest().state)
    state.set_account_field(state.accounts[INSURANCE_FUND], "pool_shares", 0)
    update_state_root(state)
    t = traced(state, 3)
    _alone(t, "pool_share/no_shares_without_supply")


def case_pool_positive_part() -> None:
    t = honest()
    witness = _wire(t, "pool_share/positive_part", lambda v: v * 2)
    assert t.amount(witness) > t.honest_amount()


def case_shares_times_value() -> None:
    t = honest()
    witness = _wire(t, "pool_share/shares_times_value", lambda v: v * 2)
    assert t.amount(witness) > t.honest_amount()


CASES: dict[str, Callable[[], None]] = {
    "account/not_reserved": case_not_reserved,
    "account/reserved_product": case_reserved_product,
    "amount/positive_part": case_positive_part,
    "account/position#/value": case_value("account"),
    "fund/position#/value": case_value("fund"),
    "account/position#/size_times_delta": case_size_times_delta("account"),
    "fund/position#/size_times_delta": case_size_times_delta("fund"),
    "market#/leaf": case_leaf,
    "market#/exists_boolean": case_exists_boolean,
    "account/position#/no_position_without_market": case_no_position_without_market,
    "fund/position#/no_position_without_market": case_fund_no_position_without_market,
    "fund/same_account_root": case_same_account_root,
    "pool_share/no_shares_without_supply": case_no_shares_without_supply,
    "pool_share/positive_part": case_pool_positive_part,
    "pool_share/shares_times_value": case_shares_times_value,
}
# Gadgets' own constraints, tested beside each gadget; the public copies by the tests above.
EXEMPT = (
    r"/poseidon/",
    r"/merkle/",
    r"/(to_bits|range|signed_range)/(bit#_boolean|bits_sum)$",
    r"/position_leaf/",  # tests/circuits/test_commitment.py
    r"/unsettled_funding/",  # tests/circuits/test_rounding.py, test_risk.py
    r"/magnitude/",  # tests/circuits/test_risk.py
    r"/is_zero/",  # tests/circuits/test_equality.py
    r"/div_rem/",  # tests/circuits/test_division.py
    r"^(state_root|account_index|owner|amount)_is_public$",
)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_constraint_alone_refuses_its_witness(name: str) -> None:
    CASES[name]()


def test_every_constraint_has_a_case() -> None:
    system, _ = build_exit_circuit(PRESET)
    families = {re.sub(r"\d+", "#", c.name) for c in system.constraints}
    missing = {f for f in families if f not in CASES and not any(re.search(p, f) for p in EXEMPT)}
    assert not missing, sorted(missing)
    assert set(CASES) <= families


@pytest.mark.prove
def test_an_exit_with_a_position_proves_and_verifies_only_for_its_own_inputs() -> None:
    from prover.groth16 import Prover, verify
    from prover.setup import setup

    state = honest().state  # user 3: a position in both markets, unsettled funding, shares
    assert all(p.size for p in state.accounts[3].positions.values())
    cs, values = build_exit_circuit(PRESET, build_exit_witness(state, 3))
    assert values is not None
    prover = Prover(setup(cs))
    proof = prover.prove(cs, values)
    root, index, owner, amount = cs.public_inputs(values)
    assert amount == compute_exit_amount(state, 3) > 0
    assert verify(prover.pk.vk, [root, index, owner, amount], proof)
    assert not verify(prover.pk.vk, [root, index, owner, amount + 1], proof)
    assert not verify(prover.pk.vk, [root, 4, owner, amount], proof)
    assert not verify(
        prover.pk.vk, [root, index, int.from_bytes(owner_of(4), "big"), amount], proof
    )
