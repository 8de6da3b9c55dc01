"""Every L1 priority request maps to the protocol operation with the same fields."""

from __future__ import annotations

from dataclasses import astuple

import pytest

from protocol import pubdata
from protocol.ops import (
    deposit,
    forced_burn,
    forced_cancel_all,
    forced_order,
    forced_withdraw,
    noop,
    register_key,
    transfer,
    withdraw,
)
from protocol.ops.registry import decode_request, get_priority_operation, request_of

OWNER = bytes(range(20))
REQUESTS: list[pubdata.Record] = [
    deposit.RECORD.make(account=3, owner=OWNER, amount=7),
    register_key.RECORD.make(account=4, owner=OWNER, pubkey=bytes(range(32))),
    forced_withdraw.RECORD.make(account=5, owner=OWNER, requested=9),
    forced_cancel_all.RECORD.make(account=6, owner=OWNER),
    forced_order.RECORD.make(
        account=7, owner=OWNER, market=1, flags=pubdata.ORDER_FLAG_ASK, price=100, size=3
    ),
    forced_burn.RECORD.make(account=8, owner=OWNER, shares=11),
]


@pytest.mark.parametrize("request_record", REQUESTS, ids=lambda r: str(r.op_type))
def test_a_request_becomes_its_operation(request_record: pubdata.Record) -> None:
    decoded = decode_request(request_of(request_record.encode()))
    op = get_priority_operation(decoded)
    assert request_record.op_type == op.op_type()
    assert astuple(op) == request_record.values[: len(astuple(op))]


@pytest.mark.parametrize(
    "record",
    [
        noop.RECORD.make(),
        transfer.RECORD.make(account=3, to=4, amount=5),
        withdraw.RECORD.make(account=3, owner=OWNER, amount=5),
    ],
)
def test_other_records_are_not_requests(record: pubdata.Record) -> None:
    with pytest.raises(pubdata.PubdataError, match="not a priority request"):
        get_priority_operation(record)
