"""Every L1 priority request maps to the protocol operation with the same fields."""

from __future__ import annotations

from dataclasses import astuple

import pytest

from protocol import pubdata
from protocol.ops.registry import get_priority_operation

OWNER = bytes(range(20))
REQUESTS: list[pubdata.Operation] = [
    pubdata.Deposit(3, OWNER, 7),
    pubdata.RegisterKey(4, OWNER, bytes(range(32))),
    pubdata.ForcedWithdraw(5, OWNER, 9),
    pubdata.ForcedCancelAll(6, OWNER),
    pubdata.ForcedOrder(7, OWNER, 1, pubdata.ORDER_FLAG_ASK, 100, 3),
    pubdata.ForcedBurn(8, OWNER, 11),
]


@pytest.mark.parametrize("request_record", REQUESTS, ids=lambda r: type(r).__name__)
def test_a_request_becomes_its_operation(request_record: pubdata.Operation) -> None:
    decoded = pubdata.decode_request(pubdata.request_of(pubdata.encode_op(request_record)))
    op = get_priority_operation(decoded)
    assert type(op).__name__ == type(request_record).__name__
    assert pubdata.encode_op(request_record)[0] == op.op_type()
    assert astuple(op) == astuple(request_record)[: len(astuple(op))]


@pytest.mark.parametrize(
    "record", [pubdata.Noop(), pubdata.Transfer(3, 4, 5), pubdata.Withdraw(3, OWNER, 5)]
)
def test_other_records_are_not_requests(record: pubdata.Operation) -> None:
    with pytest.raises(pubdata.PubdataError, match="not a priority request"):
        get_priority_operation(record)
