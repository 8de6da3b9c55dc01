"""The API against the real server on 127.0.0.1: every HTTP endpoint, the WebSocket channels
and submissions, book deltas replayed over a snapshot equal to the next snapshot, refusals (a
4xx, nothing logged), the client's order id echoed, and one client's flood rate-limited
without starving another."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from protocol.ops.burn_shares import BurnShares
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.create_order import OrderKind, TimeInForce
from protocol.ops.mint_shares import MintShares
from protocol.ops.transfer import Transfer
from protocol.signing import sign_tx
from protocol.snapshot import encode_state
from sequencer import api_feed
from sequencer.api_models import to_wire
from sequencer.api_service import RateLimiter
from tests.sequencer.api_env import PRESET, ApiEnv, start_api_env
from tests.sequencer.helpers import CHAIN_ID, FAR, USDC, key_of, transfer, withdraw


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    env = start_api_env(tmp_path)
    yield env
    env.stop()


@pytest.fixture
def http(env: ApiEnv) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env.url, timeout=30) as client:
        yield client


def recv(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return message


def subscribe(ws: ClientConnection, channel: str, **key: int) -> dict[str, Any]:
    ws.send(json.dumps({"op": "subscribe", "channel": channel, **key}))
    return recv(ws)


def logged(env: ApiEnv) -> int:
    return int(env.store.db.execute("SELECT COUNT(*) FROM l2_log").fetchone()[0])


def test_openapi_describes_every_endpoint(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    assert set(spec["paths"]) >= {
        "/v1/transactions", "/v1/transactions/batch", "/v1/status", "/v1/accounts",
        "/v1/accounts/{index}", "/v1/markets", "/v1/markets/{index}",
        "/v1/markets/{index}/book", "/v1/markets/{index}/trades", "/v1/batches",
        "/v1/batches/{number}", "/v1/priority-queue",
    }  # fmt: skip
    schemas = spec["components"]["schemas"]
    assert {"TransferTx", "WithdrawTx", "CreateOrderTx", "Transaction"} <= set(schemas)
    amount = schemas["TransferTx"]["properties"]["amount"]
    assert amount["exclusiveMaximum"] == 1 << PRESET.amount_bits


def test_a_transfer_is_acknowledged_with_its_order_id_and_sealed(
    env: ApiEnv, http: httpx.Client
) -> None:
    answer = http.post("/v1/transactions", json=to_wire(transfer(3, 0, 4, USDC), "my-7"))
    assert answer.status_code == 200
    ack = answer.json()
    assert ack == {
        "seq": 1,
        "type": "transfer",
        "account": 3,
        "nonce": 0,
        "client_order_id": "my-7",
    }
    account = http.get("/v1/accounts/3").json()
    assert (account["nonce"], account["next_nonce"]) == (0, 1)
    assert http.get("/v1/status").json()["mempool"] == 1
    number = env.seal()
    account = http.get("/v1/accounts/3").json()
    assert (account["nonce"], account["collateral"]) == (1, 999 * USDC)
    assert http.get("/v1/accounts/4").json()["collateral"] == 1_001 * USDC
    batch = http.get(f"/v1/batches/{number}").json()
    assert batch["status"] == "sealed" and batch["l2_transactions"] == 1
    assert batch["operations"] == [
        {"type": "transfer", "account": 3, "nonce": 0, "expiry": FAR, "to": 4, "amount": USDC}
    ]
    assert batch["slots"] == [
        {"slot": 0, "type": "transfer", "account": 3, "to": 4, "amount": USDC}
    ]  # the block's records: no nonce, no expiry
    first = http.get("/v1/batches/1").json()
    assert [op["type"] for op in first["operations"]] == ["deposit", "register_key"] * 3
    assert [b["number"] for b in http.get("/v1/batches").json()] == [number, 1]
    accounts = http.get("/v1/accounts").json()
    assert {a["index"] for a in accounts} >= {3, 4, 5}


def test_a_batch_is_all_acknowledged_or_not_logged(env: ApiEnv, http: httpx.Client) -> None:
    good = [to_wire(transfer(4, 0, 5, USDC)), to_wire(withdraw(4, 1, USDC), "w")]
    bad = [*good, to_wire(transfer(4, 7, 5, USDC))]
    refused = http.post("/v1/transactions/batch", json=bad)
    assert refused.status_code == 409 and "next is 2" in refused.json()["message"]
    assert logged(env) == 0
    acks = http.post("/v1/transactions/batch", json=good).json()
    assert [(a["nonce"], a["client_order_id"]) for a in acks] == [(0, None), (1, "w")]
    assert http.post("/v1/transactions/batch", json=[]).status_code == 422


REFUSALS = [
    ("stale nonce", lambda: to_wire(transfer(3, 0, 4, USDC)), 409, "bad_nonce"),
    ("nonce ahead", lambda: to_wire(transfer(3, 5, 4, USDC)), 409, "bad_nonce"),
    ("bad signature", lambda: {**to_wire(transfer(3, 1, 4, USDC)), "amount": 2}, 401,
     "bad_signature"),
    ("unknown sender", lambda: to_wire(transfer(9, 0, 4, USDC)), 404, "unknown_account"),
    ("unknown recipient", lambda: to_wire(transfer(3, 1, 12, USDC)), 404, "unknown_account"),
    ("amount out of range", lambda: {**to_wire(transfer(3, 1, 4, 1)), "amount": 1 << 64}, 422,
     "invalid"),
    ("a string amount", lambda: {**to_wire(transfer(3, 1, 4, 1)), "amount": "1"}, 422, "invalid"),
    ("a field too many", lambda: {**to_wire(transfer(3, 1, 4, 1)), "fee": 1}, 422, "invalid"),
    ("malformed signature", lambda: {**to_wire(transfer(3, 1, 4, 1)), "signature": "ff" * 64},
     400, "malformed_signature"),
    ("unknown type", lambda: {**to_wire(transfer(3, 1, 4, 1)), "type": "mint"}, 422, "invalid"),
    ("expired", lambda: to_wire(sign_tx(Transfer(3, 1, 999, 4, 1), key_of(3), CHAIN_ID)), 422,
     "expired"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "status", "code"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_bad_input_gets_a_clear_4xx_and_nothing_is_logged(
    env: ApiEnv, http: httpx.Client, case: str, body: Any, status: int, code: str
) -> None:
    assert http.post("/v1/transactions", json=to_wire(transfer(3, 0, 4, USDC))).status_code == 200
    env.seal()
    before, count = encode_state(env.state), logged(env)
    answer = http.post("/v1/transactions", json=body())
    assert (answer.status_code, answer.json()["error"]) == (status, code), answer.text
    assert answer.json()["message"]
    assert (encode_state(env.state), logged(env)) == (before, count)


def test_pool_shares_are_minted_and_burned_through_the_api(env: ApiEnv, http: httpx.Client) -> None:
    mint = sign_tx(MintShares(3, 0, FAR, 10 * USDC), key_of(3), CHAIN_ID)
    assert http.post("/v1/transactions", json=to_wire(mint)).json()["type"] == "mint_shares"
    env.seal()
    assert http.get("/v1/accounts/3").json()["collateral"] == 990 * USDC
    burn = sign_tx(BurnShares(3, 1, FAR, 4 * USDC), key_of(3), CHAIN_ID)
    assert http.post("/v1/transactions", json=to_wire(burn)).json()["type"] == "burn_shares"
    number = env.seal()
    assert http.get("/v1/accounts/3").json()["collateral"] == 994 * USDC
    types = [op["type"] for op in http.get(f"/v1/batches/{number}").json()["operations"]]
    assert types == ["burn_shares"]


def test_an_order_that_fills_is_taken(env: ApiEnv, http: httpx.Client) -> None:
    resting = to_wire(env.order(3, True, 10_100, 2), "o-1")
    assert http.post("/v1/transactions", json=resting).json()["client_order_id"] == "o-1"
    env.seal()
    order = to_wire(env.order(4, False, 10_100, 3), "o-2")  # takes the ask: a fill
    assert http.post("/v1/transactions", json=order).json()["client_order_id"] == "o-2"
    wrong_market = {**order, "market": 1}  # the preset has two market slots; one market exists
    assert http.post("/v1/transactions", json=wrong_market).json()["error"] == "unknown_market"
    assert logged(env) == 2  # the resting order and the fill
    # the fill's batch shows its slots as proven: the order and the claim that rests its rest
    number = env.seal()
    slots = http.get(f"/v1/batches/{number}").json()["slots"]
    assert [(s["slot"], s["type"]) for s in slots] == [(0, "create_order"), (1, "claim")]
    assert (slots[0]["maker"], slots[0]["filled"], slots[1]["filled"]) == (3, 2, 0)


def test_a_stop_loss_and_its_cancel_are_taken(env: ApiEnv, http: httpx.Client) -> None:
    """3, short 2, places a buy stop-loss (a trigger order, proven since placing one is) and
    cancels it by its id."""
    env.trade(env.order(3, True, 10_100, 2))
    env.trade(env.order(4, False, 10_100, 2))
    stop = env.order(
        3, False, 10_200, 2, kind=OrderKind.STOP_LOSS, time_in_force=TimeInForce.IOC,
        reduce_only=True, trigger_price=10_150,
    )  # fmt: skip
    assert http.post("/v1/transactions", json=to_wire(stop, "sl-1")).status_code == 200
    env.seal()
    assert list(env.state.markets[0].triggers) == [0]
    cancel = sign_tx(CancelOrder(3, stop.nonce + 1, FAR, 0, 0, True), key_of(3), CHAIN_ID)
    assert http.post("/v1/transactions", json=to_wire(cancel)).status_code == 200
    env.seal()
    assert env.state.markets[0].triggers == {}
    assert env.state.accounts[3].open_orders == 0


def test_markets_book_trades_priority_queue_and_status(env: ApiEnv, http: httpx.Client) -> None:
    (market,) = http.get("/v1/markets").json()
    assert market == http.get("/v1/markets/0").json()
    assert (market["index_price"], market["params"]["taker_fee"]) == (10_000, 500)
    assert http.get("/v1/markets/1").status_code == 404
    assert http.get("/v1/markets/1/book").status_code == 404
    assert http.get("/v1/markets/x").status_code == 422
    env.trade(env.order(3, True, 10_100, 3))
    env.trade(env.order(4, False, 10_100, 2))
    book = http.get("/v1/markets/0/book").json()
    assert book == {"market": 0, "seq": 2, "bids": [], "asks": [[10_100, 1]]}
    (trade,) = http.get("/v1/markets/0/trades").json()
    assert (trade["price"], trade["size"], trade["maker"], trade["taker"]) == (10_100, 2, 3, 4)
    maker = http.get("/v1/accounts/3").json()
    assert maker["positions"][0]["size"] == -2 and maker["open_orders"][0]["remaining"] == 1
    assert maker["imr"] > maker["mmr"] > 0 and maker["health"] == "healthy"
    assert http.get("/v1/accounts/99").status_code == 404
    queue = http.get("/v1/priority-queue").json()
    assert queue == {"next_request": 6, "l1_time": None, "pending": []}
    status = http.get("/v1/status").json()
    assert (status["l2_block"], status["desert_mode"]) == (env.state.block_number, None)
    assert http.get("/v1/batches/77").status_code == 404


def test_book_deltas_replayed_over_a_snapshot_give_the_next_snapshot(
    env: ApiEnv, http: httpx.Client
) -> None:
    with connect(env.ws_url) as ws:
        snapshot = subscribe(ws, "book", market=0)
        assert snapshot["seq"] == 0
        book = {"bids": dict(snapshot["bids"]), "asks": dict(snapshot["asks"])}
        seq = snapshot["seq"]
        blocks = [  # (account, is_ask, price, size): one order per account and block
            [(3, True, 10_100, 3), (4, False, 9_900, 2)],
            [(5, True, 10_050, 1), (3, True, 10_100, 4)],
            [(4, False, 10_100, 6)],  # takes 10_050 and 5 of 10_100
            [(5, False, 9_900, 1), (3, True, 9_900, 2)],  # fills 2 of the 3 bid at 9_900
        ]
        for orders in blocks:
            env.trade(*(env.order(*o) for o in orders))
            delta = recv(ws)
            assert delta["channel"] == "book" and delta["seq"] == seq + 1
            seq = delta["seq"]
            for side in ("bids", "asks"):
                for price, size in delta[side]:
                    if size:
                        book[side][price] = size
                    else:
                        book[side].pop(price, None)
            expected = http.get("/v1/markets/0/book").json()
            assert expected["seq"] == seq
            assert sorted(book["bids"].items(), reverse=True) == [
                tuple(x) for x in expected["bids"]
            ]
            assert sorted(book["asks"].items()) == [tuple(x) for x in expected["asks"]]
        assert book["asks"] == {10_100: 2}
        assert book["bids"] == {9_900: 1}
        again = subscribe(ws, "book", market=0)
        assert again["seq"] == seq and again["asks"] == [[10_100, 2]]


def test_websocket_trades_accounts_batches_and_submissions(env: ApiEnv) -> None:
    with connect(env.ws_url) as ws:
        assert subscribe(ws, "trades", market=0)["trades"] == []
        assert subscribe(ws, "account", account=3)["account"]["collateral"] == 1_000 * USDC
        assert subscribe(ws, "batches")["channel"] == "batches"
        env.trade(env.order(3, True, 10_100, 3))
        account = recv(ws)
        assert account["channel"] == "account" and len(account["account"]["open_orders"]) == 1
        assert recv(ws) == {"channel": "batches", "number": 2, "status": "sealed"}
        env.trade(env.order(4, False, 10_100, 1))
        trade = recv(ws)
        assert (trade["channel"], trade["size"], trade["block"]) == ("trades", 1, 3)
        assert recv(ws)["account"]["positions"][0]["size"] == -1
        assert recv(ws)["number"] == 3
        ws.send(json.dumps({"op": "submit", "id": "a", "tx": to_wire(transfer(3, 1, 4, 5), "c")}))
        ack = recv(ws)
        assert ack["type"] == "ack" and ack["id"] == "a"
        assert ack["acks"][0]["client_order_id"] == "c"
        ws.send(json.dumps({"op": "submit", "id": "b", "tx": to_wire(transfer(3, 1, 4, 5))}))
        assert recv(ws) | {"message": ""} == {
            "type": "error", "id": "b", "status": 409, "error": "bad_nonce", "message": ""
        }  # fmt: skip
        for bad in ({"op": "subscribe", "channel": "book", "market": 3}, {"op": "x"}, [1]):
            ws.send(json.dumps(bad))
            assert recv(ws)["type"] == "error"
        env.seal()
        assert recv(ws)["account"]["nonce"] == 2  # the transfer, sealed
        assert recv(ws) == {"channel": "batches", "number": 4, "status": "sealed"}


def test_a_websocket_submission_that_fails_unexpectedly_is_answered_and_the_socket_goes_on(
    env: ApiEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("disk gone")

    with connect(env.ws_url) as ws:
        monkeypatch.setattr(env.service, "_check", broken)
        ws.send(json.dumps({"op": "submit", "id": 7, "tx": to_wire(transfer(3, 0, 4, 5))}))
        reply = recv(ws)  # an answer, not silence
        assert (reply["type"], reply["id"], reply["status"]) == ("error", 7, 500)
        assert "not logged" in reply["message"]
        monkeypatch.undo()
        ws.send(json.dumps({"op": "submit", "id": 8, "tx": to_wire(transfer(3, 0, 4, 5))}))
        assert recv(ws)["type"] == "ack"
    assert len(env.store.get_pending_txs()) == 1


def test_one_accounts_flood_is_rate_limited_without_starving_another(
    env: ApiEnv, http: httpx.Client
) -> None:
    env.service.limiter = RateLimiter(rate=1.0, burst=5.0)
    flood = [http.post("/v1/transactions", json=to_wire(transfer(3, 9, 4, 1))) for _ in range(20)]
    codes = [a.status_code for a in flood]
    assert codes.count(429) >= 14 and set(codes) == {409, 429}
    assert "too many requests" in flood[-1].json()["message"]
    other = http.post("/v1/transactions", json=to_wire(transfer(4, 0, 3, 1)))
    assert other.status_code == 200


def test_a_client_that_falls_behind_is_disconnected_and_the_others_go_on(
    env: ApiEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_feed, "QUEUE_LIMIT", 2)
    with connect(env.ws_url) as slow, connect(env.ws_url) as fine:
        subscribe(slow, "account", account=3)
        subscribe(slow, "account", account=4)
        subscribe(slow, "book", market=0)
        subscribe(fine, "book", market=0)
        # one block, three messages at once for the slow one (the book, two accounts)
        env.trade(env.order(3, True, 10_100, 3), env.order(4, False, 9_900, 1))
        assert recv(fine)["seq"] == 1
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                recv(slow)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        env.trade(env.order(5, False, 9_000, 1))
        assert recv(fine)["seq"] == 2
