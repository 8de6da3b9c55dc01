"""The market slot (``circuits/ops/pre_execution.py``) against ``process_pre_execution``: a
small circuit of one market slot over the running market fields and book root of an engine
state; its new market data and its record equal the rules' (noop, every sampling and funding
branch, thin, one-sided and empty books; minimal and devnet widths), and each constraint it
adds alone refuses a witness that breaks it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.block import MarketWitness
from circuits.gadgets.book_tree import pack_node
from circuits.gadgets.commitment import MarketVars, hash_market_params
from circuits.ops.common import MARKET_DATA, MARKET_PARAMS, BlockVars
from circuits.ops.pre_execution import (
    DATA,
    MARK,
    PARAM,
    PRICE_TIME,
    READ_DATA,
    READ_PARAMS,
    SAMPLES_BITS,
    MarketSlotWitness,
    ReadWitness,
    compute_record,
    define_market_slot,
)
from circuits.r1cs import Builder, ConstraintSystem, HintFn
from protocol.book_tree import empty_nodes
from protocol.commitment import compute_quote_shift, update_state_root
from protocol.errors import (
    AmountOutOfRange,
    InvalidOracleSignature,
    PriceMoveTooLarge,
    StalePrice,
)
from protocol.field import R
from protocol.ops.pre_execution import (
    PreExecution,
    compute_pre_execution_record,
    process_pre_execution,
)
from protocol.oracle import sign_price
from protocol.params import PRICE_AGE_BITS, PRICE_MOVE_BITS, Preset
from protocol.types import RATE_SCALE
from tests.circuits.harness import Run
from tests.circuits.trading_samples import MID, PRESETS, failing, sample_book
from tests.protocol.helpers import BTC, CHAIN_ID, ETH, ORACLE, Env, key_of

# shallow order trees (as test_book_reads): prices around MID need 14 bits, 4 nonce bits
MINIMAL = PRESETS["minimal"].with_overrides(price_bits=14, order_nonce_bits=4)
DEVNET = PRESETS["devnet"]
RATE_BITS = RATE_SCALE.bit_length()
_SHAPES: dict[Preset, ConstraintSystem] = {}
Inputs = tuple[int, int, list[list[int]], MarketSlotWitness | None]


# -- the harness ---------------------------------------------------------------------------------


def _define(cs: Builder, preset: Preset, inputs: Inputs | None) -> None:
    """Private inputs: the timestamp, the book root and every market's leaf fields (as
    ``circuits.block``'s header allocates them); then one market slot. Public outputs: the
    record's 64 bytes, then every market's data fields after it."""
    ts = cs.private("timestamp", None if inputs is None else inputs[0])
    book_root = cs.private("book_root", None if inputs is None else inputs[1])
    markets = []
    names = ("exists", *MARKET_PARAMS, *MARKET_DATA)
    for m in range(preset.max_markets):
        values = None if inputs is None else inputs[2][m]
        exists, *fields = (
            cs.private(f"market{m}_{n}", None if values is None else values[i])
            for i, n in enumerate(names)
        )
        params = tuple(fields[: len(MARKET_PARAMS)])
        with cs.scope(f"market{m}"):
            markets.append(
                MarketVars(
                    exists,
                    params,
                    tuple(fields[len(MARKET_PARAMS) :]),
                    hash_market_params(cs, params),
                )
            )
    running = BlockVars(book_root, tuple(markets))
    record, after = define_market_slot(
        cs, preset, CHAIN_ID, ts, running, None if inputs is None else inputs[3]
    )
    for k, byte in enumerate(record.bytes):
        cs.expose(f"byte{k}", byte)
    for m, market in enumerate(after.markets):
        for name, value in zip(MARKET_DATA, market.data, strict=True):
            cs.expose(f"market{m}_{name}", value)


def _build(preset: Preset, inputs: Inputs | None) -> tuple[ConstraintSystem, list[int] | None]:
    """The slot's system built whole (and its witness, given inputs)."""
    cs = Builder(witness=inputs is not None)
    _define(cs, preset, inputs)
    return cs.finalize()


