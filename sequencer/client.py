"""A user's side of L2 inside the operator's process (tests; a user's program goes through the
API, ``sequencer.sdk``): sign a transaction with the account's L2 key and hand it to the
operator's mempool, which acknowledges it once logged.

``Client`` works against an operator in the same process; ``submit_to_file`` hands a signed
transaction to an operator running elsewhere on the same machine through its SQLite file (the
write-ahead log; SQLite serialises concurrent writers), as ``zkperp operator run`` keeps it.

The nonce a new transaction needs is the account's nonce in the operator's live state plus the
account's transactions still pending in the mempool (a pending one that the rules later reject
leaves a gap: its successors are rejected too, and the wallet signs them again).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protocol.eddsa import SecretKey
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.signing import sign_tx
from sequencer.codec import L2Transaction
from sequencer.mempool import Mempool
from sequencer.operator import Operator
from sequencer.store import Store

NEVER = (1 << 40) - 1  # an expiry beyond any timestamp of timestamp_bits = 40


def submit_to_file(db: Path, tx: L2Transaction) -> int:
    """Logs ``tx`` in the operator's SQLite file; returns its acknowledgement."""
    store = Store(db)
    try:
        return Mempool(store).submit(tx)
    finally:
        store.close()


@dataclass(frozen=True)
class Client:
    """One account's wallet against an operator."""

    operator: Operator
    account: int
    key: SecretKey

    def get_next_nonce(self) -> int:
        found = self.operator.state.accounts.get(self.account)
        pending = self.operator.mempool.get_pending_transactions()
        return (0 if found is None else found.nonce) + sum(
            1 for tx in pending if tx.account == self.account
        )

    def transfer(self, to: int, amount: int, expiry: int = NEVER) -> int:
        """Signs and submits a transfer; returns its acknowledgement (log sequence number)."""
        return self._submit(Transfer(self.account, self.get_next_nonce(), expiry, to, amount))

    def withdraw(self, amount: int, expiry: int = NEVER) -> int:
        """Signs and submits a withdrawal to the account's L1 owner; returns its acknowledgement."""
        return self._submit(Withdraw(self.account, self.get_next_nonce(), expiry, amount))

    def _submit(self, tx: L2Transaction) -> int:
        return self.operator.mempool.submit(sign_tx(tx, self.key, self.operator.config.chain_id))
