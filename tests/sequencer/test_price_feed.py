"""The operator's index prices: the scripted devnet feed (deterministic, within its amplitude,
markets out of phase), the price file (CSV or JSON Lines, the last price at or before a block,
one clear error per bad line), and pre-execution in the builder: in the market slots that close
the block, every market where they fit, else in turn; its prices recorded with the block so that
replaying it needs no feed (nor the oracle's key); a price the rules refuse (out of range,
not signed by the market's oracle, stale, moved too far) leaves the market out, never stops
the builder."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from protocol.eddsa import SecretKey
from protocol.pubdata import OpType
from protocol.types import PPM
from scripts.commands.common import CommandError
from scripts.commands.operator import load_price_file
from sequencer.builder import BuilderError, build_block, get_pre_executed_markets, replay_block
from sequencer.genesis import RollupConfig
from sequencer.mempool import Mempool
from sequencer.operator import Operator
from sequencer.price_feed import (
    FilePriceFeed,
    PriceFeedError,
    ScriptedFeed,
    SignedPrice,
    sign_prices,
)
from sequencer.store import Store
from tests.sequencer.helpers import CONFIG, USDC, chain_requests, open_accounts, transfer

BASES = tuple(m.index_price for m in CONFIG.markets)
ORACLE = CONFIG.oracle_key


def signed(prices: tuple[int, ...], timestamp: int) -> tuple[SignedPrice, ...]:
    return sign_prices(ORACLE, CONFIG.chain_id, prices, timestamp)


def test_the_scripted_feed_is_a_function_of_time_within_its_amplitude() -> None:
    feed = ScriptedFeed(BASES, period_s=3600, amplitude_ppm=20_000)
    seen = set()
    for t in range(0, 7200, 60):
        prices = feed.get_index_prices(t, BASES)
        assert prices == ScriptedFeed(BASES, 3600, 20_000).get_index_prices(t, [1, 1])
        for base, price in zip(BASES, prices, strict=True):
            assert base * (PPM - 20_000) // PPM <= price <= base * (PPM + 20_000) // PPM
        seen.add(prices)
    assert len(seen) > 20
    assert feed.get_index_prices(0, BASES)[0] == BASES[0] * (PPM - 20_000) // PPM
    assert feed.get_index_prices(1800, BASES)[0] == BASES[0] * (PPM + 20_000) // PPM
    assert feed.get_index_prices(0, BASES)[1] == BASES[1]  # a quarter period later: the middle


def test_a_csv_price_file_gives_the_last_price_at_or_before_the_block(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("timestamp,market,price\n# a comment\n100,0,10100\n50,0,9900\n\n200,1,3100\n")
    feed = FilePriceFeed.load(path, 2, CONFIG.preset.price_bits)
    assert feed.get_index_prices(10, (10_000, 3_000)) == (10_000, 3_000)  # none yet: current
    assert feed.get_index_prices(50, (10_000, 3_000)) == (9_900, 3_000)
    assert feed.get_index_prices(199, (1, 1)) == (10_100, 1)
    assert feed.get_index_prices(10**9, (1, 1)) == (10_100, 3_100)


def test_a_json_lines_price_file_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "prices.jsonl"
    path.write_text(
        '{"timestamp": 100, "market": 0, "price": 10100}\n'
        '{"timestamp": 200, "market": 1, "price": 3100}\n'
    )
    feed = FilePriceFeed.load(path, 2, CONFIG.preset.price_bits)
    assert feed.get_index_prices(200, (1, 1)) == (10_100, 3_100)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("100,2,10000\n", ":1: no market 2"),
        ("1,0,1\n100,0,0\n", ":2: price 0 not in"),
        ("100,0,65536\n", "price 65536 not in"),
        ("100,0\n", "line 1: need timestamp,market,price"),
        ("100,zero,5\n", "is not three integers"),
        ('{"timestamp": 1, "market": 0}\n', "need exactly the keys"),
        ('{"timestamp": 1, "market": 0, "price": 1.5}\n', "must be integers"),
        ("{oops\n", "not JSON"),
        ("-5,0,100\n", "negative timestamp"),
    ],
)
def test_a_bad_price_file_is_refused_naming_the_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(text)
    with pytest.raises(PriceFeedError, match=message):
        FilePriceFeed.load(path, 2, CONFIG.preset.price_bits)
    with pytest.raises(CommandError, match=message):  # the CLI's one line
        load_price_file(path, CONFIG)


def test_a_missing_price_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read the price file"):
        load_price_file(tmp_path / "none.csv", CONFIG)


def test_pre_execution_closes_the_block_and_replays_from_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "op.sqlite")
    state = CONFIG.make_genesis()
    store.add_requests(chain_requests(open_accounts([3, 4], 10 * USDC)), "c", 1)
    first = build_block(state, 1, 1_000, store.get_requests(0, 4), [])
    store.add_block(first.record, first.dropped)
    seq = Mempool(store).submit(transfer(3, 0, 4, USDC))
    prices = signed((10_050, 2_990), 2_000)
    second = build_block(state, 2, 2_000, [], [(seq, store.get_tx(seq))], prices)
    store.add_block(second.record, second.dropped)
    types = [r[0] for r in second.records]
    assert types == [OpType.TRANSFER, *[OpType.NOOP] * 3, *[OpType.PRE_EXECUTION] * 2]
    assert [m.data.index_price for m in state.markets] == [p.price for p in prices]
    assert store.get_blocks()[1] == second.record and second.record.index_prices == prices

    again = CONFIG.make_genesis()
    for record in store.get_blocks():
        replayed = replay_block(again, store, record)
    assert replayed.state_root == second.state_root
    (taken,) = store.discard_blocks_from(2)
    assert taken.index_prices == prices and store.get_blocks()[-1].index_prices == ()


def test_a_price_the_rules_refuse_leaves_its_market_out(caplog: pytest.LogCaptureFixture) -> None:
    state = CONFIG.make_genesis()
    sealed = build_block(
        state, 1, 1_000, [], [], signed((10_050, 1 << CONFIG.preset.price_bits), 1_000)
    )
    assert [r[0] for r in sealed.records[-2:]] == [OpType.PRE_EXECUTION, OpType.NOOP]
    assert [m.data.index_price for m in state.markets] == [10_050, BASES[1]]
    assert "no pre-execution of market 1: index price" in caplog.text


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        (
            sign_prices(SecretKey.from_seed(bytes(32)), CONFIG.chain_id, BASES, 1_000),
            "not its oracle's",
        ),
        (signed(BASES, 1_001), "at most 60 s old, not later"),
        (signed(BASES, 1_000 - 61), "at most 60 s old"),
        (signed((BASES[0] * 111 // 100, BASES[1] * 89 // 100), 1_000), "more than 100000 ppm"),
    ],
    ids=["other_key", "future", "stale", "moved"],
)
def test_a_price_not_signed_fresh_and_bounded_leaves_its_market_out(
    caplog: pytest.LogCaptureFixture, prices: tuple[SignedPrice, ...], message: str
) -> None:
    """The operator cannot invent a price: the rules refuse it, the block is sealed without it,
    each market keeping its index."""
    state = CONFIG.make_genesis()
    sealed = build_block(state, 1, 1_000, [], [], prices)
    assert [r[0] for r in sealed.records[-2:]] == [OpType.NOOP, OpType.NOOP]
    assert [m.data.index_price for m in state.markets] == list(BASES)
    assert caplog.text.count(message) == 2


def test_index_prices_for_other_markets_than_the_states_stop_the_builder() -> None:
    state = CONFIG.make_genesis()
    with pytest.raises(BuilderError, match="3 index prices for 2 markets"):
        build_block(state, 1, 1_000, [], [], signed((1, 2, 3), 1_000))
    assert state.block_number == 0  # nothing applied


def test_markets_take_turns_where_the_market_slots_do_not_hold_them_all() -> None:
    one = CONFIG.preset.with_overrides(market_slots=1)
    assert [get_pre_executed_markets(one, 3, n) for n in (1, 2, 3, 4)] == [[0], [1], [2], [0]]
    two = CONFIG.preset.with_overrides(market_slots=2)
    assert [get_pre_executed_markets(two, 3, n) for n in (1, 2, 3)] == [[0, 1], [0, 2], [1, 2]]
    assert get_pre_executed_markets(two, 2, 7) == [0, 1]  # all fit: every block
    assert get_pre_executed_markets(CONFIG.preset.with_overrides(market_slots=0), 2, 1) == []


def test_the_operator_gives_the_feeds_prices_signed_by_the_deployments_oracle() -> None:
    state = CONFIG.make_genesis()
    operator = SimpleNamespace(state=state, feed=ScriptedFeed(BASES), config=CONFIG)
    prices = Operator.get_index_prices(operator, 1_800)  # type: ignore[arg-type]
    assert prices == signed(ScriptedFeed(BASES).get_index_prices(1_800, BASES), 1_800)
    assert len(prices) == 2
    key = ORACLE.public_key
    assert all((m.params.oracle_x, m.params.oracle_y) == key for m in state.markets)


def test_each_deployment_has_its_own_oracle_key() -> None:
    other = RollupConfig(CONFIG.preset, CONFIG.chain_id + 1)
    assert other.oracle_key.public_key != ORACLE.public_key
    assert other.markets[0].params.oracle_x == other.oracle_key.public_key.x
    assert other.compute_genesis_root() != CONFIG.compute_genesis_root()
