"""Deposit (type 1, L1): the twin of ``protocol/ops/deposit.py``.

Record: account (1..6), owner (7..26), amount (27..34). ``0 < amount < 2^64`` (the record's
width); A's collateral grows by ``amount`` (the slot checks it stays below ``2^64``). When A's
leaf is empty the deposit creates the account: its fields must be the blank ones (zero, no
positions) and the owner becomes the record's. A deposit into an existing account credits it
whoever sent it.
"""

from __future__ import annotations

from circuits.ops.common import (
    OWNER,
    Effect,
    OpCircuit,
    SlotVars,
    assert_nonzero_if,
    empty_positions_root,
)
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.ops import deposit

AMOUNT = deposit.RECORD.offset("amount")


def define_deposit(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    a = slot.a
    amount = slot.record.field(*AMOUNT)
    assert_nonzero_if(cs, on, amount, "amount_positive")
    created = cs.mul(on, 1 - a.exists, "creates_account")
    blank = {
        "owner": a.owner,
        "pubkey_x": a.pubkey.x,
        "pubkey_y": a.pubkey.y,
        "nonce": a.nonce,
        "collateral": a.collateral,
        "positions": a.positions_root - empty_positions_root(slot.preset),
        "open_orders": a.open_orders,
        "pool_shares": a.pool_shares,
        "cancel_epoch": a.cancel_epoch,
    }
    for name, value in blank.items():
        cs.assert_mul(created, value, ZERO, f"new_account_{name}")
    return Effect(
        a_collateral=cs.mul(on, amount, "credit"),
        a_owner=cs.mul(created, slot.record.field(*OWNER), "new_owner"),
        a_exists=created,
    )


CIRCUIT = OpCircuit(deposit.DESCRIPTOR, define_deposit)
