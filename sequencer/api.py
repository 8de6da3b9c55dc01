"""The operator's HTTP and WebSocket API (FastAPI under uvicorn), and the explorer page.

HTTP (JSON; the OpenAPI description at ``/openapi.json``, browsable at ``/docs``):

- ``POST /v1/transactions``: one signed transaction (``sequencer.api_models``); the answer is
  the acknowledgement: its write-ahead-log sequence number and the ``client_order_id`` echoed.
  ``POST /v1/transactions/batch``: a list, all acknowledged or none.
- ``GET /v1/accounts``, ``/v1/accounts/{index}``: collateral, positions, open orders, health,
  TAV, IMR, MMR, nonce (and the next nonce, counting pending transactions).
- ``GET /v1/markets``, ``/v1/markets/{index}``: parameters, index, mark, funding;
  ``/book``: price levels with the feed's sequence number; ``/trades``: recent fills.
- ``GET /v1/batches``, ``/v1/batches/{number}``: sealed, committed, verified or executed, with
  L1 transactions, gas and proving time; one batch's operations decoded.
- ``GET /v1/priority-queue``: L1 requests not yet in a block, with deadlines;
  ``GET /v1/status``: L2 time, mempool, L1 progress and desert mode.

WebSocket ``/v1/ws``: ``{"op": "subscribe", "channel": "book" | "trades" | "account" |
"batches", "market" | "account": n}`` (``sequencer.api_feed``), and ``{"op": "submit", "id":
..., "tx": {...}}`` (or ``"txs": [...]``), answered ``{"type": "ack", ...}`` or
``{"type": "error", "status": 4xx, ...}``.

Every refusal is a 4xx with ``{"error": code, "message": ...}``, and nothing is logged or
changed. ``ApiServer`` runs it on a thread of the operator's process; ``ServedOperator`` is the
operator that holds the state's lock while it seals and feeds each block to the WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, TypeAdapter, ValidationError

from protocol.events import Trade
from sequencer.api_feed import Connection, Feed
from sequencer.api_models import TxModel, make_tx_adapter
from sequencer.api_service import Ack, ApiError, ApiService
from sequencer.api_views import L1View
from sequencer.builder import SealedBlock
from sequencer.operator import Operator
from sequencer.progress import Progress

EXPLORER = Path(__file__).parent / "explorer"
MAX_BATCH = 256  # transactions in one batch submission


class AckModel(BaseModel):
    seq: int
    type: str
    account: int
    nonce: int
    client_order_id: str | None = None


def _ack_json(ack: Ack) -> dict[str, Any]:
    """An ``AckModel``'s JSON (the same fields, without validating what the service made)."""
    return dict(vars(ack))


def _invalid(e: ValidationError) -> ApiError:
    first = e.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return ApiError(422, "invalid", f"{where}: {first['msg']} ({e.error_count()} error(s))")


def parse_txs(adapter: TypeAdapter[Any], body: Any, many: bool) -> list[TxModel]:
    """Validated wire transactions from a decoded JSON body; ApiError (4xx) otherwise."""
    items = body if many else [body]
    if many and (not isinstance(body, list) or not 0 < len(body) <= MAX_BATCH):
        raise ApiError(422, "invalid", f"a batch is a list of 1 to {MAX_BATCH} transactions")
    try:
        return [adapter.validate_python(item) for item in items]
    except ValidationError as e:
        raise _invalid(e) from None


