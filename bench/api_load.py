"""A bounded load test of the operator's API on loopback: N WebSocket clients, each with its own
account, submit pre-signed transactions one message after another (the next when the previous is
answered), one transaction per message or ``--batch K`` per message (``{"op": "submit", "txs":
[...]}``, all acknowledged or none); reported: transactions acknowledged per second and the
p50 / p99 latency from sending a message to its acknowledgement (every transaction of a batch
counts with its message's latency).

The server (uvicorn, one event loop) runs in this process, the clients in a child process, so
the two share the machine's cores as a real client and operator would; signing happens there
before the clock starts. What an acknowledgement is (``sequencer.api_service``), for a
transfer and an order alike: the full admission (wire model, account, nonce, expiry, the state
checks under the state's lock, the EdDSA signature outside it) and the fsynced append to the
write-ahead log (group commit). The orders rest (asks above, bids below the mark): an order
that would fill is refused at submission (422 ``unprovable_operation``), as the block circuit
does not prove fills yet.

    .venv/bin/python bench/api_load.py [--clients 8] [--per-client 40] [--batch 1] [--repeat 1]

``--stages`` times one order's admission stage by stage instead, in this process (medians), with
the native core and, in a child process, on the Python reference (``ZKPERP_NATIVE=pure``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websockets

from bench.common import median_seconds, print_row
from protocol import eddsa, native, pubdata
from protocol.eddsa import SecretKey
from protocol.jubjub import compress
from protocol.markets import MarketParams
from protocol.ops import deposit, register_key
from protocol.ops.create_order import CreateOrder
from protocol.ops.registry import request_of
from protocol.ops.transfer import Transfer
from protocol.params import MINIMAL
from protocol.signing import compute_tx_message, sign_tx
from protocol.state import make_genesis
from sequencer.api import ApiServer, parse_txs
from sequencer.api_models import make_tx_adapter, to_operation, to_wire
from sequencer.api_service import ApiService
from sequencer.builder import build_block
from sequencer.mempool import encode_checked
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


def open_service(folder: Path, clients: int) -> ApiService:
    """A live state with ``clients`` funded accounts with keys and one market, and its service."""
    folder.mkdir(parents=True, exist_ok=True)
    state = make_genesis(PRESET, CHAIN_ID, [(MarketParams(), 10_000)])
    store = Store(folder / "op.sqlite")
    requests = open_requests(range(FIRST, FIRST + clients))
    store.add_requests(requests, "cursor", 1)
    sealed = build_block(state, 1, 1_000, requests, [])
    store.add_block(sealed.record, sealed.dropped)
    store.close()
    return ApiService(state, folder / "op.sqlite")


def start_server(folder: Path, clients: int) -> ApiServer:
    """``open_service``'s service behind its API, listening."""
    return ApiServer(open_service(folder, clients)).start()


def time_stages(repeat: int, group: int = 16) -> dict[str, float]:
    """Seconds per stage of one resting order's admission (``ApiService.submit``'s steps, one
    thread, no contention), medians of ``repeat``; the log append per order in a group commit
    of ``group`` orders."""
    with tempfile.TemporaryDirectory() as folder:
        service = open_service(Path(folder), group)
        message = json.dumps({"op": "submit", "id": 0, "tx": sign_workload("order", 1, 1)[0][0]})
        adapter = make_tx_adapter(PRESET)
        (model,) = parse_txs(adapter, json.loads(message)["tx"], many=False)
        op = to_operation(model)
        (key,) = service._check([op])
        digest = compute_tx_message(CHAIN_ID, op)
        data = encode_checked(op)
        store = service.store

        def check_twice() -> None:
            service._check([op])  # at admission
            service._check([op])  # again in the group commit, under the lock

        def append_group() -> None:
            store.append_txs([data] * group)

        stages = {
            "message: JSON and wire model": lambda: parse_txs(
                adapter, json.loads(message)["tx"], False
            ),
            "operation (signature's R decompressed)": lambda: to_operation(model),
            "state checks (x2: admission, group)": check_twice,
            "signed message (sponge, 14 elements)": lambda: compute_tx_message(CHAIN_ID, op),
            "signature (challenge sponge, curve)": lambda: eddsa.verify(key, digest, op.signature),
            "log encoding (and read-back)": lambda: encode_checked(op),
        }
        out = {name: median_seconds(fn, repeat, warmup=2) for name, fn in stages.items()}
        out[f"log append (1 of a group of {group}; fsync, wall)"] = (
            median_seconds(append_group, 5) / group
        )
        return out


def report_stages(repeat: int) -> None:
    """The stages with the native core here, and on the Python reference in a child."""
    env = {**os.environ, "ZKPERP_NATIVE": "pure"}
    code = f"import json, bench.api_load as b; print(json.dumps(b.time_stages({repeat})))"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    reference = json.loads(done.stdout.strip().splitlines()[-1])
    ours = time_stages(repeat)
    print(f"one order's admission, stage by stage (medians of {repeat}, one thread)", flush=True)
    for name, seconds in ours.items():
        print_row(name, seconds * 1e6, "us", reference[name] * 1e6)
    total, total_ref = sum(ours.values()), sum(reference.values())
    print_row("total", total * 1e6, "us", total_ref * 1e6)


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
) -> tuple[LoadResult, float]:
    """What the client process does: sign the workload, then run it against ``url``; the
    figures and the clients' CPU seconds while they ran."""
    work = sign_workload(kind, clients, per_client)
    cpu = time.process_time()
    result, _ = run_load(url, work, batch)
    return result, time.process_time() - cpu


def get_thread_cpu(native_id: int | None) -> float:
    """CPU seconds of one thread of this process (Linux's /proc; 0 where it cannot be read)."""
    try:
        stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    except (OSError, TypeError):
        return 0.0
    user, system = stat.rsplit(")", 1)[1].split()[11:13]  # utime, stime: fields 14, 15
    return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")


def report(
    label: str, result: LoadResult, server_cpu: float, client_cpu: float, loop_cpu: float
) -> None:
    """One line: answered, rate, latency percentiles, and the server's CPU per answer (of it,
    the event loop's thread) and the clients'."""
    answered = result.acks + result.refusals
    print(
        f"{label:<30} {result.acks:>5} acks {result.refusals:>4} refused in {result.seconds:6.2f} s"
        f"  {result.per_second:8.1f} /s  p50 {result.percentile(50) * 1e3:7.1f} ms"
        f"  p99 {result.percentile(99) * 1e3:7.1f} ms"
        f"  server CPU {server_cpu / answered * 1e3:5.2f} ms each"
        f" (loop {loop_cpu / answered * 1e3:4.2f}; clients {client_cpu / answered * 1e3:4.2f})",
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
    parser.add_argument("--stages", action="store_true", help="one order's admission, by stage")
    args = parser.parse_args()
    print(f"native core: {'yes' if native.NATIVE is not None else 'no'}", flush=True)
    if args.stages:
        report_stages(3 if args.quick else 200)
        return
    if args.quick:
        args.clients, args.per_client = 2, 5
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
                    cpu, loop = time.process_time(), get_thread_cpu(server.thread.native_id)
                    result, client_cpu = future.result()
                    cpu = time.process_time() - cpu
                    loop = get_thread_cpu(server.thread.native_id) - loop
                    label = f"{kind}s, {args.clients} clients x {args.per_client}"
                    batches = f", batches of {args.batch}" if args.batch > 1 else ""
                    report(label + batches, result, cpu, client_cpu, loop)
                finally:
                    server.stop()


if __name__ == "__main__":
    main()
