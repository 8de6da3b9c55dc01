"""``zkperp exit``'s proving step on states with open positions (positions reach L1 only once
trading is proven; these states are built by the rules): the proven amount is the rules'
(``protocol.exits``), and the insurance fund and the funding pool are refused before any
proving."""

from __future__ import annotations

import pytest

from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.exits import compute_exit_amount
from protocol.state import State
from scripts.exit import ExitError, check_exit_allowed, prove_account_exit
from tests.circuits.test_exit import PRESET, honest, trading_state


class NoProving:
    """Fails the test if the exit tool proves anything."""

    def prove_exit(self, state: State, account: int) -> tuple[bytes, int, bytes]:
        raise AssertionError(f"proved account {account}")


@pytest.mark.parametrize(
    ("account", "named"), [(INSURANCE_FUND, "insurance fund"), (FUNDING_POOL, "funding pool")]
)
def test_the_fund_and_the_funding_pool_are_refused_before_proving(account: int, named: str) -> None:
    with pytest.raises(ExitError, match=named):
        check_exit_allowed(account)
    with pytest.raises(ExitError, match=named):
        prove_account_exit(trading_state(PRESET, 1).state, account, NoProving())
    check_exit_allowed(FEE_ACCOUNT)


def test_an_account_missing_from_the_state_is_refused() -> None:
    with pytest.raises(ExitError, match="does not exist"):
        prove_account_exit(honest().state, 9, NoProving())


@pytest.mark.prove
def test_an_account_with_positions_is_proven_at_the_rules_amount() -> None:
    from protocol.commitment import update_state_root
    from prover.encoding import proof_from_bytes
    from prover.groth16 import verify
    from tests.sequencer.rollup_env import get_provers

    state = honest().state
    provers = get_provers()
    proven = prove_account_exit(state, 3, provers)
    assert proven.amount == compute_exit_amount(state, 3) > 0
    assert proven.positions == 2
    owner = int.from_bytes(proven.owner, "big")
    inputs = [update_state_root(state), 3, owner, proven.amount]
    assert owner == int.from_bytes(state.accounts[3].owner, "big")
    vk = provers.exit.exit.key.vk
    assert verify(vk, inputs, proof_from_bytes(proven.proof))
    assert not verify(vk, [*inputs[:3], proven.amount + 1], proof_from_bytes(proven.proof))
