"""Trading records (types 16..): exact layout, strict decoding, and a block of trading
operations whose records decode back to their inputs."""

from __future__ import annotations

import pytest

from protocol.block import Block, process_block
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder
from protocol.ops.records import ACCOUNT, MARKET, PRICE, SIZE, TIME, decode_record, encode_record
from protocol.pubdata import OP_BYTES, PubdataError
from tests.protocol.helpers import BTC, FAR, Env

CREATE = [ACCOUNT, MARKET, 1, PRICE, SIZE, PRICE, TIME, ACCOUNT, SIZE]


def test_encode_decode_round_trip_and_strictness() -> None:
    record = encode_record(16, [(6, ACCOUNT), (1, MARKET), (0x2D, 1), (10_010, PRICE)])
    assert len(record) == OP_BYTES and record[:14].hex() == "100000000000060001" + "2d" + "0000271a"
    assert decode_record(record, 16, [ACCOUNT, MARKET, 1, PRICE]) == [6, 1, 0x2D, 10_010]
    with pytest.raises(PubdataError, match="not a 64-byte record of type 17"):
        decode_record(record, 17, [ACCOUNT])
    with pytest.raises(PubdataError, match="non-zero padding after byte 7"):
        decode_record(record, 16, [ACCOUNT])  # non-zero bytes left over
    with pytest.raises(PubdataError, match=f"{1 << 48} does not fit in 6 bytes"):
        encode_record(16, [(1 << 48, ACCOUNT)])


def test_a_matching_block_publishes_its_inputs_and_fills() -> None:
    env = Env()
    env.open_many(3, 10**9)
    env.place(3, BTC, True, 10_000, 1)
    env.place(4, BTC, True, 10_001, 1)
    taker = CreateOrder(5, 0, FAR, BTC, False, 2, 10_001)
    state = env.state
    result = process_block(state, Block(state.block_number + 1, 1_100, (taker, Claim(5))))
    create, claim = result.records
    assert decode_record(create, 16, CREATE) == [5, BTC, 0, 10_001, 2, 0, 0, 3, 1]
    assert decode_record(claim, 17, [ACCOUNT, MARKET, ACCOUNT, SIZE]) == [5, BTC, 4, 1]
