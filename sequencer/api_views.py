"""JSON views for the API: operations, markets, orders, books as price levels, and what L1
says of the batches and the priority queue (``L1View``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from typing import Any

from web3 import Web3
from web3.contract import Contract

from protocol.accounts import Account
from protocol.book import Order
from protocol.funding import compute_mark_price
from protocol.markets import Market
from protocol.ops.registry import decode_op, get_descriptor
from protocol.orders import BOOK
from protocol.pubdata import OpType
from sequencer.api_models import WIRE_NAME
from sequencer.store import QueuedRequest
from sequencer.submitter import L1Progress, get_l1_progress


class L1View:
    """What the API reads from L1: batch progress, the batches' transactions, desert mode."""

    def __init__(self, w3: Web3, rollup: Contract, start_block: int = 0) -> None:
        self.w3, self.rollup, self.start_block = w3, rollup, start_block
        self.txs: dict[tuple[str, int], dict[str, Any]] = {}  # (step, batch) -> tx, gas

    def get_progress(self) -> L1Progress:
        return get_l1_progress(self.rollup)

    def is_desert(self) -> bool:
        return bool(self.rollup.functions.desertMode().call())

    def get_time(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def get_queue(self) -> list[QueuedRequest]:
        """The requests L1 still holds: not executed, and in desert mode not cancelled."""
        f = self.rollup.functions
        first, total = int(f.firstPriorityRequestId().call()), int(f.totalPriorityRequests().call())
        if self.is_desert():
            first = max(first, int(f.desertRefundCursor().call()))
        if first >= total:
            return []
        logs = self.rollup.events.PriorityRequestQueued().get_logs(from_block=self.start_block)
        queue = []
        for event in logs:
            args = event["args"]
            if first <= int(args["requestId"]) < total:
                queue.append(QueuedRequest(
                    int(args["requestId"]), bytes(args["request"]), bytes(args["chainHash"]),
                    int(args["expiresAt"]), int(event["blockNumber"]),
                    "0x" + bytes(event["transactionHash"]).hex(),
                ))  # fmt: skip
        return sorted(queue, key=lambda r: r.id)

    def get_batch_tx(self, step: str, number: int) -> dict[str, Any] | None:
        """The L1 transaction of ``step`` (commit, verify, execute) of a batch, with its gas."""
        found = self.txs.get((step, number))
        if found is not None:
            return found
        event = {"commit": "BatchCommitted", "verify": "BatchVerified", "execute": "BatchExecuted"}
        logs = getattr(self.rollup.events, event[step])().get_logs(
            from_block=self.start_block, argument_filters={"batchNumber": number}
        )
        if not logs:
            return None
        tx_hash = logs[-1]["transactionHash"]
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        found = {"tx": "0x" + bytes(tx_hash).hex(), "gas": int(receipt["gasUsed"])}
        self.txs[(step, number)] = found
        return found


def describe(op: object) -> dict[str, Any]:
    """An operation as JSON: its type and fields (bytes as hex, the signature left out)."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(op).__name__).lower()
    body: dict[str, Any] = {"type": WIRE_NAME.get(type(op), name)}
    for f in fields(op):  # type: ignore[arg-type]
        value = getattr(op, f.name)
        if f.name == "signature":
            continue
        body[f.name] = "0x" + value.hex() if isinstance(value, bytes) else value
    return body


def describe_records(records: Sequence[bytes]) -> list[dict[str, Any]]:
    """A block's slots as proven, noops left out: each its slot, its type and its record's
    fields (bytes as hex), claims and pre-executions among them."""
    described = []
    for slot, record in enumerate(records):
        if record[0] == OpType.NOOP:
            continue
        decoded = decode_op(record)
        body: dict[str, Any] = {"slot": slot, "type": get_descriptor(record[0]).name}
        for name, value in zip(decoded.layout.names(), decoded.values, strict=True):
            body[name] = "0x" + value.hex() if isinstance(value, bytes) else value
        described.append(body)
    return described


def describe_market(market: Market) -> dict[str, Any]:
    data = market.data
    return {
        "index": market.index,
        "params": asdict(market.params),
        "index_price": data.index_price,
        "mark_price": data.mark_price,
        "computed_mark_price": compute_mark_price(market),
        "funding_index": data.funding_index,
        "funding_rate": data.funding_rate,
        "open_interest": data.open_interest,
    }


def describe_order(ref: tuple[int, int, int], order: Any) -> dict[str, Any]:
    kind = "limit" if ref[0] == BOOK else "trigger"
    body = {"kind": kind, "market": ref[1], "key": ref[2]}
    for name in ("price", "is_ask", "remaining", "size", "trigger_price", "reduce_only", "expiry"):
        if hasattr(order, name):
            body[name] = getattr(order, name)
    return body


def compute_levels(market: Market, accounts: Mapping[int, Account]) -> dict[str, list[list[int]]]:
    """A book as price levels, best first: ``[[price, total remaining size], ...]``, live
    orders only."""
    book = market.book
    asks = _live_levels(accounts, book.asks, book.ask_prices)
    bids = _live_levels(accounts, book.bids, reversed(book.bid_prices))
    return {"bids": bids, "asks": asks}


def _live_levels(
    accounts: Mapping[int, Account], levels: Mapping[int, list[Order]], prices: Iterable[int]
) -> list[list[int]]:
    """``[[price, size], ...]`` of the live orders (a dead one, whose owner cancelled all
    since it rested, waits in the book for a matching step to remove it: PROTOCOL 7.2)."""
    out = []
    for p in prices:
        size = sum(o.remaining for o in levels[p] if o.epoch == accounts[o.account].cancel_epoch)
        if size:
            out.append([p, size])
    return out
