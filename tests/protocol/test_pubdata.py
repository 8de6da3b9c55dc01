"""protocol/pubdata.py: the 64-byte records of PROTOCOL section 8, the priority requests and
their keccak chain and the 31-byte chunking of section 9."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import params, pubdata
from protocol.field import R
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
from protocol.ops.registry import (
    DESCRIPTORS,
    REQUEST_BYTES,
    decode_op,
    decode_request,
    get_priority_requests,
    is_priority_type,
    request_of,
)
from protocol.params import PRESETS
from protocol.pubdata import RAW, Layout, PubdataError, Record, RecordField

OWNER = bytes.fromhex("11" * 20)
PUBKEY = bytes(range(32))


def field_values(f: RecordField) -> st.SearchStrategy[int | bytes]:
    if f.kind == RAW:
        return st.binary(min_size=f.nbytes, max_size=f.nbytes)
    return st.integers(0, f.limit - 1)


def records_of(layout: Layout) -> st.SearchStrategy[Record]:
    values = st.tuples(*(field_values(f) for f in layout.fields))
    return values.map(lambda v: Record(layout, v))


records = st.one_of(*(records_of(d.layout) for d in DESCRIPTORS))


def Deposit(account: int, owner: bytes, amount: int) -> Record:
    return deposit.RECORD.make(account=account, owner=owner, amount=amount)


def RegisterKey(account: int, owner: bytes, pubkey: bytes, status: int = 0) -> Record:
    return register_key.RECORD.make(account=account, owner=owner, pubkey=pubkey, status=status)


def Transfer(account: int, to: int, amount: int) -> Record:
    return transfer.RECORD.make(account=account, to=to, amount=amount)


def Withdraw(account: int, owner: bytes, amount: int) -> Record:
    return withdraw.RECORD.make(account=account, owner=owner, amount=amount)


def ForcedWithdraw(account: int, owner: bytes, requested: int, withdrawn: int = 0) -> Record:
    layout = forced_withdraw.RECORD
    return layout.make(account=account, owner=owner, requested=requested, withdrawn=withdrawn)


def ForcedCancelAll(account: int, owner: bytes, status: int = 0) -> Record:
    return forced_cancel_all.RECORD.make(account=account, owner=owner, status=status)


def ForcedOrder(*values: int | bytes) -> Record:
    names = forced_order.RECORD.names()
    return forced_order.RECORD.make(**dict(zip(names, values, strict=False)))


def ForcedBurn(*values: int | bytes) -> Record:
    names = forced_burn.RECORD.names()
    return forced_burn.RECORD.make(**dict(zip(names, values, strict=False)))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_layout_carries_every_preset(preset: str) -> None:
    p = PRESETS[preset]
    widths = {
        params.RECORD_ACCOUNT_BYTES: [p.account_tree_depth],
        params.RECORD_AMOUNT_BYTES: [p.amount_bits, p.collateral_bits, p.pool_share_bits],
        params.RECORD_MARKET_BYTES: [p.market_tree_depth],
        params.RECORD_PRICE_BYTES: [p.price_bits],
        params.RECORD_SIZE_BYTES: [p.base_amount_bits],
        params.RECORD_TIME_BYTES: [p.timestamp_bits],
        params.RECORD_ORDER_KEY_BYTES: [p.order_tree_depth],
        params.RECORD_TRIGGER_ID_BYTES: [p.order_nonce_bits],
        params.RECORD_RATE_BYTES: [p.fee_rate_bits],
        params.RECORD_COUNT_BYTES: [(p.max_open_orders_per_account + 1).bit_length()],
    }
    for nbytes, bits in widths.items():
        assert max(bits) <= 8 * nbytes


@given(records)
def test_every_record_round_trips(op: Record) -> None:
    record = op.encode()
    assert len(record) == pubdata.OP_BYTES
    assert decode_op(record) == op


# One example per operation, byte for byte as section 8 lays it out.
EXAMPLES = [
    (Deposit(5, OWNER, 1_000_000), "01" + "000000000005" + "11" * 20 + "00000000000f4240"),
    (RegisterKey(5, OWNER, PUBKEY, 1), "02" + "000000000005" + "11" * 20 + PUBKEY.hex() + "01"),
    (noop.RECORD.make(), ""),
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
def test_examples_match_the_layout(op: Record, hex_prefix: str) -> None:
    record = op.encode()
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
    op: Record, results: dict[str, int], length: int
) -> None:
    request = request_of(op.encode())
    assert len(request) == length == REQUEST_BYTES[request[0]] == op.layout.request_bytes
    changed = op.layout.make(**{**op.as_dict(), **results})
    assert request_of(changed.encode()) == request


@given(records)
def test_a_request_reads_back_with_its_results_zero(op: Record) -> None:
    record = op.encode()
    if not is_priority_type(record[0]):
        with pytest.raises(PubdataError, match="is not a priority operation"):
            request_of(record)
        return
    request = request_of(record)
    assert record.startswith(request)
    back = decode_request(request)
    result_free = record[: len(request)].ljust(pubdata.OP_BYTES, b"\0")
    assert back.encode() == result_free


def test_requests_of_the_wrong_length_are_refused() -> None:
    request = request_of(Deposit(1, OWNER, 5).encode())
    for bad, error in [
        (request[:-1], "a type 1 request is 35 bytes, got 34"),
        (request + b"\0", "a type 1 request is 35 bytes, got 36"),
        (b"", "not a priority request"),
        (b"\x03" + request[1:], "not a priority request"),
    ]:
        with pytest.raises(PubdataError, match=error):
            decode_request(bad)


@pytest.mark.parametrize(
    ("op", "name"),
    [
        (Deposit(2**48, OWNER, 1), "account"),
        (Deposit(1, OWNER, 2**64), "amount"),
        (Deposit(1, OWNER[:19], 1), "owner"),
        (RegisterKey(1, OWNER, PUBKEY[:31]), "pubkey"),
        (RegisterKey(1, OWNER, PUBKEY, 2), "status"),
        (Transfer(1, -1, 1), "to"),
        (ForcedOrder(1, OWNER, 2**16, 0, 1, 1), "market"),
        (ForcedOrder(1, OWNER, 0, 4, 1, 1), "flags"),
        (ForcedOrder(1, OWNER, 0, 0, 2**32, 1), "price"),
        (ForcedOrder(1, OWNER, 0, 0, 1, 2**48), "size"),
        (ForcedBurn(1, OWNER, 1, 2**64), "collateral_out"),
    ],
)
def test_encoders_refuse_values_out_of_their_width(op: Record, name: str) -> None:
    with pytest.raises(PubdataError, match=name):
        op.encode()


def test_values_of_another_type_are_refused_by_name() -> None:
    with pytest.raises(PubdataError, match="amount"):
        transfer.RECORD.encode((1, 2, "1"))
    with pytest.raises(PubdataError, match="amount"):
        transfer.RECORD.make(account=1, to=2, amount=1.0)
    with pytest.raises(PubdataError, match="owner"):
        deposit.RECORD.encode((1, "0x" + "11" * 20, 1))


def test_decoders_are_strict() -> None:
    good = ForcedOrder(5, OWNER, 1, 3, 9, 9, 1).encode()
    decode = forced_order.RECORD.decode
    with pytest.raises(PubdataError, match="64 bytes"):
        decode(good[:-1])
    with pytest.raises(PubdataError, match="expected type 7"):
        decode(b"\x06" + good[1:])
    with pytest.raises(PubdataError, match="padding"):
        decode(good[:-1] + b"\x01")
    with pytest.raises(PubdataError, match="status"):
        decode(good[:40] + b"\x02" + good[41:])
    with pytest.raises(PubdataError, match="flags"):
        decode(good[:29] + b"\x04" + good[30:])
    with pytest.raises(PubdataError, match="not an operation type"):
        decode_op(b"\x09" + bytes(63))
    with pytest.raises(PubdataError, match="empty"):
        decode_op(b"")


def test_priority_chain_is_a_keccak_prefix_hash() -> None:
    requests = [request_of(op.encode()) for op in (Deposit(1, OWNER, 5), ForcedCancelAll(1, OWNER))]
    h1 = pubdata.keccak256(bytes(32) + requests[0])
    h2 = pubdata.keccak256(h1 + requests[1])
    assert pubdata.compute_priority_hash(pubdata.ZERO_HASH, requests[0]) == h1
    assert pubdata.compute_priority_chain(requests) == h2
    assert pubdata.compute_priority_chain(requests[1:], start=h1) == h2
    assert pubdata.compute_priority_chain(reversed(requests)) != h2
    # the empty string's keccak, the standard test vector
    assert pubdata.keccak256(b"").hex().startswith("c5d2460186f7233c")


def test_batches_pad_with_noops_and_expose_requests_and_withdrawals() -> None:
    deposit, withdraw, forced, transfer = (
        op.encode()
        for op in (
            Deposit(1, OWNER, 5),
            Withdraw(1, OWNER, 2),
            ForcedWithdraw(1, OWNER, 9, 3),
            Transfer(1, 2, 1),
        )
    )
    data = pubdata.compute_batch_pubdata([deposit, withdraw, transfer, forced], 6)
    assert len(data) == 6 * 64
    assert pubdata.split_records(data)[4:] == [bytes(64)] * 2
    assert get_priority_requests(data) == [deposit[:35], forced[:35]]
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
