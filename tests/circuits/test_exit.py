"""The exit circuit: an account's honest amount in a state root is accepted; a larger amount,
another account's index or another owner is not; a negative collateral or open positions have no
exit proof yet."""

from __future__ import annotations

from dataclasses import replace

import pytest

from circuits.exit import PUBLIC_INPUTS, ExitWitness, build_exit_circuit
from circuits.r1cs import UnsatisfiedConstraintError
from protocol.block import Block, process_block
from protocol.commitment import update_state_root
from protocol.jubjub import compress
from protocol.ops.deposit import Deposit
from protocol.ops.register_key import RegisterKey
from protocol.ops.transfer import Transfer
from protocol.params import MINIMAL
from protocol.signing import sign_tx
from protocol.state import State, make_genesis
from sequencer.witness import build_exit_witness
from tests.protocol.helpers import BTC, CHAIN_ID, FAR, MARKET, PRICES, key_of, owner_of


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
    # account 3's leaf at index 4 (with account 4's path) makes another root than the state's
    moved = replace(
        witness.account, index=4, siblings=build_exit_witness(state, 4).account.siblings
    )
    forged = replace(witness, account=moved)
    assert rejection_with_public(forged, 0, update_state_root(state)) == "state_root_is_public"


def test_another_owner_is_rejected() -> None:
    state = funded_state()
    witness = build_exit_witness(state, 3)
    other = int.from_bytes(owner_of(4), "big")
    assert rejection_with_public(witness, 2, other) == "owner_is_public"
    forged = replace(witness, account=replace(witness.account, owner=other))  # another leaf
    assert rejection_with_public(forged, 0, update_state_root(state)) == "state_root_is_public"


def test_a_negative_collateral_has_no_exit() -> None:
    state = funded_state()
    state.set_collateral(state.accounts[4], -1)
    _, broken = run(build_exit_witness(state, 4))
    assert broken == "account/amount/range/bits_sum"


def test_open_positions_have_no_exit_yet() -> None:
    state = funded_state(with_market=True)
    state.set_position_field(state.accounts[3], BTC, "size", 2)
    _, broken = run(build_exit_witness(state, 3))
    assert broken == "account/no_positions"


@pytest.mark.prove
def test_an_exit_proof_verifies_only_for_its_own_inputs() -> None:
    from prover.groth16 import Prover, verify
    from prover.setup import setup

    state = funded_state()
    cs, values = build_exit_circuit(MINIMAL, build_exit_witness(state, 3))
    assert values is not None
    prover = Prover(setup(cs))
    proof = prover.prove(cs, values)
    root, index, owner, amount = cs.public_inputs(values)
    assert verify(prover.pk.vk, [root, index, owner, amount], proof)
    assert not verify(prover.pk.vk, [root, index, owner, amount + 1], proof)
    assert not verify(prover.pk.vk, [root, 4, owner, amount], proof)
    assert not verify(
        prover.pk.vk, [root, index, int.from_bytes(owner_of(4), "big"), amount], proof
    )
