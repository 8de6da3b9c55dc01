"""What the sequencer's tests share: users with L1 addresses and L2 keys, their priority
requests chained as the contract chains them, and signed transactions."""

from __future__ import annotations

import hashlib

from protocol import pubdata
from protocol.eddsa import SecretKey
from protocol.jubjub import compress
from protocol.ops import deposit, forced_withdraw, register_key
from protocol.ops.registry import request_of
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.params import MINIMAL
from protocol.signing import sign_tx
from protocol.snapshot import encode_state
from protocol.state import State
from sequencer.genesis import RollupConfig
from sequencer.store import QueuedRequest

CHAIN_ID = 31337
CONFIG = RollupConfig(MINIMAL, CHAIN_ID)
FAR = (1 << 40) - 1  # an expiry that never passes
USDC = 1_000_000


def owner_of(account: int) -> bytes:
    return (0xA0 + account).to_bytes(20, "big")


def key_of(account: int) -> SecretKey:
    return SecretKey.from_seed(account.to_bytes(32, "big"))


def deposit_request(account: int, amount: int) -> bytes:
    record = deposit.RECORD.make(account=account, owner=owner_of(account), amount=amount)
    return request_of(record.encode())


def register_request(account: int) -> bytes:
    pubkey = compress(key_of(account).public_key)
    record = register_key.RECORD.make(account=account, owner=owner_of(account), pubkey=pubkey)
    return request_of(record.encode())


def forced_withdraw_request(account: int, amount: int) -> bytes:
    op = forced_withdraw.RECORD.make(account=account, owner=owner_of(account), requested=amount)
    return request_of(op.encode())


def chain_requests(
    requests: list[bytes], first: int = 0, prev: bytes = pubdata.ZERO_HASH
) -> list[QueuedRequest]:
    """The requests as the watcher would take them: ids from ``first``, the keccak chain."""
    out = []
    for i, request in enumerate(requests):
        prev = pubdata.compute_priority_hash(prev, request)
        out.append(QueuedRequest(first + i, request, prev, FAR, 1, "0x" + "00" * 32))
    return out


def open_accounts(accounts: list[int], amount: int) -> list[bytes]:
    """A deposit and a key registration per account."""
    out = []
    for account in accounts:
        out += [deposit_request(account, amount), register_request(account)]
    return out


def transfer(account: int, nonce: int, to: int, amount: int) -> Transfer:
    return sign_tx(Transfer(account, nonce, FAR, to, amount), key_of(account), CHAIN_ID)


def withdraw(account: int, nonce: int, amount: int) -> Withdraw:
    return sign_tx(Withdraw(account, nonce, FAR, amount), key_of(account), CHAIN_ID)


def state_digest(state: State) -> str:
    return hashlib.sha256(encode_state(state)).hexdigest()
