"""End to end at the minimal preset, what `make demo` does, with real Groth16 proofs of the
block and exit circuits verified by the real contracts on the devnet.

The module's scenario: three users deposit and register L2 keys, transfer and withdraw through
the operator (watcher, builder, witness builder, prover, submitter); three batches are proven and
settled on L1. Each test then starts from that chain (and leaves it as it found it): the
operator's state against the one rebuilt from L1; pubdata changed after proving; the escape hatch
with the operator gone; exit proofs for someone else's account, a larger amount, or twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils import keccak
from typer.testing import CliRunner, Result
from web3.exceptions import ContractCustomError

from protocol.blob import DataAvailability
from protocol.ops.withdraw import Withdraw
from protocol.signing import sign_tx
from protocol.snapshot import encode_state
from scripts import chain, devnet
from scripts.cli import app
from scripts.commands.operator import Deployment
from scripts.deployment import export_exit_key
from scripts.devnet import CHAIN_ID
from scripts.exit import (
    ExitError,
    activate_desert_mode,
    execute_verified_batches,
    exit_account,
    refund_deposits,
    withdraw_pending_balance,
)
from scripts.reconstruct import reconstruct
from sequencer.builder import build_block
from sequencer.client import NEVER
from sequencer.codec import encode_tx
from sequencer.submitter import get_l1_progress, get_stored_info
from tests.sequencer.rollup_env import USDC, RollupEnv, User, deploy_env

pytestmark = [pytest.mark.prove, pytest.mark.devnet]

DEPOSITS = (40 * USDC, 25 * USDC, 10 * USDC)


@contextlib.contextmanager
def reverts(error: str) -> Iterator[None]:
    """Expects the block to revert with the rollup's custom error ``error``."""
    selector = "0x" + keccak(text=f"{error}()").hex()[:8]
    with pytest.raises(ContractCustomError) as caught:
        yield
    assert str(caught.value.data).startswith(selector), f"not {error}: {caught.value.data}"


@pytest.fixture(scope="module")
def settled(
    devnet_session: devnet.Devnet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RollupEnv]:
    """The scenario's chain and operator after three proven batches, their pubdata in blobs
    (reverted at the end)."""
    w3 = chain.connect(devnet_session.rpc_url)
    snapshot = chain.snapshot(w3)
    try:
        # pubdata in blobs (the deploy command's default): every batch a type-3 commitBatch
        env = deploy_env(w3, tmp_path_factory.mktemp("e2e"), users=3, data=DataAvailability.BLOBS)
        alice, bob, carol = env.users
        env.open_operator()
        for user, amount in zip(env.users, DEPOSITS, strict=True):
            env.deposit(user, amount)
            env.register_key(user)
        assert env.run_operator() == 2  # six requests, four slots per block
        env.client(alice).transfer(bob.account, 15 * USDC)
        env.client(bob).transfer(carol.account, 5 * USDC)
        env.client(carol).withdraw(7 * USDC)
        env.client(bob).transfer(alice.account, 1_000 * USDC)  # more than bob has: dropped
        env.client(alice).withdraw(3 * USDC)
        assert env.run_operator() == 1
        yield env
    finally:
        chain.revert(w3, snapshot)


@pytest.fixture
def env(settled: RollupEnv) -> Iterator[RollupEnv]:
    snapshot = chain.snapshot(settled.w3)
    try:
        yield settled
    finally:
        chain.revert(settled.w3, snapshot)


def owned(env: RollupEnv, user: User) -> int:
    assert env.operator is not None
    return env.operator.state.accounts[user.account].collateral


def test_every_batch_is_proven_and_the_state_rebuilt_from_l1_is_the_operators(
    env: RollupEnv,
) -> None:
    alice, _, carol = env.users
    assert env.operator is not None
    progress = get_l1_progress(env.rollup)
    assert progress.committed == progress.verified == progress.executed == 3
    assert [owned(env, u) for u in env.users] == [22 * USDC, 35 * USDC, 8 * USDC]
    (error,) = env.operator.store.get_dropped().values()
    assert error.startswith("RiskCheckFailed")
    pending = env.rollup.functions.pendingBalances
    assert (pending(alice.address).call(), pending(carol.address).call()) == (3 * USDC, 7 * USDC)
    rebuilt = reconstruct(env.w3, env.rollup, env.config)
    assert rebuilt.batch_number == 3
    assert encode_state(rebuilt.state) == encode_state(env.operator.state)
    assert {p.stage for p in env.progress} >= {"build", "commit", "witness", "prove", "verify"}