def create_app(service: ApiService, feed_ready: FeedHolder) -> FastAPI:
    """The FastAPI application over ``service``; ``feed_ready`` gets the loop and feed."""
    adapter = make_tx_adapter(service.state.preset)
    admission = Admission(service)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        feed_ready.start(asyncio.get_running_loop(), Feed(service.get_levels()))
        try:
            yield
        finally:
            service.close()

    app = FastAPI(
        title="zkperp operator API",
        version="1",
        lifespan=lifespan,
        description=__doc__ or "",
    )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, e: ApiError) -> JSONResponse:
        return JSONResponse(e.to_json(), status_code=e.status)

    async def read_json(request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            raise ApiError(400, "malformed_json", "the body is not JSON") from None

    tx_schema = {"$ref": "#/components/schemas/Transaction"}

    @app.post(
        "/v1/transactions",
        response_model=AckModel,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": tx_schema}},
            }
        },
    )
    async def submit_one(request: Request) -> dict[str, Any]:
        """Submit one signed transaction; the acknowledgement echoes the client's order id."""
        models = parse_txs(adapter, await read_json(request), many=False)
        (ack,) = await admission.submit(models)
        return _ack_json(ack)

    batch_schema = {"type": "array", "items": tx_schema, "maxItems": MAX_BATCH}

    @app.post(
        "/v1/transactions/batch",
        response_model=list[AckModel],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": batch_schema}},
            }
        },
    )
    async def submit_batch(request: Request) -> list[dict[str, Any]]:
        """Submit signed transactions in order: all acknowledged, or none (the error says why)."""
        models = parse_txs(adapter, await read_json(request), many=True)
        return [_ack_json(a) for a in await admission.submit(models)]

    @app.get("/v1/status")
    def status() -> dict[str, Any]:
        """L2 block and time, mempool size, L1 progress and whether desert mode is on."""
        return service.get_status()

    @app.get("/v1/accounts")
    def accounts() -> list[dict[str, Any]]:
        """Every account, briefly."""
        return service.list_accounts()

    @app.get("/v1/accounts/{index}")
    def account(index: int) -> dict[str, Any]:
        """Collateral, positions, open orders, health, TAV, IMR, MMR, nonce and next nonce."""
        return service.get_account(index)

    @app.get("/v1/markets")
    def markets() -> list[dict[str, Any]]:
        return service.list_markets()

    @app.get("/v1/markets/{index}")
    def market(index: int) -> dict[str, Any]:
        """Parameters, index and mark prices, funding, open interest."""
        return service.get_market(index)

    @app.get("/v1/markets/{index}/book")
    async def book(index: int) -> dict[str, Any]:
        """Price levels, best first, with the WebSocket feed's sequence number."""
        feed = feed_ready.get()
        if not 0 <= index < len(feed.books):
            raise ApiError(404, "unknown_market", f"no market {index}")
        return feed.books[index].snapshot(index)

    @app.get("/v1/markets/{index}/trades")
    async def trades(index: int) -> list[dict[str, Any]]:
        """Recent fills, newest first."""
        feed = feed_ready.get()
        if not 0 <= index < len(feed.trades):
            raise ApiError(404, "unknown_market", f"no market {index}")
        return list(feed.trades[index])

    @app.get("/v1/batches")
    def batches(limit: int = 50) -> list[dict[str, Any]]:
        """The latest batches, newest first: status, L1 transactions, gas, proving time."""
        return service.get_batches(max(1, min(limit, 500)))

    @app.get("/v1/batches/{number}")
    def batch(number: int) -> dict[str, Any]:
        """One batch with its operations decoded."""
        return service.get_batch(number)

    @app.get("/v1/priority-queue")
    def priority_queue() -> dict[str, Any]:
        """L1 requests not yet in a block, with their deadlines."""
        return service.get_priority_queue()

    @app.websocket("/v1/ws")
    async def websocket(ws: WebSocket) -> None:
        await serve_socket(ws, service, adapter, feed_ready.get(), admission)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/explorer/index.html")

    if EXPLORER.is_dir():
        app.mount("/explorer", StaticFiles(directory=EXPLORER), name="explorer")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            body = adapter.json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components["Transaction"] = body
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


