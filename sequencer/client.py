"""A user's side of L2 for now (an HTTP API can come later): sign a transaction with the
account's L2 key and hand it to the operator's mempool, which acknowledges it once logged.

The nonce a new transaction needs is the account's nonce in the operator's live state plus the
account's transactions still pending in the mempool (a pending one that the rules later reject
leaves a gap: its successors are rejected too, and the wallet signs them again).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import SecretKey
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.signing import sign_tx
from sequencer.operator import Operator

NEVER = (1 << 40) - 1  # an expiry beyond any timestamp of timestamp_bits = 40


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
        tx = Transfer(self.account, self.get_next_nonce(), expiry, to, amount)
        return self.operator.mempool.submit(sign_tx(tx, self.key, self.operator.config.chain_id))

    def withdraw(self, amount: int, expiry: int = NEVER) -> int:
        """Signs and submits a withdrawal to the account's L1 owner; returns its acknowledgement."""
        tx = Withdraw(self.account, self.get_next_nonce(), expiry, amount)
        return self.operator.mempool.submit(sign_tx(tx, self.key, self.operator.config.chain_id))
