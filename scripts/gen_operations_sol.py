"""Generate contracts/Operations.sol: the record layouts of PROTOCOL section 8 that L1 writes
and reads, from the operations' descriptors (``protocol/ops/<op>.py``).

Generated: every type byte; per priority operation its request length, the offset of each of
its fields and its ``write<Op>Request`` function (the request, packed field by field with the
Solidity type of the field's width); the offsets of the fields L1 pays out from (withdrawals).
The few readers (``readOwner``, ``readU64`` and the three that use them) are the fixed part of
the template below and name only generated constants. ``python -m scripts.gen_operations_sol``
rewrites the file; tests/contracts/test_operations_sol.py checks that the committed file is
exactly this output.
"""

from __future__ import annotations

from pathlib import Path

from protocol import pubdata
from protocol.ops.descriptor import Descriptor
from protocol.ops.registry import DESCRIPTORS
from protocol.pubdata import RAW, Origin, RecordField
from scripts.paths import CONTRACTS

OUTPUT = CONTRACTS / "Operations.sol"
RULE = 100  # the width of the section rules, as in the rest of the contracts


def _name(d: Descriptor) -> str:
    return pubdata.OpType(d.op_type).name


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


def _param(f: RecordField) -> str:
    return "accountIndex" if f.name == "account" else _camel(f.name)


def _sol_type(f: RecordField) -> str:
    if f.kind == RAW:
        return "address" if f.nbytes == pubdata.ADDRESS_BYTES else f"bytes{f.nbytes}"
    return f"uint{8 * f.nbytes}"


def _rule(text: str) -> str:
    """A section header ``// -- text ----`` padded to the rule width."""
    line = f"    // -- {text} "
    return line + "-" * max(3, RULE - len(line))


def _describe(d: Descriptor) -> list[str]:
    """The section's header and its layout, ``type | account u48 1..6 | owner 7..26 | ...``
    (``||`` before the first result field), wrapped in comment lines."""
    parts, seen_result = ["type 0"], False
    for f in d.layout.fields:
        start, length = d.layout.offset(f.name)
        kind = "" if f.kind == RAW else f" u{8 * length}"
        where = f"{start}" if length == 1 else f"{start}..{start + length - 1}"
        sep = "|| " if f.result and not seen_result else "| "
        seen_result = seen_result or f.result
        parts.append(f"{sep}{f.name}{kind} {where}")
    lines, line = [], "    //"
    for part in parts:
        if len(line) + 1 + len(part) > RULE:
            lines.append(line)
            line = "    //   "
        line += " " + part
    return [_rule(f"{d.op_type} {d.name.replace('_', ' ')}"), *lines, line]


def _owner_offsets() -> tuple[int, int]:
    """Where the owner field is: the same in every record that carries one."""
    found = {d.layout.offset("owner") for d in DESCRIPTORS if "owner" in d.layout.names()}
    if len(found) != 1:
        raise ValueError(f"the owner field is not at one place: {sorted(found)}")
    ((start, length),) = found
    return start, start + length


def _offset_constants(d: Descriptor) -> list[str]:
    out = []
    for f in d.layout.fields:
        start, _ = d.layout.offset(f.name)
        out.append(f"    uint256 internal constant {_name(d)}_{f.name.upper()}_OFFSET = {start};")
    return out


def _write_request(d: Descriptor) -> list[str]:
    request = [f for f in d.layout.fields if d.layout.offset(f.name)[0] < d.layout.request_bytes]
    params = [f"{_sol_type(f)} {_param(f)}" for f in request]
    args = ", ".join([_name(d), *(_param(f) for f in request)])
    name = "write" + _camel(d.name)[0].upper() + _camel(d.name)[1:] + "Request"
    signature = f"    function {name}({', '.join(params)})"
    if len(signature) <= RULE:
        head = [
            signature,
            "        internal",
            "        pure",
            "        returns (bytes memory)",
            "    {",
        ]
    else:
        head = [f"    function {name}(", *(f"        {p}," for p in params)]
        head[-1] = head[-1].rstrip(",")
        head += ["    ) internal pure returns (bytes memory) {"]
    return [*head, f"        return abi.encodePacked({args});", "    }"]