class Admission:
    """Hands submissions to the service's admission thread (``ApiService.start``) and their
    outcomes back to the loop: no executor hop and no waiting thread for a submission.

    An HTTP submission awaits a future the admission's threads resolve; a WebSocket one
    (``start``) has no task and no future: its reply, built on the log thread, goes to the
    loop's ``Outbox``, which hands every reply that arrives before the loop runs to the
    connections' queues in one go."""

    def __init__(self, service: ApiService) -> None:
        self.service = service
        self.outbox: Outbox | None = None

    async def submit(self, models: Sequence[TxModel], client: object = None) -> list[Ack]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Ack] | ApiError] = loop.create_future()

        def resolve(outcome: list[Ack] | ApiError) -> None:
            if not future.done():  # the request may have gone away meanwhile
                future.set_result(outcome)

        def reply(outcome: list[Ack] | ApiError) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the server is stopping
                loop.call_soon_threadsafe(resolve, outcome)

        self.service.start(models, client, reply)
        outcome = await future
        if isinstance(outcome, ApiError):
            raise outcome
        return outcome

    def start(self, connection: Connection, adapter: TypeAdapter[Any], msg: dict[str, Any]) -> None:
        """Admits one WebSocket ``submit`` message; its reply reaches ``connection`` later,
        in the order its admission ends (a refusal of its shape at once). Call on the loop."""
        loop = asyncio.get_running_loop()
        if self.outbox is None or self.outbox.loop is not loop:
            self.outbox = Outbox(loop)
        outbox = self.outbox
        request_id = msg.get("id")
        try:
            many = "txs" in msg
            models = parse_txs(adapter, msg.get("txs" if many else "tx"), many)
        except ApiError as e:
            connection.send(_error_reply(request_id, e))
            return

        def reply(outcome: list[Ack] | ApiError) -> None:
            if isinstance(outcome, ApiError):
                answer = _error_reply(request_id, outcome)
            else:
                answer = {"type": "ack", "id": request_id, "acks": [_ack_json(a) for a in outcome]}
            outbox.put(connection, answer)

        self.service.start(models, id(connection), reply)