def test_pubdata_changed_after_proving_is_rejected(env: RollupEnv) -> None:
    alice, bob, carol = env.users
    assert env.operator is not None
    live = reconstruct(env.w3, env.rollup, env.config).state  # two copies: one to build the
    proving = reconstruct(env.w3, env.rollup, env.config).state  # block on, one to prove it
    nonce = live.accounts[alice.account].nonce
    tx = sign_tx(Withdraw(alice.account, nonce, NEVER, USDC), alice.key, CHAIN_ID)
    timestamp = int(env.w3.eth.get_block("latest")["timestamp"])
    sealed = build_block(live, 4, timestamp, [], [(1, encode_tx(tx))])
    proof = env.provers.prove_block(proving, sealed.block)
    last = get_stored_info(env.rollup, 3)
    honest = sealed.pubdata
    tampered = honest[:27] + (2 * USDC).to_bytes(8, "big") + honest[35:]  # withdraw 2, not 1
    submitter = env.operator.submitter
    info = submitter.commit(last, 4, timestamp, sealed.state_root, tampered)
    with reverts("InvalidProof"):
        env.rollup.functions.verifyBatch(info.as_tuple(), proof).transact({"from": env.validator})
    env.send(env.rollup.functions.revertBatches([info.as_tuple()]), env.validator)
    info = submitter.commit(last, 4, timestamp, sealed.state_root, honest)
    submitter.verify(info, proof)  # the same proof, with the pubdata it was made for
    # the operator vanishes before executing batch 4: in desert mode anyone executes it
    env.forced_withdraw(bob, USDC)
    expire_and_activate(env, carol)
    rebuilt = reconstruct(env.w3, env.rollup, env.config)
    assert rebuilt.batch_number == 4
    assert execute_verified_batches(env.w3, env.rollup, rebuilt, carol.address) == [4]
    assert env.rollup.functions.pendingBalances(alice.address).call() == 3 * USDC + USDC


def expire_queue(env: RollupEnv) -> None:
    """Time passes until the oldest unexecuted request is overdue."""
    head = env.rollup.functions.firstPriorityRequestId().call()
    expires = env.rollup.functions.priorityRequests(head).call()[1]
    now = env.w3.eth.get_block("latest")["timestamp"]
    chain.increase_time(env.w3, max(0, expires - now))


def expire_and_activate(env: RollupEnv, sender: User) -> None:
    expire_queue(env)
    assert activate_desert_mode(env.w3, env.rollup, sender.address)


def test_every_user_exits_with_what_they_own_after_the_operator_stops(env: RollupEnv) -> None:
    alice, bob, carol = env.users
    owns = {u.account: owned(env, u) for u in env.users}
    before = {u.account: env.balance(u) for u in env.users}
    env.forced_withdraw(alice, USDC)  # never processed: the operator is gone
    env.deposit(bob, 4 * USDC)  # queued, never included: refunded
    with pytest.raises(ExitError, match="activateDesertMode"):
        activate_desert_mode(env.w3, env.rollup, carol.address)
    expire_and_activate(env, carol)
    assert refund_deposits(env.w3, env.rollup, carol.address) == {bob.address: 4 * USDC}
    assert refund_deposits(env.w3, env.rollup, carol.address) == {}
    for user in env.users:
        rebuilt = reconstruct(env.w3, env.rollup, env.config)  # each user, from L1 alone
        result = exit_account(env.w3, env.rollup, rebuilt, user.account, env.provers, user.address)
        assert (result.owner, result.amount) == (user.address, owns[user.account])
        withdraw_pending_balance(env.w3, env.rollup, user.address, user.address)
    paid = {alice.account: 3 * USDC, bob.account: 4 * USDC, carol.account: 7 * USDC}
    for user in env.users:
        expected = before[user.account] + owns[user.account] + paid[user.account]
        assert env.balance(user) == expected
    assert env.token.functions.balanceOf(env.rollup.address).call() == 0


def test_an_exit_proof_binds_the_account_the_owner_and_the_amount(env: RollupEnv) -> None:
    alice, bob, carol = env.users
    env.forced_withdraw(bob, USDC)
    expire_and_activate(env, carol)
    rebuilt = reconstruct(env.w3, env.rollup, env.config)
    owner, amount, proof = env.provers.prove_exit(rebuilt.state, alice.account)
    assert owner == alice.owner
    perform = env.rollup.functions.performDesert
    for account, to, value in (
        (bob.account, alice.address, amount),  # alice's proof for bob's account
        (alice.account, carol.address, amount),  # paid to someone else
        (alice.account, alice.address, amount + 1),  # more than she owns
    ):
        with reverts("InvalidProof"):
            perform(account, to, value, proof).transact({"from": carol.address})
    # a proof of a larger balance must be against another root, which the contract refuses
    richer = rebuilt.state.accounts[alice.account]
    rebuilt.state.set_collateral(richer, richer.collateral + USDC)
    _, more, forged = env.provers.prove_exit(rebuilt.state, alice.account)
    assert more == amount + USDC
    with reverts("InvalidProof"):
        perform(alice.account, alice.address, more, forged).transact({"from": alice.address})
    env.send(perform(alice.account, alice.address, amount, proof), carol.address)
    with reverts("AlreadyExited"):
        perform(alice.account, alice.address, amount, proof).transact({"from": alice.address})