def _request_bytes_function(l1: list[Descriptor]) -> list[str]:
    """``requestBytes``: one ``if`` per request length, types of equal length together."""
    groups: dict[int, list[Descriptor]] = {}
    for d in l1:
        groups.setdefault(d.layout.request_bytes, []).append(d)
    lines = [
        "    /// @notice Length of the L1 request of a priority operation type; 0 for any other"
        " type.",
        "    function requestBytes(uint8 opType) internal pure returns (uint256) {",
    ]
    for group in groups.values():
        test = " || ".join(f"opType == {_name(d)}" for d in group)
        lines += [
            f"        if ({test}) {{",
            f"            return {_name(group[0])}_REQUEST_BYTES;",
            "        }",
        ]
    return [*lines, "        return 0;", "    }"]


HEADER = """\
// SPDX-License-Identifier: MIT
// Generated by scripts/gen_operations_sol.py from the descriptors of protocol/ops/: do not edit.
pragma solidity 0.8.30;

/// @title Operations
/// @notice The pubdata records of PROTOCOL section 8 that L1 writes and reads, from the
/// operations' descriptors (protocol/ops/<op>.py). Records are 64 bytes, big-endian, zero-padded
/// at the end; byte 0 is the type, then the operation's fields. A priority request is its
/// record's prefix up to, not including, the first result field; L1 writes requests and reads
/// back only what it pays out (withdrawals) or refunds (deposits).
library Operations {"""

READERS = """\
    /// @dev The owner field of the record or request at `offset` of `data`.
    function readOwner(bytes calldata data, uint256 offset) internal pure returns (address) {
        return address(bytes20(data[offset + OWNER_OFFSET:offset + AFTER_OWNER]));
    }

    /// @dev The u64 at bytes `at .. at+7` of the record at `offset` of `data`.
    function readU64(bytes calldata data, uint256 offset, uint256 at)
        internal
        pure
        returns (uint64)
    {
        return uint64(bytes8(data[offset + at:offset + at + 8]));
    }

    /// @dev The (owner, amount) of a deposit request (a refund in desert mode).
    function readDepositRequest(bytes calldata request)
        internal
        pure
        returns (address owner, uint64 amount)
    {
        return (readOwner(request, 0), readU64(request, 0, DEPOSIT_AMOUNT_OFFSET));
    }

    /// @dev The amount a withdraw record at `offset` pays to its owner.
    function readWithdrawAmount(bytes calldata data, uint256 offset)
        internal
        pure
        returns (uint64)
    {
        return readU64(data, offset, WITHDRAW_AMOUNT_OFFSET);
    }

    /// @dev The amount a forced-withdraw record at `offset` pays to its owner (`withdrawn`).
    function readForcedWithdrawAmount(bytes calldata data, uint256 offset)
        internal
        pure
        returns (uint64)
    {
        return readU64(data, offset, FORCED_WITHDRAW_WITHDRAWN_OFFSET);
    }"""


def render() -> str:
    l1 = [d for d in DESCRIPTORS if d.origin == Origin.L1]
    paid = [d for d in DESCRIPTORS if d.op_type in pubdata.L1_WITHDRAWAL_TYPES and d not in l1]
    owner, after_owner = _owner_offsets()
    lines = [HEADER, _rule("types (section 8)")]
    lines += [f"    uint8 internal constant {_name(d)} = {d.op_type};" for d in DESCRIPTORS]
    lines += [
        "",
        "    /// @dev Where every record that carries an owner has it.",
        f"    uint256 internal constant OWNER_OFFSET = {owner};",
        f"    uint256 internal constant AFTER_OWNER = {after_owner};",
        "",
        "    /// @dev Flag bits of a forced order; any other bit is invalid.",
        f"    uint8 internal constant ORDER_FLAG_ASK = {pubdata.ORDER_FLAG_ASK:#04x};"
        " // sell; otherwise buy",
        f"    uint8 internal constant ORDER_FLAG_MARKET = {pubdata.ORDER_FLAG_MARKET:#04x};"
        " // IOC with `price` as worst price; else limit",
        "    uint8 internal constant ORDER_FLAGS_MASK = ORDER_FLAG_ASK | ORDER_FLAG_MARKET;",
        "",
        *_request_bytes_function(l1),
        "",
        READERS,
    ]
    for d in l1:
        lines += ["", *_describe(d)]
        lines.append(
            f"    uint256 internal constant {_name(d)}_REQUEST_BYTES = {d.layout.request_bytes};"
        )
        lines += [*_offset_constants(d), "", *_write_request(d)]
    for d in paid:
        lines += ["", *_describe(d), *_offset_constants(d)]
    return "\n".join([*lines, "}", ""])


def main() -> None:
    Path(OUTPUT).write_text(render())
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
