"""The bounded load test (bench/api_load.py) as a test: concurrent WebSocket clients submitting
signed transfers are all acknowledged, each once, in a gap-free log with every account's nonces
in order, and so are resting orders after them; the bench's stage timing of one order's
admission times every stage."""

from __future__ import annotations

from pathlib import Path

from bench.api_load import FIRST, run_load, sign_workload, start_server, time_stages
from sequencer.codec import decode_tx
from sequencer.store import Store

CLIENTS, PER_CLIENT = 6, 8


def test_concurrent_clients_are_each_acknowledged_once_in_order(tmp_path: Path) -> None:
    server = start_server(tmp_path, CLIENTS)
    try:
        url = server.url.replace("http", "ws") + "/v1/ws"
        result, replies = run_load(url, sign_workload("transfer", CLIENTS, PER_CLIENT))
        assert (result.acks, result.refusals) == (CLIENTS * PER_CLIENT, 0), replies[:3]
        seqs = sorted(r["acks"][0]["seq"] for r in replies)
        assert seqs == list(range(1, CLIENTS * PER_CLIENT + 1))
        orders, replies = run_load(url, sign_workload("order", CLIENTS, 2, PER_CLIENT))
        assert (orders.acks, orders.refusals) == (CLIENTS * 2, 0), replies[:3]
    finally:
        server.stop()
    store = Store(tmp_path / "op.sqlite")
    logged = [decode_tx(tx) for _, tx in store.get_pending_txs()]
    store.close()
    assert len(logged) == CLIENTS * (PER_CLIENT + 2)
    for account in range(FIRST, FIRST + CLIENTS):
        assert [tx.nonce for tx in logged if tx.account == account] == list(range(PER_CLIENT + 2))


def test_every_stage_of_an_orders_admission_is_timed() -> None:
    stages = time_stages(repeat=2)
    names = ["wire model", "decompressed", "state checks", "signed message", "signature", "log"]
    for name in names:
        assert any(name in stage for stage in stages), name
    assert all(seconds > 0 for seconds in stages.values())
