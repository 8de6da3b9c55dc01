"""The SDK against the real server on loopback: reads, a wallet's signed transactions with the
next nonce taken from the API, a batch, refusals as ApiRequestError, and a stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.ops.claim import Claim
from protocol.ops.create_order import OrderKind, TimeInForce
from protocol.ops.transfer import Transfer
from protocol.pubdata import OpType
from protocol.signing import sign_tx
from sequencer import api_service, builder, codec
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
        assert alice.place_order(0, True, 1, 10_100, client_order_id="o").client_order_id == "o"
        env.seal()
        assert client.book(0)["asks"] == [[10_100, 1]]
        Wallet(client, 4, key_of(4), CHAIN_ID).place_order(0, False, 1, 10_200)  # takes it
        env.seal()
        assert client.book(0)["asks"] == [] and client.account(4)["positions"]
        (trade,) = client.trades(0)  # the operator's sealed block feeds the API its trades
        assert (trade["maker"], trade["taker"], trade["size"]) == (3, 4, 1)
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


def test_a_wallet_trades_once_the_circuit_proves_trading(
    env: ApiEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the trading types proven (told so here: the rules only), the API logs a wallet's
    orders, cancel-all and leverage change, and the builder includes them with their claims."""
    trading = codec.get_l2_types(frozenset(OpType))
    monkeypatch.setattr(codec, "L2_TYPES", trading)
    monkeypatch.setattr(api_service, "PROVABLE", frozenset(trading.values()))
    for module in (api_service, builder):
        monkeypatch.setattr(module, "check_provable", lambda state, op: None)
    monkeypatch.setattr(builder, "PROVEN_TYPES", frozenset(OpType))
    with ApiClient(env.url) as client:
        alice, bob = (Wallet(client, a, key_of(a), CHAIN_ID) for a in (3, 4))
        alice.place_order(0, True, 1, 10_000)
        alice.place_order(0, True, 1, 10_010)
        alice.place_order(0, True, 1, 10_500)
        bob.set_leverage(0, 200_000)
        assert bob.place_order(0, False, 3, 10_010).type == "create_order"
        assert alice.cancel_all().type == "cancel_all"
        number = env.seal()
        ops = client.batch(number)["operations"]  # the users' transactions (claims aside)
        assert [op["type"] for op in ops] == [
            "create_order", "create_order", "create_order", "set_leverage", "create_order",
            "cancel_all",
        ]  # fmt: skip
        claims = [op for op in env.sealed[-1].block.operations if isinstance(op, Claim)]
        assert len(claims) == 2  # a fill at 10,010, then the rest of the 3 lots rests
        assert client.account(4)["positions"][0]["size"] == 2
        assert client.book(0)["bids"] == [[10_010, 1]] and client.book(0)["asks"] == []


def test_a_wallet_places_and_cancels_a_stop_loss(env: ApiEnv) -> None:
    """4, long 1 after taking 3's ask, places a sell stop-loss and cancels it by its id (both
    proven: the API and the builder take them)."""
    with ApiClient(env.url) as client:
        alice, bob = (Wallet(client, a, key_of(a), CHAIN_ID) for a in (3, 4))
        alice.place_order(0, True, 1, 10_100)
        env.seal()
        bob.place_order(0, False, 1, 10_100)
        env.seal()
        stop = bob.place_order(
            0, True, 1, 9_900, OrderKind.STOP_LOSS, TimeInForce.IOC, True, trigger_price=9_950
        )
        assert stop.type == "create_order"
        env.seal()
        assert env.state.markets[0].triggers[0].account == 4
        assert client.account(4)["open_orders"][0]["trigger_price"] == 9_950
        assert bob.cancel_order(0, 0, is_trigger=True).type == "cancel_order"
        env.seal()
        assert env.state.markets[0].triggers == {}
        assert client.account(4)["open_orders"] == []