class Outbox:
    """Messages for WebSocket connections from other threads, handed to the loop in bunches:
    one wake-up of the loop (``call_soon_threadsafe``) for all that arrive before it runs,
    rather than one each; each connection's messages keep their order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.lock = threading.Lock()
        self.items: list[tuple[Connection, dict[str, Any]]] = []

    def put(self, connection: Connection, message: dict[str, Any]) -> None:
        with self.lock:
            self.items.append((connection, message))
            if len(self.items) > 1:  # a hand-over is on its way already
                return
        with contextlib.suppress(RuntimeError):  # the loop closed: the server is stopping
            self.loop.call_soon_threadsafe(self._hand_over)

    def _hand_over(self) -> None:
        with self.lock:
            items, self.items = self.items, []
        for connection, message in items:
            connection.send(message)


def _error_reply(request_id: Any, e: ApiError) -> dict[str, Any]:
    return {"type": "error", "id": request_id, "status": e.status, **e.to_json()}


async def serve_socket(
    ws: WebSocket,
    service: ApiService,
    adapter: TypeAdapter[Any],
    feed: Feed,
    admission: Admission,
) -> None:
    """One WebSocket client: subscriptions and submissions until it goes away."""
    await ws.accept()
    connection = Connection(ws)
    feed.connections.add(connection)
    pump = asyncio.create_task(connection.pump())
    try:
        while True:
            message = await ws.receive_json()
            if isinstance(message, dict) and message.get("op") == "submit":
                admission.start(connection, adapter, message)
            else:
                connection.send(_subscribe(connection, service, feed, message))
    except (WebSocketDisconnect, ValueError, RuntimeError):
        pass
    finally:
        feed.connections.discard(connection)
        pump.cancel()


def _subscribe(connection: Connection, service: ApiService, feed: Feed, msg: Any) -> dict[str, Any]:
    try:
        if not isinstance(msg, dict) or msg.get("op") != "subscribe":
            raise ApiError(400, "unknown_op", "send {'op': 'subscribe' | 'submit', ...}")
        channel = msg.get("channel")
        if channel in ("book", "trades"):
            key = msg.get("market")
            if type(key) is not int or not 0 <= key < len(feed.books):
                raise ApiError(404, "unknown_market", f"no market {key!r}")
        elif channel == "account":
            key = msg.get("account")
            if type(key) is not int:
                raise ApiError(422, "invalid", "account must be an integer")
        elif channel == "batches":
            key = -1
        else:
            raise ApiError(400, "unknown_channel", f"no channel {channel!r}")
        return feed.subscribe(connection, channel, key, service.get_account)
    except ApiError as e:
        return {"type": "error", "status": e.status, **e.to_json()}


class FeedHolder:
    """The server's event loop and feed, once it runs; how the operator's thread reaches them."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.feed: Feed | None = None

    def start(self, loop: asyncio.AbstractEventLoop, feed: Feed) -> None:
        self.loop, self.feed = loop, feed
        self.ready.set()

    def get(self) -> Feed:
        assert self.feed is not None, "the server has not started"
        return self.feed

    def call(self, fn: Any, *args: Any) -> None:
        """Runs ``fn(*args)`` on the loop (from any thread)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn, *args)


def describe_trade(trade: Trade) -> dict[str, Any]:
    return {
        "market": trade.market,
        "price": trade.price,
        "size": trade.size,
        "taker": trade.taker,
        "maker": trade.maker,
        "taker_is_ask": trade.taker_is_ask,
    }


class ApiServer:
    """The API on ``host:port`` (port 0: any free one) on a thread of this process."""

    def __init__(self, service: ApiService, host: str = "127.0.0.1", port: int = 0) -> None:
        self.service = service
        self.holder = FeedHolder()
        self.app = create_app(service, self.holder)
        config = uvicorn.Config(
            self.app,
            host=host,
            port=port,
            log_level="warning",
            ws="auto",
            ws_per_message_deflate=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api", daemon=True)
        self.host = host
        self.port = port

    def start(self, timeout: float = 30.0) -> ApiServer:
        self.thread.start()
        if not self.holder.ready.wait(timeout):
            raise RuntimeError("the API server did not start")
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"the API server could not listen on {self.host}:{self.port}")
            self.thread.join(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- what the operator's thread hands over --------------------------------------------------

    def publish_block(self, number: int, events: tuple[Any, ...] = ()) -> None:
        """After block ``number`` was applied to the live state (call without the lock held
        by another thread): its book changes, trades and account views to the WebSocket."""
        service = self.service
        accounts: dict[int, dict[str, Any]] = {}
        feed = self.holder.feed
        subscribed = feed.get_account_subscriptions() if feed is not None else set()
        with service.lock:
            service.refresh_nonces()
            levels = service.get_levels()
            for index in subscribed:
                with contextlib.suppress(ApiError):
                    accounts[index] = service.get_account(index)
        trades = [describe_trade(e) for e in events if isinstance(e, Trade)]
        self.holder.call(self.holder.get().apply_block, number, levels, trades, accounts)
        self.publish_batch(number, "sealed", {})

    def publish_batch(self, number: int, status: str, detail: dict[str, Any]) -> None:
        if self.holder.feed is not None:
            self.holder.call(self.holder.feed.apply_batch, number, status, detail)

    def on_progress(self, p: Progress) -> None:
        """The operator's progress reports, as batch status on the WebSocket."""
        self.service.on_progress(p)
        status = {"commit": "committed", "verify": "verified", "execute": "executed"}
        if p.stage in status and p.done >= p.total:
            self.publish_batch(p.batch, status[p.stage], {})
        elif p.stage in ("witness", "prove") and p.done == 0:
            self.publish_batch(p.batch, "proving", {})


class ServedOperator(Operator):
    """The operator with an API: it seals holding the API's lock, then feeds the block out."""

    server: ApiServer | None = None

    def seal_block(self, verb: str = "sealed") -> SealedBlock | None:
        if self.server is None:
            return super().seal_block(verb)
        with self.server.service.lock:
            sealed = super().seal_block(verb)
            if sealed is not None:  # a dropped transaction frees its nonce for the next one
                self.server.service.refresh_nonces()
        if sealed is not None:
            self.server.publish_block(sealed.number, sealed.events)
        return sealed


def serve_operator(operator: ServedOperator, host: str, port: int) -> ApiServer:
    """Starts the API over ``operator``'s live state, store and L1, and feeds it the
    operator's blocks and progress."""
    l1 = L1View(operator.l1.w3, operator.l1.rollup, operator.l1.start_block)
    service = ApiService(operator.state, operator.store.path, l1=l1)
    server = ApiServer(service, host, port).start()
    report = operator.report

    def tee(p: Progress) -> None:
        report(p)
        server.on_progress(p)

    operator.report = tee
    operator.server = server
    return server
