"""The SDK against the real server on loopback: reads, a wallet's signed transactions with the
next nonce taken from the API, a batch, refusals as ApiRequestError, and a stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.ops.transfer import Transfer
from protocol.signing import sign_tx
from sequencer.sdk import Ack, ApiClient, ApiRequestError, Wallet
from tests.sequencer.api_env import ApiEnv, start_api_env
from tests.sequencer.helpers import CHAIN_ID, FAR, USDC, key_of


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    env = start_api_env(tmp_path)
    yield env
    env.stop()


def test_a_wallet_transfers_withdraws_and_reads(env: ApiEnv) -> None:
    with ApiClient(env.url) as client:
        alice = Wallet(client, 3, key_of(3), CHAIN_ID)
        first = alice.transfer(4, 2 * USDC, client_order_id="a-1")
        assert first == Ack(1, "transfer", 3, 0, "a-1")
        assert alice.withdraw(USDC).nonce == 1  # the API counts the pending transfer
        env.seal()
        assert client.account(3)["collateral"] == 997 * USDC
        assert client.status()["l2_block"] == 2
        assert [b["number"] for b in client.batches()] == [2, 1]
        assert [op["type"] for op in client.batch(2)["operations"]] == ["transfer", "withdraw"]
        assert client.market(0) == client.markets()[0]
        assert client.priority_queue()["pending"] == []
        with pytest.raises(ApiRequestError) as refused:
            alice.place_order(0, True, 1, 10_100, client_order_id="o")
        assert (refused.value.status, refused.value.code) == (422, "unprovable_operation")
        with pytest.raises(ApiRequestError) as unknown:
            client.account(99)
        assert unknown.value.status == 404


def test_a_batch_and_a_stream(env: ApiEnv) -> None:
    with ApiClient(env.url) as client:
        ops = [sign_tx(Transfer(4, n, FAR, 5, 1), key_of(4), CHAIN_ID) for n in range(3)]
        acks = client.submit_batch([(op, f"b{n}") for n, op in enumerate(ops)])
        assert [(a.nonce, a.client_order_id) for a in acks] == [(0, "b0"), (1, "b1"), (2, "b2")]
        stream = client.stream({"channel": "book", "market": 0}, timeout=10)
        assert next(stream)["seq"] == 0
        env.trade(env.order(3, True, 10_100, 2))
        delta = next(stream)
        assert (delta["seq"], delta["asks"]) == (1, [[10_100, 2]])
        stream.close()
        assert client.book(0)["asks"] == [[10_100, 2]]
        assert client.trades(0) == []
