"""protocol/pubdata.py: the 64-byte records of PROTOCOL section 8, the priority requests and
their keccak chain, the 31-byte chunking and the batch commitment of section 9."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import poseidon, pubdata
from protocol.field import R
from protocol.params import PRESETS
from protocol.pubdata import (
    Deposit,
    ForcedBurn,
    ForcedCancelAll,
    ForcedOrder,
    ForcedWithdraw,
    Noop,
    OpType,
    PubdataError,
    RegisterKey,
    Transfer,
    Withdraw,
)

OWNER = bytes.fromhex("11" * 20)
PUBKEY = bytes(range(32))

accounts = st.integers(0, 2**48 - 1)
owners = st.binary(min_size=20, max_size=20)
u64 = st.integers(0, 2**64 - 1)
statuses = st.integers(0, 1)

operations = st.one_of(
    st.just(Noop()),
    st.builds(Deposit, accounts, owners, u64),
    st.builds(RegisterKey, accounts, owners, st.binary(min_size=32, max_size=32), statuses),
    st.builds(Transfer, accounts, accounts, u64),
    st.builds(Withdraw, accounts, owners, u64),
    st.builds(ForcedWithdraw, accounts, owners, u64, u64),
    st.builds(ForcedCancelAll, accounts, owners, statuses),
    st.builds(
        ForcedOrder,
        accounts,
        owners,
        st.integers(0, 2**16 - 1),
        st.integers(0, pubdata.ORDER_FLAGS_MASK),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**48 - 1),
        statuses,
    ),
    st.builds(ForcedBurn, accounts, owners, u64, u64, statuses),
)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_layout_carries_every_preset(preset: str) -> None:
    p = PRESETS[preset]
    assert p.account_tree_depth <= 8 * pubdata.ACCOUNT_BYTES
    assert max(p.amount_bits, p.collateral_bits, p.pool_share_bits) <= 64  # u64 fields
    assert p.market_tree_depth <= 16 and p.price_bits <= 32 and p.base_amount_bits <= 48


@given(operations)
def test_every_record_round_trips(op: Any) -> None:
    record = pubdata.encode_op(op)
    assert len(record) == pubdata.OP_BYTES
    assert pubdata.decode_op(record) == op


# One example per operation, byte for byte as section 8 lays it out.
EXAMPLES = [
    (Deposit(5, OWNER, 1_000_000), "01" + "000000000005" + "11" * 20 + "00000000000f4240"),
    (RegisterKey(5, OWNER, PUBKEY, 1), "02" + "000000000005" + "11" * 20 + PUBKEY.hex() + "01"),
    (Transfer(5, 9, 7), "03" + "000000000005" + "000000000009" + "0000000000000007"),
    (Withdraw(5, OWNER, 7), "04" + "000000000005" + "11" * 20 + "0000000000000007"),
    (
        ForcedWithdraw(5, OWNER, 9, 7),
        "05" + "000000000005" + "11" * 20 + "0000000000000009" + "0000000000000007",
    ),
    (ForcedCancelAll(5, OWNER, 1), "06" + "000000000005" + "11" * 20 + "01"),
    (
        ForcedOrder(5, OWNER, 1, 3, 0x01020304, 0x0A0B0C0D0E0F, 1),
        "07" + "000000000005" + "11" * 20 + "0001" + "03" + "01020304" + "0a0b0c0d0e0f" + "01",
    ),
    (
        ForcedBurn(5, OWNER, 9, 7, 1),
        "08" + "000000000005" + "11" * 20 + "0000000000000009" + "0000000000000007" + "01",
    ),
]


@pytest.mark.parametrize(("op", "hex_prefix"), EXAMPLES)
def test_examples_match_the_layout(op: Any, hex_prefix: str) -> None:
    record = pubdata.encode_op(op)
    assert record.hex() == hex_prefix.ljust(128, "0")


@pytest.mark.parametrize(
    ("op", "results", "length"),
    [
        (Deposit(5, OWNER, 9), {}, 35),
        (RegisterKey(5, OWNER, PUBKEY, 1), {"status": 0}, 59),
        (ForcedWithdraw(5, OWNER, 9, 7), {"withdrawn": 0}, 35),
        (ForcedCancelAll(5, OWNER, 1), {"status": 0}, 27),
        (ForcedOrder(5, OWNER, 1, 3, 9, 9, 1), {"status": 0}, 40),
        (ForcedBurn(5, OWNER, 9, 7, 1), {"collateral_out": 0, "status": 0}, 35),
    ],
)
def test_requests_stop_at_the_first_result_field(
    op: Any, results: dict[str, int], length: int
) -> None:
    request = pubdata.request_of(pubdata.encode_op(op))
    assert len(request) == length == pubdata.REQUEST_BYTES[OpType(request[0])]
    assert pubdata.request_of(pubdata.encode_op(replace(op, **results))) == request


@given(operations)
def test_a_request_reads_back_with_its_results_zero(op: Any) -> None:
    record = pubdata.encode_op(op)
    if not pubdata.is_priority_type(record[0]):
        with pytest.raises(PubdataError, match=f"type {record[0]} is not a priority operation"):
            pubdata.request_of(record)
        return
    request = pubdata.request_of(record)
    assert record.startswith(request)
    back = pubdata.decode_request(request)
    result_free = record[: len(request)].ljust(pubdata.OP_BYTES, b"\0")
    assert pubdata.encode_op(back) == result_free


def test_requests_of_the_wrong_length_are_refused() -> None:
    request = pubdata.request_of(pubdata.encode_op(Deposit(1, OWNER, 5)))
    for bad, error in [
        (request[:-1], "a type 1 request is 35 bytes, got 34"),
        (request + b"\0", "a type 1 request is 35 bytes, got 36"),
        (b"", "not a priority request"),
        (b"\x03" + request[1:], "not a priority request"),
    ]:
        with pytest.raises(PubdataError, match=error):
            pubdata.decode_request(bad)


@pytest.mark.parametrize(
    ("op", "name"),
    [
        (Deposit(2**48, OWNER, 1), "account"),
        (Deposit(1, OWNER, 2**64), "amount"),
        (Deposit(1, OWNER[:19], 1), "owner"),
        (RegisterKey(1, OWNER, PUBKEY[:31]), "pubkey"),
        (RegisterKey(1, OWNER, PUBKEY, 2), "status"),
        (Transfer(1, -1, 1), "to_account"),
        (ForcedOrder(1, OWNER, 2**16, 0, 1, 1), "market"),
        (ForcedOrder(1, OWNER, 0, 4, 1, 1), "flags"),
        (ForcedOrder(1, OWNER, 0, 0, 2**32, 1), "price"),
        (ForcedOrder(1, OWNER, 0, 0, 1, 2**48), "size"),
        (ForcedBurn(1, OWNER, 1, 2**64), "collateral_out"),
    ],
)
def test_encoders_refuse_values_out_of_their_width(op: Any, name: str) -> None:
    with pytest.raises(PubdataError, match=name):
        pubdata.encode_op(op)


def test_decoders_are_strict() -> None:
    good = pubdata.encode_op(ForcedOrder(5, OWNER, 1, 3, 9, 9, 1))
    with pytest.raises(PubdataError, match="64 bytes"):
        pubdata.decode_forced_order(good[:-1])
    with pytest.raises(PubdataError, match="expected type 7"):
        pubdata.decode_forced_order(b"\x06" + good[1:])
    with pytest.raises(PubdataError, match="padding"):
        pubdata.decode_forced_order(good[:-1] + b"\x01")
    with pytest.raises(PubdataError, match="status"):
        pubdata.decode_forced_order(good[:40] + b"\x02" + good[41:])
    with pytest.raises(PubdataError, match="flags"):
        pubdata.decode_forced_order(good[:29] + b"\x04" + good[30:])
    with pytest.raises(PubdataError, match="money-path"):
        pubdata.decode_op(b"\x10" + bytes(63))
    with pytest.raises(PubdataError, match="empty"):
        pubdata.decode_op(b"")


def test_priority_chain_is_a_keccak_prefix_hash() -> None:
    requests = [
        pubdata.request_of(pubdata.encode_op(op))
        for op in (Deposit(1, OWNER, 5), ForcedCancelAll(1, OWNER))
    ]
    h1 = pubdata.keccak256(bytes(32) + requests[0])
    h2 = pubdata.keccak256(h1 + requests[1])
    assert pubdata.compute_priority_hash(pubdata.ZERO_HASH, requests[0]) == h1
    assert pubdata.compute_priority_chain(requests) == h2
    assert pubdata.compute_priority_chain(requests[1:], start=h1) == h2
    assert pubdata.compute_priority_chain(reversed(requests)) != h2
    # the empty string's keccak, the standard test vector
    assert pubdata.keccak256(b"").hex().startswith("c5d2460186f7233c")


def test_batches_pad_with_noops_and_expose_requests_and_withdrawals() -> None:
    deposit = pubdata.encode_op(Deposit(1, OWNER, 5))
    withdraw = pubdata.encode_op(Withdraw(1, OWNER, 2))
    forced = pubdata.encode_op(ForcedWithdraw(1, OWNER, 9, 3))
    transfer = pubdata.encode_op(Transfer(1, 2, 1))
    data = pubdata.compute_batch_pubdata([deposit, withdraw, transfer, forced], 6)
    assert len(data) == 6 * 64
    assert pubdata.split_records(data)[4:] == [bytes(64)] * 2
    assert pubdata.get_priority_requests(data) == [deposit[:35], forced[:35]]
    assert pubdata.get_l1_withdrawals(data) == withdraw + forced
    with pytest.raises(PubdataError, match="3 records do not fit 2 slots"):
        pubdata.compute_batch_pubdata([deposit] * 3, 2)
    with pytest.raises(PubdataError, match="a record is 64 bytes, got 63"):
        pubdata.compute_batch_pubdata([deposit[:63]], 2)
    with pytest.raises(PubdataError, match="pubdata length 383 is not a multiple of 64"):
        pubdata.split_records(data[:-1])


@given(st.binary(max_size=300))
def test_chunks_are_31_byte_big_endian_right_padded(data: bytes) -> None:
    chunks = pubdata.compute_chunks(data)
    assert len(chunks) == -(-len(data) // 31)
    assert all(0 <= c < 2**248 < R for c in chunks)
    joined = b"".join(c.to_bytes(31, "big") for c in chunks)
    assert joined[: len(data)] == data
    assert not any(joined[len(data) :])


def test_commitment_is_the_sponge_of_timestamp_and_chunks() -> None:
    data = pubdata.compute_batch_pubdata([pubdata.encode_op(Deposit(1, OWNER, 5))], 4)
    chunks = pubdata.compute_chunks(data)
    assert len(chunks) == 9  # 256 bytes = 8 * 31 + 8
    assert chunks[-1] == int.from_bytes(data[248:] + bytes(23), "big")
    expected = poseidon.sponge([1_700_000_000, *chunks], pubdata.DOMAIN_PUBDATA)
    assert pubdata.compute_commitment(1_700_000_000, data) == expected
    assert pubdata.compute_commitment(1_700_000_001, data) != expected
    flipped = data[:100] + b"\x01" + data[101:]
    assert pubdata.compute_commitment(1_700_000_000, flipped) != expected
