"""Trading records (types 16..): exact layout, strict decoding, and a block of trading
operations whose records decode back to their inputs."""

from __future__ import annotations

import pytest

from protocol.block import Block, process_block
from protocol.ops import claim, create_order
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder
from protocol.ops.registry import decode_op, get_operation
from protocol.pubdata import OP_BYTES, PubdataError
from tests.protocol.helpers import BTC, FAR, Env


def test_encode_decode_round_trip_and_strictness() -> None:
    layout = create_order.RECORD
    values = (6, 1, 0x2D, 10_010, 3, 0, 0, 0, 0)
    record = layout.encode(values)
    assert len(record) == OP_BYTES and record[:14].hex() == "100000000000060001" + "2d" + "0000271a"
    assert layout.decode(record).values == values
    with pytest.raises(PubdataError, match="expected type 17, got 16"):
        claim.RECORD.decode(record)
    with pytest.raises(PubdataError, match="non-zero padding after byte 41"):
        layout.decode(record[:50] + b"\1" + record[51:])  # non-zero bytes left over
    with pytest.raises(PubdataError, match=r"account = 281474976710656 is not in \[0, "):
        layout.encode((1 << 48, *values[1:]))


def test_a_matching_block_publishes_its_inputs_and_fills() -> None:
    env = Env()
    env.open_many(3, 10**9)
    env.place(3, BTC, True, 10_000, 1)
    env.place(4, BTC, True, 10_001, 1)
    taker = CreateOrder(5, 0, FAR, BTC, False, 2, 10_001)
    state = env.state
    result = process_block(state, Block(state.block_number + 1, 1_100, (taker, Claim(5))))
    create, step = result.records
    assert decode_op(create).values == (5, BTC, 0, 10_001, 2, 0, 0, 3, 1)
    assert decode_op(step).as_dict() == {"account": 5, "market": BTC, "maker": 4, "filled": 1}
    assert get_operation(decode_op(create), 0, FAR) == taker
