"""Withdraw (type 4, L2 signed): the twin of ``protocol/ops/withdraw.py``.

Record: account (1..6), owner (7..26, A's owner: the L1 receiver), amount (27..34). Signed by A
over ``[chain_id, 4, account, nonce, expiry, amount]``; A exists, is not the insurance fund or
the funding pool, and passes the valid-risk-change rule (the slot's risk unit, over its positions
at the block's marks); ``0 < amount < 2^64``. A's collateral falls by ``amount`` and its nonce
grows by one.
"""

from __future__ import annotations

from circuits.ops.common import (
    Effect,
    OpCircuit,
    SignedPayload,
    SlotVars,
    assert_nonzero_if,
    define_signer_checks,
)
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.ops import withdraw

AMOUNT = withdraw.RECORD.offset("amount")


def define_withdraw(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    amount = slot.record.field(*AMOUNT)
    define_signer_checks(cs, slot, on)
    assert_nonzero_if(cs, on, amount, "amount_positive")
    cs.assert_mul(on, 1 - slot.owner_matches, ZERO, "receiver_is_owner")
    moved = cs.mul(on, amount, "moved")
    return Effect(
        a_collateral=-moved, a_nonce=on, a_risk_checked=on, signed=SignedPayload(on, (moved,))
    )


CIRCUIT = OpCircuit(withdraw.DESCRIPTOR, define_withdraw)