def get_shape(preset: Preset) -> ConstraintSystem:
    """The slot's system, built once a preset (setup mode)."""
    shape = _SHAPES.get(preset)
    if shape is None:
        shape = _SHAPES[preset] = _build(preset, None)[0]
    return shape


def run_slot(preset: Preset, inputs: Inputs, overrides: Mapping[str, HintFn] | None = None) -> Run:
    """The witness of ``inputs`` (a prover's hints where ``overrides`` says) on the slot's
    system, by the values-only path (the whole build is the same: test_the_values_only_witness_
    is_the_whole_builds)."""
    cs = Builder(witness=True, hint_overrides=overrides, values_only=True)
    _define(cs, preset, inputs)
    return Run(get_shape(preset), cs.witness_values())


def market_values(env: Env) -> list[list[int]]:
    state = env.state
    return [
        MarketWitness.of(state.markets[m] if m < len(state.markets) else None).values()
        for m in range(state.preset.max_markets)
    ]


def data_values(env: Env) -> list[int]:
    return [v for values in market_values(env) for v in values[1 + len(MARKET_PARAMS) :]]


def inputs_of(env: Env, w: MarketSlotWitness) -> Inputs:
    update_state_root(env.state)
    assert env.state.trees is not None
    return (env.state.timestamp, env.state.trees.books.root(), market_values(env), w)


def check_pre_execution(env: Env, market: int, index: int) -> Run:
    """The circuit's record and market data after the slot are the rules'."""
    op = env.signed_price(market, index)
    w = MarketSlotWitness.of(env.state, op)
    run = run_slot(env.state.preset, inputs_of(env, w))
    run.check()
    events = process_pre_execution(env.state, op)
    record = compute_pre_execution_record(op, events)
    assert w.record == record
    assert run.outputs == [*record, *data_values(env)]
    return run


def check_noop(env: Env) -> None:
    run = run_slot(env.state.preset, inputs_of(env, MarketSlotWitness.of(env.state, None)))
    run.check()
    assert run.outputs == [0] * 64 + data_values(env)


def set_data(env: Env, market: int, **values: int) -> None:
    m = env.state.markets[market]
    with env.state.transaction():
        for name, value in values.items():
            env.state.set_market_data(m, name, value)


def set_params(env: Env, market: int, **values: int) -> None:
    m = env.state.markets[market]
    m.params = replace(m.params, **values)


def book_env(seed: int = 47, orders: int = 12, preset: Preset = MINIMAL) -> Env:
    return sample_book(preset, seed, orders=orders)


def only_side(is_ask: bool, orders: int) -> Env:
    env = Env(preset=MINIMAL)
    accounts = env.open_many(3, 10**12)
    for i in range(orders):
        price = MID + 1 + i % 3 if is_ask else MID - 1 - i % 3
        env.place(accounts[i % 3], BTC, is_ask, price, 30 + i)
    return env


# -- against the rules ---------------------------------------------------------------------------


def test_a_noop_changes_nothing() -> None:
    env = book_env()
    check_noop(env)
    set_data(env, ETH, premium_sum=-5, premium_samples=3, funding_index=-77)
    check_noop(env)


def test_no_sample_and_no_funding_within_a_minute() -> None:
    env = book_env()
    process_pre_execution(env.state, env.signed_price(BTC, MID))  # minute 16 sampled
    check_pre_execution(env, BTC, MID + 9)  # the same minute: only index and mark


@pytest.mark.parametrize("seconds", [600, 59 * 60, 3 * 3600 + 5], ids=["w10", "w59", "capped"])
def test_a_sample_weighted_by_the_minutes_elapsed(seconds: int) -> None:
    env = book_env()
    process_pre_execution(env.state, env.signed_price(BTC, MID))
    env.next_block(env.state.timestamp + seconds)
    check_pre_execution(env, BTC, MID - 13)


