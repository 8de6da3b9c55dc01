"""The signed-message hash: every field of every L2-signed operation is covered, and the chain
id and domain separate deployments."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest

from protocol.eddsa import verify
from protocol.ops.burn_shares import BurnShares
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.create_order import CreateOrder
from protocol.ops.mint_shares import MintShares
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.set_leverage import SetLeverage
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.poseidon import sponge
from protocol.signing import DOMAIN_L2_TX, compute_tx_message, sign_tx
from tests.protocol.helpers import CHAIN_ID, key_of

SIGNED: list[Any] = [
    Transfer(3, 1, 99, 4, 250),
    Withdraw(3, 1, 99, 250),
    CreateOrder(3, 1, 99, 0, True, 5, 10_000, 1, 2, True, 9_000, 0),
    CancelOrder(3, 1, 99, 1, 12345, True),
    CancelAll(3, 1, 99),
    ModifyOrder(3, 1, 99, 1, 12345, 10_000, 3),
    SetLeverage(3, 1, 99, 1, 200_000),
    MintShares(3, 1, 99, 1_000),
    BurnShares(3, 1, 99, 1_000),
]


@pytest.mark.parametrize("op", SIGNED, ids=lambda op: type(op).__name__)
def test_every_field_changes_the_message(op: Any) -> None:
    message = compute_tx_message(CHAIN_ID, op)
    for f in fields(op):
        if f.name == "signature":
            continue
        value = getattr(op, f.name)
        changed = replace(op, **{f.name: (not value) if isinstance(value, bool) else value + 1})
        assert compute_tx_message(CHAIN_ID, changed) != message, f.name


def test_message_layout_and_chain_separation() -> None:
    op = Transfer(3, 7, 99, 4, 250)
    expected = sponge([CHAIN_ID, int(Transfer.op_type()), 3, 7, 99, 4, 250], DOMAIN_L2_TX)
    assert compute_tx_message(CHAIN_ID, op) == expected
    assert compute_tx_message(CHAIN_ID + 1, op) != expected
    # the same fields under another operation type are another message
    assert compute_tx_message(CHAIN_ID, Withdraw(3, 7, 99, 4)) != compute_tx_message(
        CHAIN_ID, BurnShares(3, 7, 99, 4)
    )


def test_sign_tx_produces_a_verifying_signature() -> None:
    op = sign_tx(Withdraw(3, 0, 99, 5), key_of(3), CHAIN_ID)
    assert op.signature is not None
    assert verify(key_of(3).public_key, compute_tx_message(CHAIN_ID, op), op.signature)
    assert not verify(key_of(3).public_key, compute_tx_message(CHAIN_ID + 1, op), op.signature)
