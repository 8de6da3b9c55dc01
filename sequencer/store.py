"""The operator's durable state: one SQLite file in WAL mode (stdlib ``sqlite3``).

Everything the operator has acknowledged or decided is written here before it is acted on:

- ``l2_log``: the write-ahead log of signed L2 transactions, appended (and fsynced:
  ``synchronous=FULL``) before a submission is acknowledged;
- ``priority_requests``: the L1 queue as the watcher took it, by request id, with the
  watcher's cursor (the last L1 block it scanned) in ``meta`` — both in one transaction, so a
  crash never loses a request or takes one twice;
- ``blocks``, ``block_txs``, ``block_prices``, ``dropped``: each sealed block (its time, the
  priority requests it consumed, the L2 transactions it included in order, the oracle's signed
  index prices of its pre-execution operations: price, timestamp, signature) and the
  transactions the rules rejected, with their errors;
- ``proofs``: the proof of each block once made (proving is the expensive step);
- ``block_records``: each sealed block's pubdata records, one per slot (its claims, noops and
  pre-executions too), for the explorer; replaying does not read them.

Replaying ``blocks`` from genesis rebuilds the operator's state; the mempool is what ``l2_log``
holds beyond what the blocks included or dropped. L1 is the truth for what was submitted.

A sealed block that L1 does not hold (never committed, or reverted there) can be taken back
(``discard_blocks_from``): its transactions return to the mempool in log order, its requests to
the queue, and a new block is sealed from them. A drop is final: a transaction once dropped is
never taken again, whatever block it was dropped from.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from protocol.eddsa import Signature
from protocol.pubdata import OP_BYTES
from sequencer.price_feed import SignedPrice

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS l2_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, tx BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS priority_requests (
    id INTEGER PRIMARY KEY, request BLOB NOT NULL, chain_hash BLOB NOT NULL,
    expires_at INTEGER NOT NULL, l1_block INTEGER NOT NULL, tx_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, priority_first INTEGER NOT NULL,
    priority_count INTEGER NOT NULL, state_root TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS block_txs (
    seq INTEGER PRIMARY KEY REFERENCES l2_log(seq), block INTEGER NOT NULL,
    position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dropped (
    seq INTEGER PRIMARY KEY REFERENCES l2_log(seq), block INTEGER NOT NULL, error TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proofs (number INTEGER PRIMARY KEY, proof BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS block_records (block INTEGER PRIMARY KEY, records BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS block_prices (
    block INTEGER NOT NULL, market INTEGER NOT NULL, price INTEGER NOT NULL,
    price_timestamp INTEGER NOT NULL, signature BLOB NOT NULL, PRIMARY KEY (block, market));
"""


class StoreError(RuntimeError):
    """The store refused a write that would break its invariants (a gap in the queue, ...)."""


@dataclass(frozen=True)
class QueuedRequest:
    """One L1 priority request as the watcher took it."""

    id: int
    request: bytes
    chain_hash: bytes
    expires_at: int
    l1_block: int
    tx_hash: str


@dataclass(frozen=True)
class BlockRecord:
    """What replaying a sealed block needs: its time, its requests and its L2 transactions."""

    number: int
    timestamp: int
    priority_first: int
    priority_count: int
    l2_seqs: tuple[int, ...]
    state_root: int
    # the oracle's signed index price per market (none: no pre-execution); the block
    # pre-executes the markets whose turn it is at these (``builder.get_pre_executed_markets``)
    index_prices: tuple[SignedPrice, ...] = ()


