"""Every operation, from its descriptor (``protocol/ops/<op>.py``): the one table the other
layers derive theirs from.

``DESCRIPTORS`` holds one descriptor per ``pubdata.OpType`` member, in type order; a test
(tests/protocol/test_operation_layers.py) checks that every layer covers every one. The
record codec of any type (``decode_op``), the priority requests (``request_of``,
``decode_request``) and the operation an L1 request asks for (``get_priority_operation``) are
read from them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocol.events import Event
from protocol.ops import (
    burn_shares,
    cancel_all,
    cancel_order,
    claim,
    create_order,
    deleverage,
    deleverage_end,
    deleverage_step,
    deposit,
    forced_burn,
    forced_cancel_all,
    forced_order,
    forced_withdraw,
    liquidate,
    mint_shares,
    modify_order,
    noop,
    pre_execution,
    register_key,
    set_leverage,
    takeover,
    transfer,
    trigger_order,
    withdraw,
)
from protocol.ops.burn_shares import BurnShares
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder
from protocol.ops.deleverage import Deleverage
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.ops.deleverage_step import DeleverageStep
from protocol.ops.deposit import Deposit
from protocol.ops.descriptor import Descriptor
from protocol.ops.forced_burn import ForcedBurn
from protocol.ops.forced_cancel_all import ForcedCancelAll
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.forced_withdraw import ForcedWithdraw
from protocol.ops.liquidate import Liquidate
from protocol.ops.mint_shares import MintShares
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.noop import Noop
from protocol.ops.pre_execution import PreExecution
from protocol.ops.register_key import RegisterKey
from protocol.ops.set_leverage import SetLeverage
from protocol.ops.takeover import Takeover
from protocol.ops.transfer import Transfer
from protocol.ops.trigger_order import FireTrigger
from protocol.ops.withdraw import Withdraw
from protocol.pubdata import OP_BYTES, Origin, PubdataError, Record, split_records
from protocol.state import State

Operation = (
    Noop
    | Deposit
    | RegisterKey
    | Transfer
    | Withdraw
    | ForcedWithdraw
    | ForcedCancelAll
    | ForcedOrder
    | ForcedBurn
    | CreateOrder
    | Claim
    | CancelOrder
    | CancelAll
    | ModifyOrder
    | SetLeverage
    | FireTrigger
    | PreExecution
    | Liquidate
    | Takeover
    | Deleverage
    | MintShares
    | BurnShares
    | DeleverageStep
    | DeleverageEnd
)
PriorityOperation = (
    Deposit | RegisterKey | ForcedWithdraw | ForcedCancelAll | ForcedOrder | ForcedBurn
)

DESCRIPTORS: tuple[Descriptor, ...] = tuple(
    sorted(
        (
            m.DESCRIPTOR
            for m in (
                *(noop, deposit, register_key, transfer, withdraw, forced_withdraw),
                *(forced_cancel_all, forced_order, forced_burn, create_order, claim),
                *(cancel_order, cancel_all, modify_order, set_leverage, trigger_order),
                *(pre_execution, liquidate, takeover, deleverage, mint_shares, burn_shares),
                *(deleverage_step, deleverage_end),
            )
        ),
        key=lambda d: d.op_type,
    )
)
BY_TYPE: dict[int, Descriptor] = {d.op_type: d for d in DESCRIPTORS}
BY_CLASS: dict[type, Descriptor] = {d.op_class: d for d in DESCRIPTORS}

Handler = tuple[
    Callable[[State, Any], tuple[Event, ...]], Callable[[Any, tuple[Event, ...]], bytes]
]
HANDLERS: dict[type, Handler] = {d.op_class: (d.process, d.compute_record) for d in DESCRIPTORS}

# Length of the L1 request of each priority operation (its record up to the first result field).
REQUEST_BYTES: dict[int, int] = {
    d.op_type: d.layout.request_bytes for d in DESCRIPTORS if d.origin == Origin.L1
}
PRIORITY_TYPES = frozenset(REQUEST_BYTES)


def get_descriptor(op_type: int) -> Descriptor:
    """The descriptor of type ``op_type``; PubdataError for a type that does not exist."""
    found = BY_TYPE.get(op_type)
    if found is None:
        raise PubdataError(f"type {op_type} is not an operation type")
    return found


def decode_op(record: bytes) -> Record:
    """The fields of any operation's record (strict: see ``protocol.pubdata``)."""
    if not record:
        raise PubdataError("empty record")
    return get_descriptor(record[0]).layout.decode(record)


def is_priority_type(op_type: int) -> bool:
    return op_type in PRIORITY_TYPES


def request_of(record: bytes) -> bytes:
    """The L1 request a priority record answers: its prefix up to the first result field."""
    if not record or not is_priority_type(record[0]):
        raise PubdataError(f"type {record[:1].hex()} is not a priority operation")
    return record[: REQUEST_BYTES[record[0]]]


def decode_request(request: bytes) -> Record:
    """The record of an L1 request (as the contract's event carries it), result fields 0."""
    if not request or not is_priority_type(request[0]):
        raise PubdataError("not a priority request")
    expected = REQUEST_BYTES[request[0]]
    if len(request) != expected:
        raise PubdataError(f"a type {request[0]} request is {expected} bytes, got {len(request)}")
    return decode_op(request.ljust(OP_BYTES, b"\0"))


def get_priority_requests(pubdata: bytes) -> list[bytes]:
    """The L1 requests a batch consumes, in order."""
    return [request_of(r) for r in split_records(pubdata) if is_priority_type(r[0])]


def get_priority_operation(request: Record) -> PriorityOperation:
    """The operation an L1 priority request asks for (a request, or its record in pubdata).

    Raises PubdataError for a record of a type that is not a priority request."""
    if not is_priority_type(request.op_type):
        raise PubdataError(f"a type {request.op_type} record is not a priority request")
    op: PriorityOperation = BY_TYPE[request.op_type].get_operation(request)
    return op


def get_operation(record: Record, nonce: int = 0, expiry: int = 0) -> Operation:
    """The operation a record records; an L2-signed one gets ``nonce`` and ``expiry`` (its
    signature is not in the record)."""
    op: Operation = get_descriptor(record.op_type).get_operation(record, nonce, expiry)
    return op