@pytest.mark.parametrize("hours", [1, 5])
@pytest.mark.parametrize("index", [MID - 20, MID + 20], ids=["premium_up", "premium_down"])
def test_funding_over_hours(hours: int, index: int) -> None:
    env = book_env()
    process_pre_execution(env.state, env.signed_price(BTC, MID))
    set_data(env, BTC, funding_index=123_456, funding_rate=-9, last_funding_hour=1)
    env.next_block(3600 * (1 + hours) + 7)
    check_pre_execution(env, BTC, index)
    assert env.state.markets[BTC].data.funding_index != 123_456


def test_the_first_funding_charges_no_hours_and_starts_the_clock() -> None:
    env = book_env()  # last_funding_hour 0: never
    set_data(env, BTC, funding_index=123_456)
    env.next_block(5 * 3600 + 7)
    check_pre_execution(env, BTC, MID + 20)
    data = env.state.markets[BTC].data
    assert (data.funding_index, data.last_funding_hour) == (123_456, 5)


# rates: (premium sum, samples, interest rate, clamp, cap): inside the clamp, clamped by it
# both ways, capped both ways, and no samples (the interest rate alone)
RATE_CASES = {
    "inside": (3_000 * 8 * 10, 10, 1_250, 6_250, 4_000_000),
    "clamp_up": (-(10**6), 7, 1_250, 6_250, 4_000_000),
    "clamp_down": (10**6, 7, 1_250, 6_250, 4_000_000),
    "cap_up": (10**9, 1, 0, 10**8, 3_000_000),
    "cap_down": (-(10**9), 1, 0, 10**8, 3_000_000),
    "zero_interest": (0, 5, 0, 1_000, 4_000_000),
}


@pytest.mark.parametrize("case", list(RATE_CASES), ids=list(RATE_CASES))
def test_the_funding_rate_branches(case: str) -> None:
    premium_sum, samples, interest, clamp, cap = RATE_CASES[case]
    env = book_env()
    set_params(env, BTC, interest_rate=interest, interest_clamp=clamp, funding_cap=cap)
    env.next_block(3600 + 1800)
    minute = env.state.timestamp // 60
    # the last sample this minute: the rate comes from these sums alone
    set_data(env, BTC, premium_sum=premium_sum, premium_samples=samples, last_sample_minute=minute)
    check_pre_execution(env, BTC, MID)


