"""The API's tests' world: a live state with a market, a real SQLite store, the real block
builder, and the real server on 127.0.0.1 (any free port).

Accounts 3, 4 and 5 are opened by L1 requests in block 1, as the watcher would queue them.
``seal`` builds the next block from the mempool with ``sequencer.builder`` (what the operator
does). Orders are not in the block circuit yet, so the operator cannot sequence them;
``trade`` plays the matching engine's part with the rules themselves (``process_operation``
with its claims) so that the book, trade and account channels have something to carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol.block import Operation, process_block_header, process_operation_with_claims
from protocol.events import Event
from protocol.markets import MarketParams
from protocol.ops.create_order import CreateOrder
from protocol.params import MINIMAL
from protocol.signing import sign_tx
from protocol.state import State, make_genesis
from sequencer.api import ApiServer
from sequencer.api_service import ApiService
from sequencer.builder import SealedBlock, build_block
from sequencer.store import Store
from tests.sequencer.helpers import CHAIN_ID, FAR, USDC, chain_requests, key_of, open_accounts

# every slot heavy: the API tests seal blocks with the rules only (nothing is proven here)
PRESET = MINIMAL.with_overrides(ops_per_block=8, trading_slots=8, market_slots=0)
MARKET = MarketParams(price_band=200_000, impact_notional=1_000_000)
PRICE = 10_000  # the market's index price at genesis
USERS = [3, 4, 5]


@dataclass
class ApiEnv:
    state: State
    store: Store
    service: ApiService
    server: ApiServer
    events: list[Event] = field(default_factory=list)
    sealed: list[SealedBlock] = field(default_factory=list)  # by seal(), in order

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws") + "/v1/ws"

    def seal(self) -> int:
        """Builds the next block from the pending transactions; returns its number."""
        with self.service.lock:
            number = self.state.block_number + 1
            txs = self.store.get_pending_txs()
            sealed = build_block(self.state, number, self.state.timestamp + 1, [], txs)
            self.store.add_block(sealed.record, sealed.dropped, sealed.records)
            self.sealed.append(sealed)
        self.server.publish_block(number, sealed.events)  # as ServedOperator.seal_block
        return number

    def trade(self, *ops: Operation) -> tuple[Event, ...]:
        """A block of orders applied by the rules (with their claims); its events."""
        events: list[Event] = []
        with self.service.lock:
            process_block_header(self.state, self.state.block_number + 1, self.state.timestamp + 1)
            for op in ops:
                for _, ev in process_operation_with_claims(self.state, op):
                    events.extend(ev)
        self.server.publish_block(self.state.block_number, tuple(events))
        return tuple(events)

    def order(self, account: int, is_ask: bool, price: int, size: int, **kw: Any) -> CreateOrder:
        nonce = self.state.accounts[account].nonce
        op = CreateOrder(account, nonce, FAR, 0, is_ask, size, price, **kw)
        return sign_tx(op, key_of(account), CHAIN_ID)

    def stop(self) -> None:
        self.server.stop()
        self.store.close()


def start_api_env(tmp_path: Path, **service: Any) -> ApiEnv:
    state = make_genesis(PRESET, CHAIN_ID, [(MARKET, PRICE)])
    store = Store(tmp_path / "op.sqlite")
    store.add_requests(chain_requests(open_accounts(USERS, 1_000 * USDC)), "cursor", 1)
    sealed = build_block(state, 1, 1_000, store.get_requests(0), [])
    store.add_block(sealed.record, sealed.dropped, sealed.records)
    api = ApiService(state, store.path, **service)
    server = ApiServer(api).start()
    return ApiEnv(state, store, api, server)
