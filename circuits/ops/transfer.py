"""Transfer (type 3, L2 signed): the twin of ``protocol/ops/transfer.py``.

Record: from (1..6, account A), to (7..12, account B), amount (13..20). Signed by A (the slot's
signature unit checks it over ``[chain_id, 3, from, nonce, expiry, to, amount]``); A exists, is
not the insurance fund or the funding pool and passes the valid-risk-change rule (the slot's
risk unit, over its positions at the block's marks); B exists and is neither A nor the funding
pool;
``0 < amount < 2^64``. A pays ``amount`` to B and A's nonce grows by one.
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
from protocol.accounts import FUNDING_POOL
from protocol.ops import transfer

TO = transfer.RECORD.offset("to")
AMOUNT = transfer.RECORD.offset("amount")


def define_transfer(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    to, amount = slot.record.field(*TO), slot.record.field(*AMOUNT)
    define_signer_checks(cs, slot, on)
    assert_nonzero_if(cs, on, amount, "amount_positive")
    cs.assert_mul(on, to - slot.b.index, ZERO, "receiver_is_b")
    cs.assert_mul(on, 1 - slot.b.exists, ZERO, "receiver_exists")
    refused = cs.mul(to - slot.a.index, to - FUNDING_POOL, "receiver_self_or_pool")
    assert_nonzero_if(cs, on, refused, "receiver_allowed")
    moved = cs.mul(on, amount, "moved")
    return Effect(
        a_collateral=-moved,
        b_collateral=moved,
        a_nonce=on,
        a_risk_checked=on,
        signed=SignedPayload(on, (cs.mul(on, to, "signed_to"), moved)),
    )


CIRCUIT = OpCircuit(transfer.DESCRIPTOR, define_transfer)
