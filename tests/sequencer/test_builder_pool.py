"""The builder takes the pool-share operations now that the block circuit proves them: signed
mints and burns from the mempool and the L1 forced burn (either status) go into heavy slots,
none dropped, and the rules' process_block replays what was sealed."""

from __future__ import annotations

import copy

from protocol.accounts import INSURANCE_FUND
from protocol.block import process_block
from protocol.commitment import update_state_root
from protocol.ops import forced_burn
from protocol.ops.burn_shares import BurnShares
from protocol.ops.mint_shares import MintShares
from protocol.ops.registry import request_of
from protocol.pubdata import OpType
from sequencer.builder import build_block
from sequencer.codec import encode_tx
from tests.protocol.helpers import PRESET, Env, owner_of
from tests.sequencer.helpers import chain_requests

SLOTS, HEAVY = 5, 3


def forced(account: int, owner: int, shares: int) -> bytes:
    record = forced_burn.RECORD.make(account=account, owner=owner_of(owner), shares=shares)
    return request_of(record.encode())


def test_mints_burns_and_forced_burns_are_sealed() -> None:
    preset = PRESET.with_overrides(ops_per_block=SLOTS, trading_slots=HEAVY, market_slots=0)
    env = Env(preset=preset, signatures=True)
    env.open_many(3, 10_000_000)
    env.run(env.signed(MintShares, 3, amount=1_000_000))
    twin = copy.deepcopy(env.state)
    mint = env.signed(MintShares, 4, amount=500_000)
    burn = env.signed(BurnShares, 3, shares=400_000)
    # 3's own burn (applied) and one asked by 4's owner (status 0)
    requests = chain_requests([forced(3, 3, 100_000), forced(3, 4, 1)])
    txs = [(1, encode_tx(mint)), (2, encode_tx(burn))]
    state = env.state
    sealed = build_block(state, state.block_number + 1, state.timestamp + 1, requests, txs)
    assert sealed.dropped == {}
    types = [r[0] for r in sealed.records]
    assert types[:HEAVY] == [OpType.FORCED_BURN, OpType.FORCED_BURN, OpType.MINT_SHARES]
    assert sealed.record.l2_seqs == (1,)  # the burn waits: no heavy slot left
    assert [r[43] for r in sealed.records[:2]] == [1, 0]  # the forced burns' statuses
    assert state.accounts[3].pool_shares == 900_000
    assert state.accounts[INSURANCE_FUND].pool_shares == 1_400_000
    process_block(twin, sealed.block)
    assert update_state_root(twin) == sealed.state_root
