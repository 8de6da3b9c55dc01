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

import pytest
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from protocol.ops.transfer import Transfer
from protocol.signing import sign_tx
from protocol.snapshot import encode_state
from scripts import chain, devnet
from scripts.devnet import CHAIN_ID
from scripts.exit import (
    ExitError,
    activate_desert_mode,
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
    """The scenario's chain and operator after three proven batches (reverted at the end)."""
    w3 = chain.connect(devnet_session.rpc_url)
    snapshot = chain.snapshot(w3)
    try:
        env = deploy_env(w3, tmp_path_factory.mktemp("e2e"), users=3)
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
    alice, bob, _ = env.users
    assert env.operator is not None
    live = reconstruct(env.w3, env.rollup, env.config).state  # two copies: one to build the
    proving = reconstruct(env.w3, env.rollup, env.config).state  # block on, one to prove it
    nonce = live.accounts[alice.account].nonce
    tx = sign_tx(Transfer(alice.account, nonce, NEVER, bob.account, USDC), alice.key, CHAIN_ID)
    timestamp = int(env.w3.eth.get_block("latest")["timestamp"])
    sealed = build_block(live, 4, timestamp, [], [(1, encode_tx(tx))])
    assert sealed.record.l2_seqs == (1,)
    proof = env.provers.prove_block(proving, sealed.block)
    last = get_stored_info(env.rollup, 3)
    honest = sealed.pubdata
    tampered = honest[:13] + (2 * USDC).to_bytes(8, "big") + honest[21:]  # the amount, 1 -> 2
    submitter = env.operator.submitter
    info = submitter.commit(last, 4, timestamp, sealed.state_root, tampered)
    with reverts("InvalidProof"):
        env.rollup.functions.verifyBatch(info.as_tuple(), proof).transact({"from": env.validator})
    env.send(env.rollup.functions.revertBatches([info.as_tuple()]), env.validator)
    info = submitter.commit(last, 4, timestamp, sealed.state_root, honest)
    submitter.verify(info, proof)  # the same proof, with the pubdata it was made for
    assert env.rollup.functions.totalBatchesVerified().call() == 4


def expire_and_activate(env: RollupEnv, sender: User) -> None:
    head = env.rollup.functions.firstPriorityRequestId().call()
    expires = env.rollup.functions.priorityRequests(head).call()[1]
    now = env.w3.eth.get_block("latest")["timestamp"]
    chain.increase_time(env.w3, max(0, expires - now))
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
