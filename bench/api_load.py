"""A bounded load test of the operator's API on loopback: N WebSocket clients, each with its own
account, submit pre-signed transactions one message after another (the next when the previous is
answered), one transaction per message or ``--batch K`` per message (``{"op": "submit", "txs":
[...]}``, all acknowledged or none); reported: transactions acknowledged per second and the
p50 / p99 latency from sending a message to its acknowledgement (every transaction of a batch
counts with its message's latency).

The server (uvicorn, one event loop) runs in this process, the clients in a child process, so
the two share the machine's cores as a real client and operator would; signing happens there
before the clock starts. What an acknowledgement is today (``sequencer.api_service``): for a
**transfer**, the full admission (wire model, account, nonce, expiry, EdDSA signature, the
state checks under the state's lock, the signature outside it) and the fsynced append to the
write-ahead log (group commit); for an **order**, the refusal that the block circuit cannot
prove trading yet (checks of the shape, the account and the market, no signature check,
nothing logged).

    .venv/bin/python bench/api_load.py [--clients 8] [--per-client 40] [--batch 1] [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websockets

from protocol import native, pubdata
from protocol.eddsa import SecretKey
from protocol.jubjub import compress
from protocol.markets import MarketParams
from protocol.ops import deposit, register_key
from protocol.ops.create_order import CreateOrder
from protocol.ops.registry import request_of
from protocol.ops.transfer import Transfer
from protocol.params import MINIMAL
from protocol.signing import sign_tx
from protocol.state import make_genesis
from sequencer.api import ApiServer
from sequencer.api_models import to_wire
from sequencer.api_service import ApiService
from sequencer.builder import build_block
from sequencer.store import QueuedRequest, Store

CHAIN_ID = 31337
FAR = (1 << 40) - 1
PRESET = MINIMAL.with_overrides(account_tree_depth=8, ops_per_block=256)
FIRST = 3


def key_of(account: int) -> SecretKey:
    return SecretKey.from_seed(account.to_bytes(32, "big"))


def owner_of(account: int) -> bytes:
    return (0xA0 + account).to_bytes(20, "big")


def open_requests(accounts: range) -> list[QueuedRequest]:
    """A deposit and a key registration per account, chained as the contract chains them."""
    requests = []
    for a in accounts:
        requests.append(deposit.RECORD.encode((a, owner_of(a), 10**12)))
        pubkey = compress(key_of(a).public_key)
        requests.append(register_key.RECORD.encode((a, owner_of(a), pubkey, 0)))
    out, prev = [], pubdata.ZERO_HASH
    for i, record in enumerate(requests):
        request = request_of(record)
        prev = pubdata.compute_priority_hash(prev, request)
        out.append(QueuedRequest(i, request, prev, FAR, 1, "0x" + "00" * 32))
    return out


def start_server(folder: Path, clients: int) -> ApiServer:
    """A live state with ``clients`` funded accounts with keys, one market, and its API."""
    state = make_genesis(PRESET, CHAIN_ID, [(MarketParams(), 10_000)])
    store = Store(folder / "op.sqlite")
    requests = open_requests(range(FIRST, FIRST + clients))
    store.add_requests(requests, "cursor", 1)
    sealed = build_block(state, 1, 1_000, requests, [])
    store.add_block(sealed.record, sealed.dropped)
    store.close()
    return ApiServer(ApiService(state, folder / "op.sqlite")).start()


def sign_workload(
    kind: str, clients: int, per_client: int, first_nonce: int = 0
) -> list[list[dict[str, Any]]]:
    work = []
    for c in range(clients):
        a = FIRST + c
        nonces = range(first_nonce, first_nonce + per_client)
        if kind == "transfer":
            ops: list[Any] = [Transfer(a, n, FAR, FIRST + (c + 1) % clients, 1) for n in nonces]
        else:
            # asks above and bids below the mark: orders that rest, none crossing another
            ops = [
                CreateOrder(a, n, FAR, 0, n % 2 == 0, 1, 10_010 if n % 2 == 0 else 9_990)
                for n in nonces
            ]
        work.append([to_wire(sign_tx(op, key_of(a), CHAIN_ID)) for op in ops])
    return work


@dataclass(frozen=True)
class LoadResult:
    acks: int
    refusals: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return (self.acks + self.refusals) / self.seconds

    def percentile(self, p: float) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1]


async def _client(
    url: str, txs: list[dict[str, Any]], batch: int, out: list[tuple[float, dict[str, Any]]]
) -> None:
    async with websockets.connect(url) as ws:
        for i in range(0, len(txs), batch):
            group = txs[i : i + batch]
            message = (
                {"op": "submit", "id": i, "tx": group[0]}
                if batch == 1
                else {"op": "submit", "id": i, "txs": group}
            )
            start = time.perf_counter()
            await ws.send(json.dumps(message))
            reply = json.loads(await ws.recv())
            latency = time.perf_counter() - start
            out.extend((latency, reply) for _ in group)


def run_load(
    url: str, work: list[list[dict[str, Any]]], batch: int = 1
) -> tuple[LoadResult, list[dict[str, Any]]]:
    """Runs the clients against ``url`` (``ws://.../v1/ws``); the figures and every reply (one
    per transaction: a batch's reply is repeated for each of its transactions)."""
    replies: list[dict[str, Any]] = []

    async def main() -> LoadResult:
        out: list[tuple[float, dict[str, Any]]] = []
        start = time.perf_counter()
        await asyncio.gather(*(_client(url, txs, batch, out) for txs in work))
        replies.extend(r for _, r in out)
        acks = sum(1 for _, r in out if r["type"] == "ack")
        return LoadResult(acks, len(out) - acks, time.perf_counter() - start, [t for t, _ in out])

    return asyncio.run(main()), replies


def sign_and_run(
    url: str, kind: str, clients: int, per_client: int, batch: int
) -> tuple[LoadResult, list[dict[str, Any]]]:
    """What the client process does: sign the workload, then run it against ``url``."""
    return run_load(url, sign_workload(kind, clients, per_client), batch)


def report(label: str, result: LoadResult, server_cpu: float) -> None:
    """One line: answered, rate, latency percentiles, and the server's CPU per answer."""
    answered = result.acks + result.refusals
    print(
        f"{label:<30} {result.acks:>5} acks {result.refusals:>4} refused in {result.seconds:6.2f} s"
        f"  {result.per_second:8.1f} /s  p50 {result.percentile(50) * 1e3:7.1f} ms"
        f"  p99 {result.percentile(99) * 1e3:7.1f} ms"
        f"  server CPU {server_cpu / answered * 1e3:5.2f} ms each",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--batch", type=int, default=1, help="transactions per message")
    parser.add_argument("--repeat", type=int, default=1, help="runs, each on a fresh server")
    parser.add_argument("--kinds", default="transfer,order")
    parser.add_argument("--quick", action="store_true", help="2 clients x 5 (what the tests run)")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.per_client = 2, 5
    print(f"native core: {'yes' if native.NATIVE is not None else 'no'}", flush=True)
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder, ProcessPoolExecutor(1, context) as client:
        for kind in args.kinds.split(","):
            for run in range(args.repeat):
                server = start_server(Path(folder) / f"{kind}{run}", args.clients)
                try:
                    url = server.url.replace("http", "ws") + "/v1/ws"
                    job = (url, kind, args.clients, args.per_client, args.batch)
                    future = client.submit(sign_and_run, *job)
                    # the server's CPU while the clients run (their signing first is idle time)
                    cpu = time.process_time()
                    result, _ = future.result()
                    cpu = time.process_time() - cpu
                    label = f"{kind}s, {args.clients} clients x {args.per_client}"
                    batches = f", batches of {args.batch}" if args.batch > 1 else ""
                    report(label + batches, result, cpu)
                finally:
                    server.stop()


if __name__ == "__main__":
    main()
