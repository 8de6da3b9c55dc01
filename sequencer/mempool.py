"""The mempool: signed L2 transactions, acknowledged only once they are in the write-ahead log.

``submit`` encodes the transaction (``sequencer.codec``: only the operations the operator can
prove, every field of its type and width), checks that it reads back as the same transaction,
and appends it to the log (``Store.append_tx``, an fsynced SQLite transaction); the sequence number
it returns is the acknowledgement. Nothing is checked against the state here: the block builder
runs the rules and drops what they reject, with the error. A transaction ``submit`` refuses
raises CodecError and is not logged. The pending transactions are those
of the log no sealed block included or dropped, so a restarted operator finds exactly the
acknowledged transactions it had not dealt with.
"""

from __future__ import annotations

from sequencer.codec import CodecError, L2Transaction, decode_tx, encode_tx
from sequencer.store import Store


class Mempool:
    """The write-ahead log's view of pending transactions; see the module docstring."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def submit(self, tx: L2Transaction) -> int:
        """Logs ``tx`` durably and returns its sequence number (the acknowledgement); raises
        CodecError, logging nothing, for a transaction the codec refuses."""
        data = encode_tx(tx)
        if decode_tx(data) != tx:
            raise CodecError("the transaction does not survive its encoding")
        return self.store.append_tx(data)

    def get_pending(self, limit: int | None = None) -> list[tuple[int, bytes]]:
        """Pending transactions, ``(sequence number, encoded transaction)``, oldest first."""
        return self.store.get_pending_txs(limit)

    def get_pending_transactions(self) -> list[L2Transaction]:
        return [decode_tx(data) for _, data in self.get_pending()]

    def __len__(self) -> int:
        return len(self.get_pending())
