"""A small Python SDK over the operator's API (``sequencer.api``): what a trader's program uses.

``ApiClient`` reads (account, markets, book, trades, batches, priority queue, status) and
submits signed transactions over HTTP; ``Wallet`` signs with an account's L2 key, taking the
next nonce from the API (which counts the account's pending transactions); ``stream`` yields
the messages of WebSocket subscriptions. A refusal raises ``ApiRequestError`` with the
server's status, code and message.

    client = ApiClient("http://127.0.0.1:8700")
    wallet = Wallet(client, account=3, key=SecretKey.from_seed(seed), chain_id=31337)
    ack = wallet.transfer(to=4, amount=5_000_000, client_order_id="rent")
    for message in client.stream({"channel": "book", "market": 0}):
        ...
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.sync.client import connect

from protocol.eddsa import SecretKey
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.set_leverage import SetLeverage
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.signing import sign_tx
from sequencer.api_models import to_wire

NEVER = (1 << 40) - 1  # an expiry beyond any timestamp of timestamp_bits = 40


class ApiRequestError(RuntimeError):
    """The API refused a request; ``status`` is the HTTP status, ``code`` the error's name."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Ack:
    """An acknowledged transaction: its place in the operator's write-ahead log."""

    seq: int
    type: str
    account: int
    nonce: int
    client_order_id: str | None = None


class ApiClient:
    """The operator's API at ``url`` (``http://host:port``)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                body = response.json()
                raise ApiRequestError(response.status_code, body["error"], body["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiRequestError(response.status_code, "http", response.text) from None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self._answer(self.http.get(path, params=params))

    # -- reads ----------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return dict(self.get("/v1/status"))

    def account(self, index: int) -> dict[str, Any]:
        return dict(self.get(f"/v1/accounts/{index}"))

    def accounts(self) -> list[dict[str, Any]]:
        return list(self.get("/v1/accounts"))

    def markets(self) -> list[dict[str, Any]]:
        return list(self.get("/v1/markets"))

    def market(self, index: int) -> dict[str, Any]:
        return dict(self.get(f"/v1/markets/{index}"))

    def book(self, market: int) -> dict[str, Any]:
        return dict(self.get(f"/v1/markets/{market}/book"))

    def trades(self, market: int) -> list[dict[str, Any]]:
        return list(self.get(f"/v1/markets/{market}/trades"))

    def batches(self, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.get("/v1/batches", limit=limit))

    def batch(self, number: int) -> dict[str, Any]:
        return dict(self.get(f"/v1/batches/{number}"))

    def priority_queue(self) -> dict[str, Any]:
        return dict(self.get("/v1/priority-queue"))

    # -- submissions ----------------------------------------------------------------------------

    def submit(self, op: Any, client_order_id: str | None = None) -> Ack:
        """Submits one signed operation; its acknowledgement."""
        body = to_wire(op, client_order_id)
        return Ack(**self._answer(self.http.post("/v1/transactions", json=body)))

    def submit_batch(self, ops: list[tuple[Any, str | None]]) -> list[Ack]:
        """Submits signed operations in order, all or none."""
        body = [to_wire(op, cid) for op, cid in ops]
        answer = self._answer(self.http.post("/v1/transactions/batch", json=body))
        return [Ack(**a) for a in answer]

    # -- the WebSocket --------------------------------------------------------------------------

    def stream(
        self, *subscriptions: dict[str, Any], timeout: float | None = None
    ) -> Generator[Any, None, None]:
        """Subscribes (``{"channel": "book", "market": 0}``, ...) and yields every message,
        the snapshots first; ``timeout`` bounds the wait for each message."""
        with connect(self.url.replace("http", "ws", 1) + "/v1/ws") as ws:
            for sub in subscriptions:
                ws.send(json.dumps({"op": "subscribe", **sub}))
            while True:
                yield json.loads(ws.recv(timeout=timeout))


@dataclass
class Wallet:
    """One account's signing key against an API."""

    client: ApiClient
    account: int
    key: SecretKey
    chain_id: int

    def get_next_nonce(self) -> int:
        return int(self.client.account(self.account)["next_nonce"])

    def _send(self, op: Any, client_order_id: str | None) -> Ack:
        return self.client.submit(sign_tx(op, self.key, self.chain_id), client_order_id)

    def transfer(
        self, to: int, amount: int, expiry: int = NEVER, client_order_id: str | None = None
    ) -> Ack:
        op = Transfer(self.account, self.get_next_nonce(), expiry, to, amount)
        return self._send(op, client_order_id)

    def withdraw(self, amount: int, expiry: int = NEVER, client_order_id: str | None = None) -> Ack:
        return self._send(
            Withdraw(self.account, self.get_next_nonce(), expiry, amount), client_order_id
        )

    def place_order(
        self,
        market: int,
        is_ask: bool,
        size: int,
        price: int,
        kind: OrderKind = OrderKind.LIMIT,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        client_order_id: str | None = None,
        trigger_price: int = 0,
    ) -> Ack:
        """An order; a stop-loss / take-profit one (IOC, reduce-only) waits for the mark to
        reach ``trigger_price``, then takes at worst ``price``."""
        nonce = self.get_next_nonce()
        op = CreateOrder(
            self.account, nonce, NEVER, market, is_ask, size, price, kind, time_in_force,
            reduce_only, trigger_price,
        )  # fmt: skip
        return self._send(op, client_order_id)

    def cancel_order(
        self,
        market: int,
        key: int,
        client_order_id: str | None = None,
        is_trigger: bool = False,
    ) -> Ack:
        """Cancels a resting order (by key), or a trigger order (by its id)."""
        op = CancelOrder(self.account, self.get_next_nonce(), NEVER, market, key, is_trigger)
        return self._send(op, client_order_id)

    def modify_order(
        self, market: int, key: int, price: int, size: int, client_order_id: str | None = None
    ) -> Ack:
        op = ModifyOrder(self.account, self.get_next_nonce(), NEVER, market, key, price, size)
        return self._send(op, client_order_id)

    def cancel_all(self, client_order_id: str | None = None) -> Ack:
        """Cancels every resting and trigger order of the account."""
        return self._send(CancelAll(self.account, self.get_next_nonce(), NEVER), client_order_id)

    def set_leverage(self, market: int, imf: int, client_order_id: str | None = None) -> Ack:
        """Sets the initial margin fraction (ppm; 0: the market's) of the account's position
        and orders in ``market``: the maximum leverage is 10^6 / imf."""
        op = SetLeverage(self.account, self.get_next_nonce(), NEVER, market, imf)
        return self._send(op, client_order_id)
