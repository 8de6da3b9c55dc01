"""What one operation is, declared once (``DESCRIPTOR`` in ``protocol/ops/<op>.py``).

Every layer reads it instead of keeping its own table: ``protocol.block`` dispatches to
``process``; ``protocol.pubdata`` encodes and decodes the ``layout``; the circuits take their
record offsets from it; ``scripts/gen_operations_sol.py`` generates ``contracts/Operations.sol``'s
constants from it; the operator's mempool accepts the L2-signed ones; reconstruction turns a
record back into the operation with ``get_operation``. docs/PROTOCOL.md section 8 says how to
add one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from protocol.events import Event
from protocol.pubdata import Layout, Origin, PubdataError, Record
from protocol.state import State

SIGNED_FIELDS = ("nonce", "expiry")  # what an L2-signed operation carries besides its record


@dataclass(frozen=True)
class Descriptor:
    """One operation type: its class, its record layout (its type byte is ``layout.op_type``),
    who submits it, and its functions."""

    op_class: Any  # the operation's dataclass; ``op_class.op_type()`` is the type byte
    layout: Layout
    origin: int  # a pubdata.Origin
    process: Callable[[State, Any], tuple[Event, ...]]  # process_<op>(state, op) -> events
    compute_record: Callable[[Any, tuple[Event, ...]], bytes]  # the op's 64-byte record
    get_accounts: Callable[[Any], tuple[int, ...]]  # the accounts it names (A first)
    # The operation a record records (reconstruction): from its input fields by name, plus
    # ``nonce`` and ``expiry`` for an L2-signed one; None for the plain field-by-name mapping.
    from_record: Callable[[Record, int, int], Any] | None = None

    @property
    def op_type(self) -> int:
        return self.layout.op_type

    @property
    def name(self) -> str:
        """The module's name, e.g. ``forced_withdraw`` (the enum member, lower case)."""
        return self.op_class.__module__.rsplit(".", 1)[-1]

    def get_operation(self, record: Record, nonce: int = 0, expiry: int = 0) -> Any:
        """The operation ``record`` records; the signature is not in the record (None)."""
        if record.op_type != self.op_type:
            raise PubdataError(f"a type {record.op_type} record is not a {self.name}")
        if self.from_record is not None:
            return self.from_record(record, nonce, expiry)
        values: dict[str, Any] = record.inputs()
        if self.origin == Origin.L2_SIGNED:
            values["nonce"], values["expiry"] = nonce, expiry
        for f in fields(self.op_class):  # a flag is a 0 / 1 byte in the record
            if f.name in values and (f.type is bool or f.type == "bool"):  # compiled, interpreted
                values[f.name] = bool(values[f.name])
        return self.op_class(**values)


def get_single_account(op: Any) -> tuple[int, ...]:
    """The accounts of an operation that names one account, ``op.account``."""
    return (op.account,)


def get_no_accounts(op: Any) -> tuple[int, ...]:
    return ()
