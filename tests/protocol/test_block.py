"""process_block: ordering, atomicity, pubdata records, and replay from genesis."""

from __future__ import annotations

import pytest

from protocol.block import Block, process_block
from protocol.commitment import update_state_root
from protocol.errors import InvalidBlock
from protocol.jubjub import compress
from protocol.ops.deposit import Deposit
from protocol.ops.forced_withdraw import ForcedWithdraw
from protocol.ops.noop import Noop
from protocol.ops.register_key import RegisterKey
from protocol.ops.registry import decode_op
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.pubdata import OpType
from protocol.signing import sign_tx
from protocol.snapshot import encode_state
from protocol.state import State, make_genesis
from tests.protocol.helpers import CHAIN_ID, FAR, MARKET, PRESET, PRICES, key_of, owner_of


def genesis(signatures: bool = True) -> State:
    markets = [(MARKET, PRICES[0]), (MARKET, PRICES[1])]
    return make_genesis(PRESET, CHAIN_ID, markets, owner_of(0), owner_of(1), signatures)


def money_blocks() -> list[Block]:
    key3 = compress(key_of(3).public_key)
    transfer = sign_tx(Transfer(3, 0, FAR, 4, 250), key_of(3), CHAIN_ID)
    withdraw = sign_tx(Withdraw(3, 1, FAR, 100), key_of(3), CHAIN_ID)
    return [
        Block(
            1,
            100,
            (
                Deposit(3, owner_of(3), 1_000),
                RegisterKey(3, owner_of(3), key3),
                Deposit(4, owner_of(4), 5),
            ),
        ),
        Block(2, 160, (transfer, withdraw, ForcedWithdraw(4, owner_of(4), 1_000), Noop())),
    ]


def test_blocks_apply_and_produce_one_record_per_operation() -> None:
    state = genesis()
    first, second = (process_block(state, b) for b in money_blocks())
    assert [r[0] for r in first.records] == [1, 2, 1]
    assert decode_op(first.records[1]).get("status") == 1
    assert decode_op(second.records[0]).as_dict() == {"account": 3, "to": 4, "amount": 250}
    assert decode_op(second.records[1]).values == (3, owner_of(3), 100)
    assert decode_op(second.records[2]).values == (4, owner_of(4), 1_000, 255)
    assert decode_op(second.records[3]).values == ()
    assert [decode_op(r).op_type for r in second.records] == [
        OpType.TRANSFER,
        OpType.WITHDRAW,
        OpType.FORCED_WITHDRAW,
        OpType.NOOP,
    ]
    assert state.accounts[3].collateral == 650 and state.accounts[4].collateral == 0
    assert (state.block_number, state.timestamp) == (2, 160)


def test_an_invalid_operation_invalidates_the_whole_block() -> None:
    state = genesis()
    process_block(state, money_blocks()[0])
    before = encode_state(state)
    bad = Block(2, 200, (Deposit(5, owner_of(5), 10), Withdraw(3, 7, FAR, 1)))
    with pytest.raises(InvalidBlock, match="operation 1"):
        process_block(state, bad)
    assert encode_state(state) == before


@pytest.mark.parametrize(
    ("number", "timestamp"), [(3, 200), (1, 200), (2, 99)], ids=["gap", "repeat", "time-back"]
)
def test_block_sequence_and_time_are_checked(number: int, timestamp: int) -> None:
    state = genesis()
    process_block(state, money_blocks()[0])
    before = encode_state(state)
    with pytest.raises(InvalidBlock):
        process_block(state, Block(number, timestamp, ()))
    assert encode_state(state) == before


def test_too_many_operations_for_the_circuit() -> None:
    state = genesis()
    with pytest.raises(InvalidBlock):
        process_block(state, Block(1, 1, (Noop(),) * (PRESET.ops_per_block + 1)))


def test_replay_from_genesis_gives_the_same_root() -> None:
    live, replay = genesis(), genesis()
    roots = []
    for block in money_blocks():
        process_block(live, block)
        roots.append(update_state_root(live))
    for block in money_blocks():
        process_block(replay, block)
    assert update_state_root(replay) == roots[-1]
    assert encode_state(live) == encode_state(replay)
    assert roots[0] != roots[1]
