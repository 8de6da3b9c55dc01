"""Reconstruction from L1 data alone (the end-to-end test checks it against the operator's
state after a whole scenario): committed but unverified batches do not count, and a genesis
other than the deployed one is refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from web3 import Web3

from protocol.blob import DataAvailability
from protocol.commitment import update_state_root
from protocol.snapshot import encode_state
from scripts.reconstruct import ReconstructionError, reconstruct
from sequencer.submitter import get_stored_info
from tests.sequencer.rollup_env import USDC, RollupEnv, deploy_env

pytestmark = [pytest.mark.devnet, pytest.mark.prove]


@pytest.fixture
def env(w3: Web3, tmp_path: Path) -> RollupEnv:
    return deploy_env(w3, tmp_path, users=1)


def test_committed_but_unverified_batches_do_not_count(env: RollupEnv) -> None:
    (alice,) = env.users
    operator = env.open_operator()
    env.deposit(alice, 10 * USDC)
    env.register_key(alice)
    env.run_operator()
    verified = encode_state(operator.state)
    env.deposit(alice, 5 * USDC)
    operator.watcher.poll()
    sealed = operator.seal_block()
    assert sealed is not None
    last = operator.submitter.commit(
        get_stored_info(env.rollup, 1), 2, sealed.block.timestamp, sealed.state_root, sealed.pubdata
    )
    assert last.batch_number == 2
    rebuilt = reconstruct(env.w3, env.rollup, env.config)
    assert (rebuilt.batch_number, len(rebuilt.batches)) == (1, 1)
    assert encode_state(rebuilt.state) == verified
    assert rebuilt.state_root == update_state_root(rebuilt.state)


def test_a_genesis_other_than_the_deployed_one_is_refused(env: RollupEnv) -> None:
    other = replace(env.config, fee_owner=bytes(20))
    with pytest.raises(ReconstructionError, match="genesis"):
        reconstruct(env.w3, env.rollup, other)


def test_a_blob_deployment_is_rebuilt_from_its_blobs_after_every_local_file_is_gone(
    w3: Web3, tmp_path: Path
) -> None:
    """Batches posted as blobs of type-3 commitBatch transactions; with the operator's files
    deleted, the state is rebuilt from L1 alone: the events, the transactions and the blobs read
    back through the beacon route, each checked against its versioned hash."""
    env = deploy_env(w3, tmp_path, users=1, data=DataAvailability.BLOBS)
    (alice,) = env.users
    operator = env.open_operator()
    env.deposit(alice, 10 * USDC)
    env.register_key(alice)
    assert env.run_operator() >= 1
    expected = encode_state(operator.state)
    event = env.rollup.events.BatchCommitted().get_logs(from_block=env.start_block)[-1]
    tx = env.w3.eth.get_transaction(event["transactionHash"])
    assert tx["type"] == 3 and len(tx["blobVersionedHashes"]) == 1
    assert bytes(event["args"]["pubdata"]) == b""  # the pubdata is in the blob only
    operator.store.close()
    for path in tmp_path.iterdir():
        path.unlink()
    rebuilt = reconstruct(env.w3, env.rollup, env.config)
    assert encode_state(rebuilt.state) == expected
    assert rebuilt.state_root == int(env.rollup.functions.lastVerifiedStateRoot().call())
