"""A writer for the crash test (tests/sequencer/test_wal.py), run as its own process:
``python -m tests.sequencer.wal_child DB``. It opens accounts 3 and 4 in block 1, then submits
transfers forever, printing ``ack SEQ`` once each is acknowledged and ``sealed N DIGEST`` once
each block (every third transfer) is recorded; the test kills it with SIGKILL mid-stream."""

from __future__ import annotations

import sys

from sequencer.builder import build_block
from sequencer.mempool import Mempool
from sequencer.store import Store
from tests.sequencer.helpers import (
    CONFIG,
    USDC,
    chain_requests,
    open_accounts,
    state_digest,
    transfer,
)

CURSOR = "test.cursor"


def main(path: str) -> None:
    store = Store(path)
    mempool = Mempool(store)
    state = CONFIG.make_genesis()
    store.add_requests(chain_requests(open_accounts([3, 4], 1_000 * USDC)), CURSOR, 1)
    nonce = 0
    while True:
        if state.block_number == 0 or nonce % 3 == 0:
            number = state.block_number + 1
            requests = store.get_requests(0) if number == 1 else []
            sealed = build_block(state, number, 1_000 + number, requests, mempool.get_pending())
            store.add_block(sealed.record, sealed.dropped)
            print(f"sealed {number} {state_digest(state)}", flush=True)
        seq = mempool.submit(transfer(3, nonce, 4, 1 + nonce % 5))
        print(f"ack {seq}", flush=True)
        nonce += 1


if __name__ == "__main__":
    main(sys.argv[1])