def test_zero_samples_take_the_interest_rate() -> None:
    env = book_env()
    env.next_block(7200)
    set_data(env, BTC, last_sample_minute=env.state.timestamp // 60)
    check_pre_execution(env, BTC, MID + 3)


@pytest.mark.parametrize("is_ask", [True, False])
def test_one_sided_books(is_ask: bool) -> None:
    env = only_side(is_ask, 6)
    env.next_block(3600)
    check_pre_execution(env, BTC, MID + (-30 if is_ask else 30))


def test_an_empty_book_and_a_side_too_thin() -> None:
    env = only_side(True, 0)
    env.next_block(3600)
    check_pre_execution(env, BTC, MID)
    thin = book_env(orders=4)
    set_params(thin, BTC, impact_notional=10**12)
    thin.next_block(3660)
    check_pre_execution(thin, BTC, MID + 1)


@settings(max_examples=3, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    orders=st.integers(0, 14),
    index=st.integers(MID - 40, MID + 40),
    notional=st.integers(1, 400_000),
    seconds=st.integers(0, 3 * 3600),
    market=st.sampled_from([BTC, ETH]),
)
def test_random_books_and_clocks(
    seed: int, orders: int, index: int, notional: int, seconds: int, market: int
) -> None:
    env = sample_book(MINIMAL, seed, orders=orders, spread=3)
    set_params(env, BTC, impact_notional=notional)
    process_pre_execution(env.state, env.signed_price(BTC, MID))
    env.next_block(env.state.timestamp + seconds)
    check_pre_execution(env, market, index if market == BTC else 1_000)


def test_devnet_widths() -> None:
    env = book_env(seed=3, orders=10, preset=DEVNET)
    process_pre_execution(env.state, env.signed_price(BTC, MID))
    env.next_block(2 * 3600 + 120)
    check_pre_execution(env, BTC, MID + 15)
    print(f"\nconstraints per market slot, devnet: {constraint_count(DEVNET)}")


def test_the_minimal_presets_own_widths() -> None:
    """The tests above shorten the order tree (14 price bits, 4 nonce bits); once at minimal's."""
    env = book_env(seed=5, orders=8, preset=PRESETS["minimal"])
    env.next_block(3600 + 90)
    check_pre_execution(env, BTC, MID - 7)


def constraint_count(preset: Preset) -> int:
    """The market slot's own constraints (not the harness's parameter hashes and outputs)."""
    shape = get_shape(preset)
    harness = re.compile(r"^market\d+/|_is_public$")
    return sum(1 for c in shape.constraints if not harness.search(c.name))


def test_the_values_only_witness_is_the_whole_builds() -> None:
    """For a pre-execution and a noop, the whole build in witness mode has the shape the tests
    run on (it does not depend on the values) and the values of the values-only path."""
    env = book_env()
    env.next_block(3600 + 90)
    for op in (env.signed_price(BTC, MID + 5), None):
        inputs = inputs_of(env, MarketSlotWitness.of(env.state, op))
        system, witness = _build(MINIMAL, inputs)
        run = run_slot(MINIMAL, inputs)
        assert system == run.system and witness == run.witness
        run.check()
    print(f"\nconstraints per market slot, minimal: {constraint_count(PRESETS['minimal'])}")


def test_the_witness_of_a_pre_execution_leaves_the_state_unchanged() -> None:
    env = book_env()
    before = data_values(env)
    MarketSlotWitness.of(env.state, env.signed_price(BTC, MID + 5))
    assert data_values(env) == before


# -- tampering -----------------------------------------------------------------------------------


def honest(env: Env, index: int = MID + 5, market: int = BTC) -> Inputs:
    return inputs_of(env, MarketSlotWitness.of(env.state, env.signed_price(market, index)))


def with_record(inputs: Inputs, edit: Callable[[bytearray], None]) -> Inputs:
    w = inputs[3]
    assert w is not None
    record = bytearray(w.record)
    edit(record)
    return (*inputs[:3], replace(w, record=bytes(record)))


def with_market(inputs: Inputs, market: int, field: str, value: int) -> Inputs:
    values = [list(v) for v in inputs[2]]
    position = (
        0
        if field == "exists"
        else 1 + (PARAM[field] if field in PARAM else len(MARKET_PARAMS) + DATA[field])
    )
    values[market][position] = value % R
    return (inputs[0], inputs[1], values, inputs[3])


def only(run: Run, scope: str) -> None:
    names = failing(run)
    assert names and all(n == scope or n.startswith(scope + "/") for n in names), names


def test_a_noop_record_with_a_field_set_is_refused() -> None:
    env = book_env()
    inputs = inputs_of(env, MarketSlotWitness.noop(MINIMAL))

    def edit(record: bytearray) -> None:
        record[sum(PRICE_TIME) - 1] = 7  # the price time's last byte (the others: checked too)

    only(run_slot(MINIMAL, with_record(inputs, edit)), "record/noop_record_is_zero")


def test_an_absent_market_is_refused() -> None:
    run = run_slot(MINIMAL, with_market(honest(book_env()), BTC, "exists", 0))
    only(run, "market/exists0")


def test_a_book_leaf_not_in_the_running_book_is_refused() -> None:
    inputs = honest(book_env())
    run = run_slot(MINIMAL, (inputs[0], inputs[1] + 1, *inputs[2:]))
    assert failing(run) == ["book/book_root_matches"]


def test_an_index_at_two_to_the_price_width_is_refused() -> None:
    """``2^price_bits`` itself passes the premium's division (its remainder and ``index - rem
    - 1`` fit ``price_bits``): only the index's own check refuses it."""
    env = book_env()
    index = 1 << MINIMAL.price_bits
    inputs = honest(env, index=MID + 1)
    op = env.signed_price(BTC, index)  # the oracle signs it: only the width is wrong
    record = compute_record(env.state.markets[BTC], op)

    def edit(r: bytearray) -> None:
        r[:] = record

    tampered = with_record(inputs, edit)
    assert tampered[3] is not None and op.signature is not None
    tampered = (*tampered[:3], replace(tampered[3], signature=op.signature))
    assert failing(run_slot(MINIMAL, tampered)) == ["index_in_range"]


def test_a_record_mark_other_than_the_mark_is_refused() -> None:
    inputs = honest(book_env())

    def edit(record: bytearray) -> None:
        record[sum(MARK) - 1] ^= 1  # the mark's last byte

    assert failing(run_slot(MINIMAL, with_record(inputs, edit))) == ["record_mark_is_mark"]


def test_an_index_of_zero_is_refused() -> None:
    inputs = honest(book_env())

    def edit(record: bytearray) -> None:
        record[3:7] = bytes(4)

    names = failing(run_slot(MINIMAL, with_record(inputs, edit)))
    assert "premium/div_rem/remainder_lt_divisor/range/bits_sum" in names, names


# -- oracle prices (PROTOCOL 8.23): each refusal at its named constraint ----------------------


def oracle_env(max_price_move: int = 100_000) -> Env:
    env = book_env()
    set_params(env, BTC, max_price_move=max_price_move)
    env.next_block(env.state.timestamp + 600)
    return env


def slot_of(env: Env, op: PreExecution) -> Run:
    return run_slot(MINIMAL, inputs_of(env, MarketSlotWitness.of(env.state, op)))


SIGNATURE_EQUATION = [f"oracle/signature/eddsa/s_g_is_r_plus_c_a_{xy}" for xy in "xy"]


def test_an_unsigned_price_is_refused() -> None:
    env = oracle_env()
    run = slot_of(env, replace(env.signed_price(BTC, MID + 5), signature=None))
    assert failing(run) == SIGNATURE_EQUATION


def test_a_price_signed_by_another_key_is_refused() -> None:
    env = oracle_env()
    now = env.state.timestamp
    other = sign_price(key_of(3), CHAIN_ID, BTC, MID + 5, now)  # a trader's key
    run = slot_of(env, PreExecution(BTC, MID + 5, now, other))
    assert failing(run) == SIGNATURE_EQUATION


def test_a_signature_of_another_price_market_time_or_chain_is_refused() -> None:
    env = oracle_env()
    now, good = env.state.timestamp, env.signed_price(BTC, MID + 5)
    for op in (
        replace(good, index_price=MID + 6),
        replace(good, price_timestamp=now - 1),
        replace(env.signed_price(ETH, MID + 5), market=BTC),
        replace(good, signature=sign_price(ORACLE, CHAIN_ID + 1, BTC, MID + 5, now)),
    ):
        assert failing(slot_of(env, op)) == SIGNATURE_EQUATION


def test_a_market_without_an_oracle_key_is_refused_at_the_key() -> None:
    env = oracle_env()
    set_params(env, BTC, oracle_x=0, oracle_y=0)
    names = failing(slot_of(env, env.signed_price(BTC, MID + 5)))
    assert names[0].startswith("oracle/signature/eddsa/public_key/"), names


def test_a_stale_price_is_refused() -> None:
    env = oracle_env()
    age = env.state.markets[BTC].params.max_price_age
    slot_of(env, env.signed_price(BTC, MID + 5, env.state.timestamp - age)).check()  # the limit
    run = slot_of(env, env.signed_price(BTC, MID + 5, env.state.timestamp - age - 1))
    only(run, "oracle/price_not_stale")


def test_a_price_from_the_future_is_refused() -> None:
    env = oracle_env()
    run = slot_of(env, env.signed_price(BTC, MID + 5, env.state.timestamp + 1))
    only(run, "oracle/price_not_from_the_future")


@pytest.mark.parametrize("up", [True, False], ids=["up", "down"])
def test_a_price_moved_too_far_is_refused(up: bool) -> None:
    env = oracle_env()
    index = env.state.markets[BTC].data.index_price
    limit = index + index // 10 if up else index - index // 10  # exactly 10 %: allowed
    assert index % 10 == 0
    check_pre_execution(oracle_env(), BTC, limit)
    run = slot_of(env, env.signed_price(BTC, limit + (1 if up else -1)))
    only(run, f"oracle/price_move_{'up' if up else 'down'}_within_bound")


@settings(max_examples=12, deadline=None)
@given(
    delta=st.integers(-1_000, 1_000),
    age=st.integers(-3, 70),
    signer=st.sampled_from(["oracle", "other", "none"]),
)
def test_the_circuit_refuses_exactly_the_prices_the_rules_refuse(
    delta: int, age: int, signer: str
) -> None:
    """The differential of the oracle checks: a random price, age and signer; the slot's
    witness satisfies the system exactly when ``process_pre_execution`` (signatures on)
    accepts, and then its record and market data are the rules'."""
    env = oracle_env(max_price_move=50_000)
    env.state.config = replace(env.state.config, check_signatures=True)
    now = env.state.timestamp
    op = env.signed_price(BTC, MID + delta, now - age)
    if signer == "other":
        op = replace(op, signature=sign_price(key_of(3), CHAIN_ID, BTC, MID + delta, now - age))
    elif signer == "none":
        op = replace(op, signature=None)
    w = MarketSlotWitness.of(env.state, op)
    run = run_slot(MINIMAL, inputs_of(env, w))
    try:
        events = process_pre_execution(env.state, op)
    except (InvalidOracleSignature, StalePrice, PriceMoveTooLarge):
        assert failing(run)
        return
    run.check()
    assert w.record == compute_pre_execution_record(op, events)
    assert run.outputs == [*w.record, *data_values(env)]


# a field out of the width the circuit assumes: (field, value, the check that refuses it)
WIDTH_CASES = [
    ("interest_rate", 1 << RATE_BITS, "widths/interest_rate_in_range"),
    ("interest_clamp", 1 << RATE_BITS, "widths/interest_clamp_in_range"),
    ("funding_cap", 1 << RATE_BITS, "widths/funding_cap_in_range"),
    ("impact_notional", 1 << compute_quote_shift(MINIMAL), "widths/notional_in_range"),
    ("premium_samples", 1 << SAMPLES_BITS, "widths/premium_samples_in_range"),
    (
        "premium_sum",
        1 << (MINIMAL.price_bits + RATE_BITS + SAMPLES_BITS),
        "widths/premium_sum_in_range",
    ),
    ("last_sample_minute", 1 << MINIMAL.timestamp_bits, "widths/last_sample_minute_in_range"),
    ("last_funding_hour", 1 << MINIMAL.timestamp_bits, "widths/last_funding_hour_in_range"),
    ("index_price", 1 << MINIMAL.price_bits, "widths/index_price_in_range"),
    ("max_price_age", 1 << PRICE_AGE_BITS, "widths/max_price_age_in_range"),
    ("max_price_move", 1 << PRICE_MOVE_BITS, "widths/max_price_move_in_range"),
]


@pytest.mark.parametrize(("field", "value", "scope"), WIDTH_CASES, ids=[c[0] for c in WIDTH_CASES])
def test_a_field_out_of_its_width_is_refused(field: str, value: int, scope: str) -> None:
    env = book_env()
    env.next_block(3600 + 60)  # hour 1, minute 61: both clocks compare as they should
    if field in PARAM:  # the record's mark is the one at that notional
        set_params(env, BTC, **{field: value})
    run = run_slot(MINIMAL, with_market(honest(env), BTC, field, value))
    only(run, scope)


def test_a_funding_index_out_of_range_before_is_refused() -> None:
    """Funding due at a negative rate brings it back in range: only the old value's check."""
    env = book_env()
    set_params(env, BTC, interest_rate=0, interest_clamp=0)
    set_data(env, BTC, premium_sum=-(10**9), premium_samples=1, last_funding_hour=1)
    env.next_block(2 * 3600)
    inputs = honest(env, index=MID)
    bits = MINIMAL.funding_index_bits
    only(
        run_slot(MINIMAL, with_market(inputs, BTC, "funding_index", 1 << bits)),
        "widths/funding_index_in_range",
    )


def test_a_funding_index_leaving_its_range_is_refused_as_the_rules_do() -> None:
    env = book_env()
    bits = MINIMAL.funding_index_bits
    set_data(env, BTC, funding_index=(1 << bits) - 1, last_funding_hour=1)
    env.next_block(3 * 3600)
    op = env.signed_price(BTC, MID)
    w = MarketSlotWitness.of(env.state, op)
    with pytest.raises(AmountOutOfRange):
        process_pre_execution(env.state, op)
    only(run_slot(MINIMAL, inputs_of(env, w)), "funding/index_in_range")


def flip_top_bit(count: int) -> HintFn:
    def hint(value: int) -> list[int]:
        bits = [(value >> i) & 1 for i in range(count)]
        return [*bits[:-1], 1 - bits[-1]]

    return hint


def off_by(delta: int) -> HintFn:
    def cheat(a: int, b: int) -> list[int]:
        q = a // b + delta
        return [q, (a - q * b) % R]

    return cheat


def funding_inputs() -> Inputs:
    env = book_env()
    set_data(env, BTC, premium_sum=-3_333_333, premium_samples=7)
    env.next_block(3600 + 120)
    return honest(env, index=MID - 20)


@pytest.mark.parametrize(
    ("comparison", "bits"),
    [
        ("sample/due", MINIMAL.timestamp_bits + 1),
        ("sample/capped", MINIMAL.timestamp_bits + 1),
        ("funding/due", MINIMAL.timestamp_bits + 1),
    ],
)
def test_a_clock_comparison_reported_the_other_way_is_refused(comparison: str, bits: int) -> None:
    hint = {f"{comparison}/less_than/to_bits/bits": flip_top_bit(bits)}
    names = failing(run_slot(MINIMAL, funding_inputs(), hint))
    assert names[0] == f"{comparison}/less_than/to_bits/bits_sum", names


SUM_BITS = MINIMAL.price_bits + RATE_BITS + SAMPLES_BITS + 1  # the sums after a sample


@pytest.mark.parametrize(
    ("comparison", "bits"),
    [
        ("funding/rate/interest_clamp/above", SUM_BITS + 3),
        ("funding/rate/interest_clamp/below", SUM_BITS + 3),
        ("funding/rate/cap/above", SUM_BITS + 3),
        ("funding/rate/cap/below", SUM_BITS + 3),
        ("funding/rate/average/toward_zero", SUM_BITS + 2),
        ("funding/rate/eighth/toward_zero", SUM_BITS + 2),
        ("funding/increment/toward_zero", RATE_BITS + MINIMAL.price_bits + 3),
    ],
)
def test_a_signed_comparison_reported_the_other_way_is_refused(comparison: str, bits: int) -> None:
    hint = {f"{comparison}/less_than/to_bits/bits": flip_top_bit(bits)}
    names = failing(run_slot(MINIMAL, funding_inputs(), hint))
    assert names[0] == f"{comparison}/less_than/to_bits/bits_sum", names


@pytest.mark.parametrize(
    "division",
    [
        "clock/minute",
        "clock/hour",
        "funding/rate/average/toward_zero",
        "funding/rate/eighth/toward_zero",
        "funding/increment/toward_zero",
    ],
)
@pytest.mark.parametrize("delta", [-1, 1])
def test_a_quotient_off_by_one_is_refused(division: str, delta: int) -> None:
    hint = {f"{division}/div_rem/quotient_remainder": off_by(delta)}
    names = failing(run_slot(MINIMAL, funding_inputs(), hint))
    assert names and all(n.startswith(f"{division}/div_rem/") for n in names), names


def test_the_empty_read_of_a_noop_is_the_empty_tree() -> None:
    nodes = empty_nodes(MINIMAL.order_tree_levels)  # 3 siblings a level, all empty
    shift = compute_quote_shift(MINIMAL)
    w = MarketSlotWitness.noop(MINIMAL)
    assert w.impact_bid.siblings == tuple(pack_node(n, shift) for n in nodes[:-1] for _ in "pqr")
    assert w.book_leaf[0] == nodes[-1][0]


@pytest.mark.parametrize("is_ask", [True, False])
def test_an_impact_read_of_another_order_is_refused(is_ask: bool) -> None:
    """The reads are ``book_reads``' (tested there); here: bound to the market's order root,
    a read of the best order instead of the impact order is refused by the impact walk."""
    env = book_env()
    inputs = honest(env)
    w = inputs[3]
    assert w is not None
    best = env.state.markets[BTC].book.best(is_ask)
    assert best is not None
    other = ReadWitness.of(env.state, BTC, best.key)
    name = "impact_ask" if is_ask else "impact_bid"
    assert other != getattr(w, name)
    tampered = replace(w, impact_ask=other) if is_ask else replace(w, impact_bid=other)
    names = failing(run_slot(MINIMAL, (*inputs[:3], tampered)))
    assert names[0].startswith(f"{name}/reaches_notional/"), names  # then the mark differs


def test_a_read_of_another_book_is_refused() -> None:
    """The ETH book's read under BTC's book leaf: its path does not reach the order root."""
    env = book_env()
    inputs = honest(env)
    w = inputs[3]
    assert w is not None
    foreign = ReadWitness.empty(MINIMAL)
    names = failing(run_slot(MINIMAL, (*inputs[:3], replace(w, impact_ask=foreign))))
    assert names[0] == "read_impact_ask/root_matches", names


# the market slot's own products (each defines a wire): a prover's other value for the wire is
# refused by its product first
PRODUCTS = [
    "market/selected0",
    *(f"picked/{name}0" for name in (*READ_PARAMS, *READ_DATA)),
    "sample/due/if_pre",
    "sample/elapsed",
    "sample/weighted_premium",
    "funding/due/if_pre",
    "funding/hours",
    "funding/charged_hours",
    "funding/rate/sum_if_samples",
    "funding/rate/average/toward_zero/magnitude",
    "funding/rate/average/toward_zero/sign",
    "funding/rate_times_mark",
    "funding/index_change",
    "oracle/signature/message",
    "oracle/signature/key_x",
    "oracle/signature/key_y",
    "oracle/price_not_stale/age_if_pre",
    "oracle/move_bound",
    "reset/premium_sum",
    "reset/premium_samples",
    *(
        f"write/{name}0"
        for name in MARKET_DATA
        if name not in ("open_interest", "trigger_nonce", "adl_round")
    ),
]


def test_a_product_wire_changed_is_refused_by_its_product() -> None:
    run = run_slot(MINIMAL, funding_inputs())
    run.check()
    for name in PRODUCTS:
        wire = run.output_wire_of(name)
        names = failing(run.with_wire(wire, (run.witness[wire] + 1) % R))
        assert names[0] == name, (name, names)


@pytest.mark.parametrize("name", ["record/is_pre_boolean", "record/byte3_bit0_boolean"])
def test_a_record_wire_that_is_not_a_bit_is_refused_first_by_its_check(name: str) -> None:
    """``is_pre`` or a record bit of 2 (the type byte 46, or a byte of 2 in a bit's place):
    refused by the wire's boolean check first (what follows from it breaks later)."""
    run = run_slot(MINIMAL, funding_inputs())
    con = next(c for c in run.system.constraints if c.name == name)
    (wire,) = con.a
    assert failing(run.with_wire(wire, 2))[0] == name