def test_the_command_line_rebuilds_the_state_and_exits_an_account(
    env: RollupEnv, tmp_path: Path
) -> None:
    alice, bob, _ = env.users
    url = str(getattr(env.w3.provider, "endpoint_uri", ""))
    path = tmp_path / "rollup.json"
    Deployment(url, env.config, env.rollup.address, env.token.address, env.validator,
               env.start_block).write(path)  # fmt: skip
    runner = CliRunner()

    def zkperp(*args: str) -> Result:
        return runner.invoke(app, [*args, "--deployment", str(path)], env={"COLUMNS": "200"})

    rebuilt = zkperp("reconstruct")
    # words, not lines: the console may wrap (its width is fixed where it was made)
    words = " ".join(rebuilt.output.split())
    assert rebuilt.exit_code == 0 and "the contract's last verified root" in words
    refused = zkperp("exit", "--account", str(alice.account))
    assert refused.exit_code == 1 and "desert mode is not active" in refused.output
    env.forced_withdraw(bob, USDC)
    expire_queue(env)
    assert "desert mode activated" in zkperp("desert", "activate").output
    assert "no deposit to refund" in zkperp("desert", "refund").output
    before = env.balance(alice)
    done = zkperp("exit", "--account", str(alice.account), "--sender", alice.address)
    assert done.exit_code == 0, done.output
    assert env.balance(alice) == before + owned(env, alice) + 3 * USDC
    # bob leaves with public data only: the rollup's address, a node, the published exit key
    key = export_exit_key(env.provers, path)  # what `zkperp operator deploy` publishes
    assert keccak(key.read_bytes()) == env.rollup.functions.exitProvingKeyHash().call()
    path.unlink()
    public = ["--rollup", env.rollup.address, "--rpc", url, "--sender", bob.address]
    wrong = tmp_path / "other.exit-key"
    wrong.write_bytes(key.read_bytes()[:-1] + b"\0")
    refused = runner.invoke(app, ["exit", "--account", str(bob.account), *public,
                                  "--exit-key", str(wrong)])  # fmt: skip
    assert refused.exit_code == 1 and "not the deployment's" in refused.output
    before = env.balance(bob)
    done = runner.invoke(app, ["exit", "--account", str(bob.account), *public,
                               "--exit-key", str(key)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert env.balance(bob) == before + owned(env, bob)


VERIFY_PROOF_ABI = [
    {
        "type": "function",
        "name": "verifyProof",
        "stateMutability": "view",
        "inputs": [
            {"name": "proof", "type": "bytes"},
            {"name": "publicInputs", "type": "uint256[]"},
        ],
        "outputs": [{"name": "", "type": "bool"}],
    }
]


def test_the_deployed_exit_verifier_accepts_an_exit_with_open_positions(
    devnet_session: devnet.Devnet, tmp_path: Path
) -> None:
    """Positions reach L1 only once trading is proven; until then, an exit of a state built by
    the rules (positions in both markets, unsettled funding, pool shares) is proven with the
    deployment's exit key and checked by the ExitVerifier the deployment generated from the
    exit circuit."""
    from protocol.commitment import update_state_root
    from protocol.exits import compute_exit_amount
    from tests.circuits.test_exit import honest

    w3 = chain.connect(devnet_session.rpc_url)
    snapshot = chain.snapshot(w3)
    try:
        env = deploy_env(w3, tmp_path, users=1)
        state = honest().state
        assert all(p.size for p in state.accounts[3].positions.values())
        owner, amount, proof = env.provers.prove_exit(state, 3)
        assert amount == compute_exit_amount(state, 3) > 0
        address = env.rollup.functions.exitVerifier().call()
        verifier = w3.eth.contract(address=address, abi=VERIFY_PROOF_ABI)
        inputs = [update_state_root(state), 3, int.from_bytes(owner, "big"), amount]
        assert verifier.functions.verifyProof(proof, inputs).call()
        assert not verifier.functions.verifyProof(proof, [*inputs[:3], amount + 1]).call()
    finally:
        chain.revert(w3, snapshot)