class Store:
    """The operator's SQLite file; see the module docstring."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- meta -----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            _put_meta(db, key, value)

    # -- the L2 write-ahead log -----------------------------------------------------------------

    def append_tx(self, tx: bytes) -> int:
        """Appends a transaction and returns its sequence number once it is on disk."""
        return self.append_txs([tx])[0]

    def append_txs(self, txs: Sequence[bytes]) -> list[int]:
        """Appends transactions in order, in one SQLite transaction (one fsync: group commit),
        and returns their sequence numbers once all are on disk; on an error none is logged."""
        seqs = []
        with self.transaction() as db:
            for tx in txs:
                cursor = db.execute("INSERT INTO l2_log (tx) VALUES (?)", (tx,))
                assert cursor.lastrowid is not None
                seqs.append(cursor.lastrowid)
        return seqs

    def get_tx(self, seq: int) -> bytes:
        row = self.db.execute("SELECT tx FROM l2_log WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise StoreError(f"no transaction {seq} in the log")
        return bytes(row[0])

    def get_pending_txs(self, limit: int | None = None) -> list[tuple[int, bytes]]:
        """Logged transactions no block included or dropped, oldest first."""
        rows = self.db.execute(
            "SELECT seq, tx FROM l2_log WHERE seq NOT IN (SELECT seq FROM block_txs)"
            " AND seq NOT IN (SELECT seq FROM dropped) ORDER BY seq LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [(int(seq), bytes(tx)) for seq, tx in rows]

    def get_dropped(self) -> dict[int, str]:
        """Rejected transactions and why: sequence number -> the rules' error."""
        return {int(s): str(e) for s, e in self.db.execute("SELECT seq, error FROM dropped")}

    # -- the priority queue ---------------------------------------------------------------------

    def add_requests(self, requests: Sequence[QueuedRequest], cursor_key: str, cursor: int) -> int:
        """Records requests (each exactly once) and moves the cursor, atomically.

        A request already recorded must be identical (it is skipped); a new one must be the
        next id, with no gap. Returns how many were new."""
        new = 0
        with self.transaction() as db:
            for r in sorted(requests, key=lambda r: r.id):
                known = db.execute(
                    "SELECT request FROM priority_requests WHERE id = ?", (r.id,)
                ).fetchone()
                if known is not None:
                    if bytes(known[0]) != r.request:
                        raise StoreError(f"request {r.id} differs from the one recorded")
                    continue
                expected = _count_requests(db)
                if r.id != expected:
                    raise StoreError(f"request {r.id} arrived, but the next one is {expected}")
                db.execute(
                    "INSERT INTO priority_requests VALUES (?, ?, ?, ?, ?, ?)",
                    (r.id, r.request, r.chain_hash, r.expires_at, r.l1_block, r.tx_hash),
                )
                new += 1
            _put_meta(db, cursor_key, str(cursor))
        return new

    def get_requests(self, first: int, limit: int | None = None) -> list[QueuedRequest]:
        rows = self.db.execute(
            "SELECT * FROM priority_requests WHERE id >= ? ORDER BY id LIMIT ?",
            (first, -1 if limit is None else limit),
        )
        return [QueuedRequest(r[0], bytes(r[1]), bytes(r[2]), r[3], r[4], r[5]) for r in rows]

    def count_requests(self) -> int:
        return _count_requests(self.db)

    # -- sealed blocks and proofs ---------------------------------------------------------------

    def add_block(
        self, record: BlockRecord, dropped: dict[int, str], records: Sequence[bytes] = ()
    ) -> None:
        """Records a sealed block, the transactions it dropped and its pubdata records (what
        the explorer shows of it; not needed to replay it), atomically."""
        with self.transaction() as db:
            if records:
                db.execute(
                    "INSERT INTO block_records VALUES (?, ?)", (record.number, b"".join(records))
                )
            db.execute(
                "INSERT INTO blocks VALUES (?, ?, ?, ?, ?)",
                (
                    record.number,
                    record.timestamp,
                    record.priority_first,
                    record.priority_count,
                    hex(record.state_root),
                ),
            )
            db.executemany(
                "INSERT INTO block_txs VALUES (?, ?, ?)",
                [(seq, record.number, i) for i, seq in enumerate(record.l2_seqs)],
            )
            db.executemany(
                "INSERT INTO dropped VALUES (?, ?, ?)",
                [(seq, record.number, error) for seq, error in sorted(dropped.items())],
            )
            db.executemany(
                "INSERT INTO block_prices VALUES (?, ?, ?, ?, ?)",
                [
                    (record.number, m, price, at, signature.to_bytes())
                    for m, (price, at, signature) in enumerate(record.index_prices)
                ],
            )

    def discard_blocks_from(self, number: int) -> list[BlockRecord]:
        """Takes back the sealed blocks ``number``, ``number + 1``, ... and their proofs,
        atomically; their transactions are pending again (those they dropped stay dropped).
        Returns the blocks taken back."""
        taken = [r for r in self.get_blocks() if r.number >= number]
        with self.transaction() as db:
            db.execute("DELETE FROM proofs WHERE number >= ?", (number,))
            db.execute("DELETE FROM block_txs WHERE block >= ?", (number,))
            db.execute("DELETE FROM block_prices WHERE block >= ?", (number,))
            db.execute("DELETE FROM block_records WHERE block >= ?", (number,))
            db.execute("DELETE FROM blocks WHERE number >= ?", (number,))
        return taken

    def drop_txs(self, seqs: Sequence[int], block: int, error: str) -> None:
        """Marks logged transactions as dropped for good, with ``error`` (none may be in a
        sealed block)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO dropped VALUES (?, ?, ?)", [(seq, block, error) for seq in seqs]
            )

    def get_blocks(self) -> list[BlockRecord]:
        """Every sealed block, in order."""
        txs: dict[int, list[int]] = {}
        for seq, block in self.db.execute("SELECT seq, block FROM block_txs ORDER BY position"):
            txs.setdefault(block, []).append(seq)
        prices: dict[int, list[SignedPrice]] = {}
        query = "SELECT block, price, price_timestamp, signature FROM block_prices"
        for block, price, at, signature in self.db.execute(query + " ORDER BY block, market"):
            signed = SignedPrice(int(price), int(at), Signature.from_bytes(bytes(signature)))
            prices.setdefault(block, []).append(signed)
        return [
            BlockRecord(
                n, t, first, count, tuple(txs.get(n, ())), int(root, 16), tuple(prices.get(n, ()))
            )
            for n, t, first, count, root in self.db.execute("SELECT * FROM blocks ORDER BY number")
        ]

    def get_block_records(self, number: int) -> tuple[bytes, ...]:
        """Block ``number``'s pubdata records, one per slot (none if it was sealed without)."""
        row = self.db.execute(
            "SELECT records FROM block_records WHERE block = ?", (number,)
        ).fetchone()
        data = b"" if row is None else bytes(row[0])
        return tuple(data[i : i + OP_BYTES] for i in range(0, len(data), OP_BYTES))

    def set_proof(self, number: int, proof: bytes) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO proofs VALUES (?, ?)", (number, proof))

    def get_proof(self, number: int) -> bytes | None:
        row = self.db.execute("SELECT proof FROM proofs WHERE number = ?", (number,)).fetchone()
        return None if row is None else bytes(row[0])


def _put_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def _count_requests(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COUNT(*) FROM priority_requests").fetchone()[0])
