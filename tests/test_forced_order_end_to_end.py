"""End to end at ``minimal``: forced orders (type 7) queued on the devnet contract, sealed by
the operator, their blocks proven with the real block circuit and verified by the deployed
verifier, and the state rebuilt from L1 the operator's (PROTOCOL 8.7, 9.2). The deployment
admits every forced trading request on its own, as its block circuit proves them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol import pubdata
from protocol.snapshot import encode_state
from scripts import chain, devnet
from scripts.reconstruct import reconstruct
from sequencer.submitter import get_l1_progress
from tests.sequencer.rollup_env import USDC, deploy_env

pytestmark = [pytest.mark.prove, pytest.mark.devnet]

BTC = 0


def test_forced_orders_are_proven_and_verified_on_l1(
    devnet_session: devnet.Devnet, tmp_path: Path
) -> None:
    """Alice's forced limit bid rests; Bob's forced market sell takes 3 of its 5 lots; a forced
    limit order of Bob's outside the band is consumed with status 0. Every batch is
    verified on L1 and the state rebuilt from it is the operator's."""
    w3 = chain.connect(devnet_session.rpc_url)
    snapshot = chain.snapshot(w3)
    try:
        env = deploy_env(w3, tmp_path, users=2)
        assert env.rollup.functions.tradingEnabled().call()
        alice, bob = env.users
        env.open_operator()
        for user in env.users:
            env.deposit(user, 1_000 * USDC)
            env.register_key(user)
        env.run_operator()
        assert env.operator is not None
        index = env.operator.state.markets[BTC].data.index_price
        orders = env.rollup.functions.requestForcedOrder
        env.send(orders(alice.account, BTC, 0, index, 5), alice.address)
        market_sell = pubdata.ORDER_FLAG_ASK | pubdata.ORDER_FLAG_MARKET
        env.send(orders(bob.account, BTC, market_sell, 1, 3), bob.address)
        env.run_operator()
        env.send(orders(bob.account, 1, 0, 2**16 - 1, 1), bob.address)  # outside ETH's band
        env.run_operator()
        state = env.operator.state
        assert state.accounts[alice.account].get_size(BTC) == 3
        assert state.accounts[bob.account].get_size(BTC) == -3
        assert state.accounts[alice.account].open_orders == 1  # 2 lots still resting
        assert 1 not in state.accounts[bob.account].positions
        progress = get_l1_progress(env.rollup)
        assert progress.committed == progress.verified == progress.executed >= 3
        rebuilt = reconstruct(env.w3, env.rollup, env.config)
        assert encode_state(rebuilt.state) == encode_state(state)
    finally:
        chain.revert(w3, snapshot)
