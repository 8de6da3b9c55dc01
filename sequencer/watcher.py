"""The L1 watcher: takes the rollup's priority requests (deposits, key registrations, forced
requests) from its ``PriorityRequestQueued`` events once they have ``confirmations`` blocks on
top, each exactly once, in queue order.

The cursor is the last L1 block fully scanned. Requests and the new cursor are written in one
SQLite transaction (``Store.add_requests``), so a crash between the two cannot happen: after a
restart the watcher scans on from its cursor, and a request it sees again (the same id) is
checked to be identical and skipped. Each request is also checked against the queue's keccak
chain (PROTOCOL section 9): a missing, altered or reordered request stops the watcher.
"""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.contract import Contract

from protocol import pubdata
from sequencer.store import QueuedRequest, Store

CURSOR_KEY = "watcher.cursor"
MAX_RANGE = 2_000  # L1 blocks per eth_getLogs call


class WatcherError(RuntimeError):
    """The events do not form the queue the contract committed to (its hash chain)."""


class L1Watcher:
    """Polls the rollup's queue events into the store; see the module docstring."""

    def __init__(
        self,
        w3: Web3,
        rollup: Contract,
        store: Store,
        confirmations: int = 1,
        start_block: int = 0,
    ) -> None:
        if confirmations < 0:
            raise ValueError("confirmations must be >= 0")
        self.w3 = w3
        self.rollup = rollup
        self.store = store
        self.confirmations = confirmations
        self.start_block = start_block

    @property
    def cursor(self) -> int:
        """The last L1 block scanned (``start_block - 1`` before the first scan)."""
        value = self.store.get_meta(CURSOR_KEY)
        return self.start_block - 1 if value is None else int(value)

    def get_safe_block(self) -> int:
        """The newest L1 block with ``confirmations`` blocks on top of it."""
        return int(self.w3.eth.block_number) - self.confirmations

    def poll(self) -> list[QueuedRequest]:
        """Takes every confirmed request not yet taken; returns the new ones in order."""
        new: list[QueuedRequest] = []
        safe = self.get_safe_block()
        while self.cursor < safe:
            first = self.cursor + 1
            last = min(safe, first + MAX_RANGE - 1)
            found = [self._to_request(e) for e in self._get_logs(first, last)]
            self._check_chain(found)
            known = self.store.count_requests()
            self.store.add_requests(found, CURSOR_KEY, last)
            new += [r for r in found if r.id >= known]
        return new

    def _get_logs(self, first: int, last: int) -> list[Any]:
        event = self.rollup.events.PriorityRequestQueued()
        logs = event.get_logs(from_block=first, to_block=last)
        return sorted(logs, key=lambda e: e["args"]["requestId"])

    @staticmethod
    def _to_request(event: Any) -> QueuedRequest:
        args = event["args"]
        return QueuedRequest(
            id=int(args["requestId"]),
            request=bytes(args["request"]),
            chain_hash=bytes(args["chainHash"]),
            expires_at=int(args["expiresAt"]),
            l1_block=int(event["blockNumber"]),
            tx_hash=event["transactionHash"].to_0x_hex(),
        )

    def _check_chain(self, found: list[QueuedRequest]) -> None:
        """Each request must extend the chain of the one before it (stored or just found)."""
        if not found:
            return
        first = found[0].id
        previous = self.store.get_requests(first - 1, 1) if first > 0 else []
        chain = previous[0].chain_hash if previous else pubdata.ZERO_HASH
        if first > 0 and not previous:
            raise WatcherError(f"request {first} found, but request {first - 1} was never seen")
        for r in found:
            chain = pubdata.compute_priority_hash(chain, r.request)
            if chain != r.chain_hash:
                raise WatcherError(f"request {r.id} does not extend the queue's hash chain")
