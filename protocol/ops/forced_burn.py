"""Forced pool-share burn (type 8, L1 priority): the owner redeems pool shares through L1.

Applied (status 1) when ``owner`` owns the account and the burn passes the rules of burn shares
(``protocol.pool``); ``collateral_out`` is what it paid. Otherwise a no-op (status 0, 0 out).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import pubdata
from protocol.errors import InvalidTransaction
from protocol.events import Event, RequestRejected, SharesBurned
from protocol.ops.common import RULE_ONLY_ACCOUNTS
from protocol.pool import burn_shares
from protocol.state import State
from protocol.types import check_unsigned


@dataclass(frozen=True, slots=True)
class ForcedBurn:
    account: int
    owner: bytes
    shares: int

    @classmethod
    def op_type(cls) -> int:
        return pubdata.OpType.FORCED_BURN


def process_forced_burn(state: State, op: ForcedBurn) -> tuple[Event, ...]:
    check_unsigned(op.shares, state.preset.pool_share_bits, "shares")
    account = state.accounts.get(op.account)
    if account is None or account.owner != op.owner or op.account in RULE_ONLY_ACCOUNTS:
        return (RequestRejected(op.op_type(), op.account, "not the owner"),)
    out: list[Event] = []
    try:
        with state.transaction():
            burn_shares(state, account, op.shares, out)
    except InvalidTransaction as error:
        return (RequestRejected(op.op_type(), op.account, type(error).__name__),)
    return tuple(out)


def compute_forced_burn_record(op: ForcedBurn, events: tuple[Event, ...]) -> bytes:
    paid = [e.amount for e in events if isinstance(e, SharesBurned)]
    status = int(bool(paid))
    record = pubdata.ForcedBurn(op.account, op.owner, op.shares, sum(paid), status)
    return pubdata.encode_forced_burn(record)
