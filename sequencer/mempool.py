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

from collections.abc import Sequence

from sequencer.codec import CodecError, L2Transaction, decode_tx, encode_tx
from sequencer.store import Store


def encode_checked(tx: L2Transaction) -> bytes:
    """The log's encoding of ``tx``; CodecError when the codec refuses it or it does not read
    back as the same transaction."""
    data = encode_tx(tx)
    if decode_tx(data, known=tx.signature) != tx:
        raise CodecError("the transaction does not survive its encoding")
    return data


class Mempool:
    """The write-ahead log's view of pending transactions; see the module docstring."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def submit(self, tx: L2Transaction) -> int:
        """Logs ``tx`` durably and returns its sequence number (the acknowledgement); raises
        CodecError, logging nothing, for a transaction the codec refuses."""
        return self.store.append_tx(encode_checked(tx))

    def submit_encoded(self, data: Sequence[bytes]) -> list[int]:
        """Logs transactions ``encode_checked`` gave, durably and in order, in one SQLite
        transaction (group commit); their sequence numbers, or an error and none logged."""
        return self.store.append_txs(data)

    def get_pending(self, limit: int | None = None) -> list[tuple[int, bytes]]:
        """Pending transactions, ``(sequence number, encoded transaction)``, oldest first."""
        return self.store.get_pending_txs(limit)

    def get_pending_transactions(self) -> list[L2Transaction]:
        return [decode_tx(data) for _, data in self.get_pending()]

    def __len__(self) -> int:
        return len(self.get_pending())
