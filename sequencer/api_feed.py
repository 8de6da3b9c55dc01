"""The WebSocket side of the API: channels a client subscribes to, fed after each block.

Channels: ``book`` (one market's price levels: a snapshot with a sequence number on
subscribing, then one delta per block that changed the book, numbered ``seq`` = previous + 1,
each level ``[price, size]`` with size 0 for a level gone, so the snapshot plus the deltas in
order is the book), ``trades`` (one market's fills), ``account`` (one account's view whenever
it changed), ``batches`` (each batch's progress: sealed, committed, proving, verified,
executed).

A ``Feed`` lives on the server's event loop; the operator's thread hands it each block's
levels, trades and account views through ``loop.call_soon_threadsafe``, so the book a
snapshot is taken from is always the one the last delta led to.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket

Levels = dict[str, list[list[int]]]  # {"bids": [[price, size], ...], "asks": [...]}
Sub = tuple[str, int]  # (channel, market or account; -1 for batches)
QUEUE_LIMIT = 10_000  # messages a slow client may fall behind before it is disconnected


@dataclass(eq=False)
class Connection:
    """One WebSocket client: its subscriptions and its outgoing queue."""

    ws: WebSocket
    subs: set[Sub] = field(default_factory=set)
    queue: asyncio.Queue[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT)
    )

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # a client that does not read is dropped, not waited for
            self.subs.clear()
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    async def pump(self) -> None:
        """Sends the queued messages; closes the socket of a client that fell too far behind."""
        while (message := await self.queue.get()) is not None:
            await self.ws.send_json(message)
        await self.ws.close(code=1013, reason="too far behind: subscribe again")


@dataclass
class BookFeed:
    seq: int
    bids: dict[int, int]
    asks: dict[int, int]

    def snapshot(self, market: int) -> dict[str, Any]:
        return {
            "market": market,
            "seq": self.seq,
            "bids": [[p, s] for p, s in sorted(self.bids.items(), reverse=True)],
            "asks": [[p, s] for p, s in sorted(self.asks.items())],
        }

    def update(self, levels: Levels) -> dict[str, list[list[int]]] | None:
        """Takes the new levels; the delta from the old ones, or None if nothing changed."""
        delta: dict[str, list[list[int]]] = {}
        for side, book in (("bids", self.bids), ("asks", self.asks)):
            new = {p: s for p, s in levels[side]}
            changes = [[p, s] for p, s in new.items() if book.get(p) != s]
            changes += [[p, 0] for p in book if p not in new]
            delta[side] = sorted(changes, reverse=side == "bids")
            book.clear()
            book.update(new)
        if not delta["bids"] and not delta["asks"]:
            return None
        self.seq += 1
        return delta


class Feed:
    """See the module docstring. Every method runs on the event loop."""

    def __init__(self, levels: Iterable[Levels], trade_history: int = 200) -> None:
        self.books = [BookFeed(0, {}, {}) for _ in levels]
        for book, lv in zip(self.books, levels, strict=True):
            book.update(lv)
            book.seq = 0
        self.trades = [deque[dict[str, Any]](maxlen=trade_history) for _ in self.books]
        self.batches: dict[int, dict[str, Any]] = {}
        self.accounts: dict[int, dict[str, Any]] = {}  # last view sent per account
        self.connections: set[Connection] = set()

    def get_account_subscriptions(self) -> set[int]:
        return {i for c in list(self.connections) for ch, i in list(c.subs) if ch == "account"}

    def publish(self, sub: Sub, message: dict[str, Any]) -> None:
        for connection in list(self.connections):
            if sub in connection.subs:
                connection.send(message)

    def apply_block(
        self,
        number: int,
        levels: list[Levels],
        trades: list[dict[str, Any]],
        accounts: dict[int, dict[str, Any]],
    ) -> None:
        """One block's effect on every channel."""
        for market, (book, lv) in enumerate(zip(self.books, levels, strict=True)):
            delta = book.update(lv)
            if delta is not None:
                message = {"channel": "book", "market": market, "seq": book.seq, "block": number}
                self.publish(("book", market), {**message, **delta})
        for trade in trades:
            trade = {"block": number, **trade}
            self.trades[trade["market"]].appendleft(trade)
            self.publish(("trades", trade["market"]), {"channel": "trades", **trade})
        for index, view in accounts.items():
            if self.accounts.get(index) != view:
                self.accounts[index] = view
                self.publish(("account", index), {"channel": "account", "account": view})

    def apply_batch(self, number: int, status: str, detail: dict[str, Any]) -> None:
        entry = self.batches.setdefault(number, {"number": number})
        entry.update(detail, status=status)
        self.publish(("batches", -1), {"channel": "batches", **entry})

    def subscribe(
        self, connection: Connection, channel: str, key: int, account: Callable[[int], Any]
    ) -> dict[str, Any]:
        """Adds a subscription; the message that starts it (a snapshot where there is one)."""
        if channel == "book":
            connection.subs.add(("book", key))
            return {"type": "snapshot", "channel": "book", **self.books[key].snapshot(key)}
        if channel == "trades":
            connection.subs.add(("trades", key))
            return {
                "type": "snapshot",
                "channel": "trades",
                "market": key,
                "trades": list(self.trades[key]),
            }
        if channel == "account":
            view = account(key)
            self.accounts[key] = view
            connection.subs.add(("account", key))
            return {"type": "snapshot", "channel": "account", "account": view}
        connection.subs.add(("batches", -1))
        batches = sorted(self.batches.values(), key=lambda b: b["number"])
        return {"type": "snapshot", "channel": "batches", "batches": batches}
