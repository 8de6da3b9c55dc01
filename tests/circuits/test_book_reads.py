"""Pre-execution's book reads against the rules on the engine's own books (minimal preset, and
devnet once): the best order of a side (``OrderBook.best``), the impact price
(``compute_impact_price``), and the mark and premium (``compute_mark_price``,
``compute_premium``) built from four read-only paths; and each constraint alone refusing the
witness that names another order or claims another outcome."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.book_reads import (
    BookRead,
    compute_best_order,
    compute_impact,
    compute_mark,
    compute_premium,
    find_impact_order,
    read_book,
)
from circuits.gadgets.book_tree import OrderVars
from circuits.r1cs import Builder, ConstraintSystem, HintFn, LinearCombination
from protocol.book import OrderBook
from protocol.commitment import compute_quote_shift, update_state_root
from protocol.field import R
from protocol.funding import compute_impact_price, compute_mark_price
from protocol.funding import compute_premium as native_premium
from protocol.params import Preset
from protocol.types import RATE_SCALE
from tests.circuits.harness import Gadget, Run
from tests.circuits.test_book_tree import (
    FIELDS,
    hide_left_asks,
    leaf_fields,
    sibling_inputs,
    siblings_of,
    tree_of,
)
from tests.circuits.trading_samples import MID, PRESETS, failing, sample_book, side_in_priority
from tests.protocol.helpers import BTC, Env

Wires = list[LinearCombination]
# the minimal preset with a shallower tree (depth 18: prices around MID need 14 bits, and the
# books below at most 15 orders a side, 4 nonce bits), so that the many reads stay fast
MINIMAL = PRESETS["minimal"].with_overrides(price_bits=14, order_nonce_bits=4)
ABSENT_KEY = 0  # price 0: never an order's key; any key does for an absent side
_SHAPES: dict[tuple[object, ...], ConstraintSystem] = {}


def _build(
    gadget: Gadget, inputs: Sequence[int | None], overrides: Mapping[str, HintFn] | None
) -> tuple[ConstraintSystem, list[int] | None]:
    cs = Builder(witness=inputs[0] is not None, hint_overrides=overrides)
    wires = [cs.private(f"in{i}", v) for i, v in enumerate(inputs)]
    for i, out in enumerate(gadget(cs, wires)):
        cs.expose(f"out{i}", out)
    return cs.finalize()


def run_shaped(
    shape_key: tuple[object, ...],
    gadget: Gadget,
    inputs: Sequence[int],
    overrides: Mapping[str, HintFn] | None = None,
) -> Run:
    """``harness.run_gadget`` with the setup-mode build made once per ``shape_key``: every
    witness's system must still equal it (the gadget's shape never depends on values)."""
    shape = _SHAPES.get(shape_key)
    if shape is None:
        shape = _SHAPES[shape_key] = _build(gadget, [None] * len(inputs), None)[0]
    system, witness = _build(gadget, inputs, overrides)
    assert system == shape, "the gadget's shape depends on witness values"
    assert witness is not None
    return Run(system, witness)


def read_width(preset: Preset) -> int:
    # key, the leaf's fields, the siblings: 3 nodes a level of the 4-ary tree, 3 values a node
    return 1 + FIELDS + 3 * 3 * preset.order_tree_levels


def read(
    cs: Builder, root: LinearCombination, ins: Sequence[LinearCombination], p: Preset
) -> BookRead:
    key, fields, siblings = ins[0], ins[1 : 1 + FIELDS], ins[1 + FIELDS :]
    return read_book(cs, root, key, OrderVars(*fields), siblings_of(siblings), p)


def read_inputs(env: Env, key: int) -> list[int]:
    return [key, *leaf_fields(env, key), *sibling_inputs(env, key)]


def root_of(env: Env) -> int:
    return tree_of(env).root()[0]


def book_of(env: Env) -> OrderBook:
    return env.state.markets[BTC].book


# -- 1. best order -------------------------------------------------------------------------------


def best_gadget(preset: Preset, is_ask: bool) -> Gadget:
    """Inputs: root, then a read. Outputs ``(present, price)``."""

    def gadget(cs: Builder, ins: Wires) -> Wires:
        with cs.scope("read"):
            r = read(cs, ins[0], ins[1:], preset)
        return list(compute_best_order(cs, r, is_ask))

    return gadget


def run_best(
    env: Env, is_ask: bool, key: int | None = None, overrides: Mapping[str, HintFn] | None = None
) -> Run:
    if key is None:
        best = book_of(env).best(is_ask)
        key = ABSENT_KEY if best is None else best.key
    preset = env.state.preset
    inputs = [root_of(env), *read_inputs(env, key)]
    return run_shaped(("best", preset, is_ask), best_gadget(preset, is_ask), inputs, overrides)


def native_best(env: Env, is_ask: bool) -> list[int]:
    best = book_of(env).best(is_ask)
    return [0, 0] if best is None else [1, best.price]


def only_side(is_ask: bool, orders: int = 5, price_levels: int = 3) -> Env:
    """A book with orders on one side only."""
    env = Env(preset=MINIMAL)
    accounts = env.open_many(3, 10**12)
    for i in range(orders):
        offset = 1 + i % price_levels
        env.place(accounts[i % 3], BTC, is_ask, MID + offset if is_ask else MID - offset, 3 + i)
    update_state_root(env.state)
    return env


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32), orders=st.integers(1, 12), spread=st.integers(1, 4))
def test_the_best_order_of_each_side_is_the_books(seed: int, orders: int, spread: int) -> None:
    env = sample_book(MINIMAL, seed, orders=orders, spread=spread)
    for is_ask in (True, False):
        run = run_best(env, is_ask)
        run.check()
        price = run.outputs[1]
        assert [run.outputs[0], price if run.outputs[0] else 0] == native_best(env, is_ask)


@pytest.mark.parametrize("is_ask", [True, False])
def test_an_empty_side_is_absent_whatever_key_is_read(is_ask: bool) -> None:
    env = only_side(not is_ask)
    assert book_of(env).best(is_ask) is None
    other = side_in_priority(env, not is_ask)
    for key in (ABSENT_KEY, other[0].key, other[-1].key):
        run = run_best(env, is_ask, key)
        run.check()
        assert run.outputs[0] == 0


@pytest.mark.parametrize("is_ask", [True, False])
def test_every_order_but_the_best_is_refused(is_ask: bool) -> None:
    env = sample_book(MINIMAL, 17, orders=10, spread=2)
    side = side_in_priority(env, is_ask)
    scope = "best_ask" if is_ask else "best_bid"
    for rank, order in enumerate(side):
        expected = []
        if order.price != side[0].price:
            expected.append(f"{scope}/no_better_price")
        if rank and side[rank - 1].price == order.price:
            expected.append(f"{scope}/no_earlier_at_price")
        assert failing(run_best(env, is_ask, order.key)) == expected, rank


@pytest.mark.parametrize("is_ask", [True, False])
def test_the_empty_key_just_ahead_of_the_best_is_not_a_best_order(is_ask: bool) -> None:
    """Nothing of the side is ahead of it either: only its own empty leaf refuses it."""
    env = sample_book(MINIMAL, 5, orders=12)
    best = book_of(env).best(is_ask)
    assert best is not None
    ahead = best.key - 1 if is_ask else best.key + 1
    assert ahead not in book_of(env).orders
    scope = "best_ask" if is_ask else "best_bid"
    assert failing(run_best(env, is_ask, ahead)) == [f"{scope}/order_of_side_at_key"]


def test_a_bid_is_not_the_best_ask() -> None:
    """Every bid lies below every ask: nothing of the ask side is ahead of the best bid."""
    env = sample_book(MINIMAL, 5, orders=12)
    best_bid = book_of(env).best(False)
    assert best_bid is not None
    assert failing(run_best(env, True, best_bid.key)) == ["best_ask/order_of_side_at_key"]


@pytest.mark.parametrize("is_ask", [True, False])
def test_claiming_a_full_side_empty_is_refused(is_ask: bool) -> None:
    """A prover that hints a zero inverse makes ``present`` 0 for a non-empty side."""
    env = sample_book(MINIMAL, 5, orders=12)
    scope = "best_ask" if is_ask else "best_bid"
    cheat = {f"{scope}/is_zero/inverse": lambda lane: [0]}
    assert failing(run_best(env, is_ask, overrides=cheat)) == [
        f"{scope}/is_zero/x_times_out_is_zero"
    ]


# -- 2. impact price -----------------------------------------------------------------------------


def impact_gadget(preset: Preset, is_ask: bool) -> Gadget:
    """Inputs: root, notional, then a read. Outputs ``(present, impact)``."""

    def gadget(cs: Builder, ins: Wires) -> Wires:
        with cs.scope("read"):
            r = read(cs, ins[0], ins[2:], preset)
        return list(compute_impact(cs, r, is_ask, ins[1], preset))

    return gadget


def impact_key(env: Env, is_ask: bool, notional: int) -> int:
    order = find_impact_order(book_of(env), is_ask, notional)
    return ABSENT_KEY if order is None else order.key


def run_impact(
    env: Env,
    is_ask: bool,
    notional: int,
    key: int | None = None,
    overrides: Mapping[str, HintFn] | None = None,
) -> Run:
    key = impact_key(env, is_ask, notional) if key is None else key
    preset = env.state.preset
    inputs = [root_of(env), notional, *read_inputs(env, key)]
    gadget = impact_gadget(preset, is_ask)
    return run_shaped(("impact", preset, is_ask), gadget, inputs, overrides)


def native_impact(env: Env, is_ask: bool, notional: int) -> list[int]:
    impact = compute_impact_price(book_of(env), is_ask, notional)
    return [0, 0] if impact is None else [1, impact]


def cumulative_quotes(env: Env, is_ask: bool) -> list[int]:
    out, total = [], 0
    for order in side_in_priority(env, is_ask):
        total += order.price * order.remaining
        out.append(total)
    return out


def boundary_notionals(env: Env, is_ask: bool) -> list[int]:
    """1, exactly at and one past the first order's quote (the walk stops at the first, then
    the second order), and the whole side's (the last order, then absent)."""
    cums = cumulative_quotes(env, is_ask)
    return sorted({1, *(c + d for c in (cums[0], cums[-1]) for d in (0, 1))})


def check_impact(env: Env, is_ask: bool, notional: int) -> None:
    run = run_impact(env, is_ask, notional)
    run.check()
    assert run.outputs == native_impact(env, is_ask, notional), notional


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32), data=st.data())
def test_the_impact_price_is_the_rules(seed: int, data: st.DataObject) -> None:
    env = sample_book(MINIMAL, seed, orders=data.draw(st.integers(1, 14)), spread=3)
    for is_ask in (True, False):
        total = sum(o.price * o.remaining for o in side_in_priority(env, is_ask))
        check_impact(env, is_ask, data.draw(st.integers(1, total + 2)))


@pytest.mark.parametrize("is_ask", [True, False])
def test_the_impact_price_at_every_boundary_of_a_book(is_ask: bool) -> None:
    env = sample_book(MINIMAL, 31, orders=6, spread=2)
    for notional in boundary_notionals(env, is_ask):
        check_impact(env, is_ask, notional)


@pytest.mark.parametrize("is_ask", [True, False])
def test_the_impact_price_of_one_order_and_of_many_at_one_price(is_ask: bool) -> None:
    one = only_side(is_ask, orders=1)
    (quote,) = cumulative_quotes(one, is_ask)
    for notional in (quote, quote + 1):  # the whole order, then absent
        check_impact(one, is_ask, notional)
    level = only_side(is_ask, orders=4, price_levels=1)
    cums = cumulative_quotes(level, is_ask)
    for notional in (cums[1], cums[1] + 1, cums[2] - 1):  # the second order, then the third
        check_impact(level, is_ask, notional)


@pytest.mark.parametrize("is_ask", [True, False])
def test_an_empty_side_has_no_impact_price(is_ask: bool) -> None:
    env = only_side(not is_ask)
    other = side_in_priority(env, not is_ask)
    for key in (ABSENT_KEY, other[0].key):
        run = run_impact(env, is_ask, 1, key)
        run.check()
        assert run.outputs == [0, 0]


def test_the_best_ask_and_the_impact_bid_at_devnet_depth() -> None:
    env = sample_book(PRESETS["devnet"], 3, orders=10)
    run = run_best(env, True)
    run.check()
    assert run.outputs == native_best(env, True)
    cums = cumulative_quotes(env, False)
    check_impact(env, False, cums[len(cums) // 2])


@pytest.mark.parametrize("is_ask", [True, False])
def test_an_order_before_or_after_the_impact_order_is_refused(is_ask: bool) -> None:
    env = sample_book(MINIMAL, 37, orders=14, spread=3)
    side, cums = side_in_priority(env, is_ask), cumulative_quotes(env, is_ask)
    scope = "impact_ask" if is_ask else "impact_bid"
    at = len(side) // 2
    notional = cums[at]  # exactly reached by side[at]
    assert impact_key(env, is_ask, notional) == side[at].key
    before = failing(run_impact(env, is_ask, notional, side[at - 1].key))
    assert before and all(n.startswith(f"{scope}/reaches_notional/") for n in before)
    after = failing(run_impact(env, is_ask, notional, side[at + 1].key))
    assert after and all(n.startswith(f"{scope}/before_notional/") for n in after)


@pytest.mark.parametrize("is_ask", [True, False])
def test_an_empty_leaf_is_not_the_impact_order(is_ask: bool) -> None:
    """The empty key just behind the impact order has its quote ahead, the same as the order's
    own; without its lane it could claim the notional reached there."""
    env = sample_book(MINIMAL, 37, orders=14, spread=3)
    side, cums = side_in_priority(env, is_ask), cumulative_quotes(env, is_ask)
    notional = cums[0]
    behind = side[0].key + 1 if is_ask else side[0].key - 1
    assert behind not in book_of(env).orders
    scope = "impact_ask" if is_ask else "impact_bid"
    assert f"{scope}/order_of_side_at_key" in failing(run_impact(env, is_ask, notional, behind))


@pytest.mark.parametrize("is_ask", [True, False])
def test_claiming_a_deep_side_thin_or_a_thin_side_deep_is_refused(is_ask: bool) -> None:
    env = sample_book(MINIMAL, 41, orders=12)
    total = cumulative_quotes(env, is_ask)[-1]
    scope = "impact_ask" if is_ask else "impact_bid"
    hint = f"{scope}/less_than/to_bits/bits"
    count = compute_quote_shift(MINIMAL) + 1  # less_than's n + 1 bits

    def flipped(value: int) -> list[int]:  # the bits with the top (the "not less") one flipped
        bits = [(value >> i) & 1 for i in range(count)]
        return [*bits[:-1], 1 - bits[-1]]

    for notional in (total, total + 1):  # present, then absent
        run = run_impact(env, is_ask, notional, overrides={hint: flipped})
        assert f"{scope}/less_than/to_bits/bits_sum" in failing(run), notional


@pytest.mark.parametrize("is_ask", [True, False])
def test_a_wrong_lot_count_is_refused(is_ask: bool) -> None:
    env = sample_book(MINIMAL, 43, orders=12)
    notional = cumulative_quotes(env, is_ask)[2] - 1
    scope = "impact_ask" if is_ask else "impact_bid"
    hint = f"{scope}/lots/div_rem/quotient_remainder"
    for delta in (-1, 1):

        def cheat(a: int, b: int, d: int = delta) -> list[int]:
            q = a // b + d
            return [q, (a - q * b) % R]

        names = failing(run_impact(env, is_ask, notional, overrides={hint: cheat}))
        assert names and all(n.startswith(f"{scope}/lots/div_rem/") for n in names), names


@pytest.mark.parametrize("is_ask", [True, False])
def test_a_wrong_average_is_refused(is_ask: bool) -> None:
    env = sample_book(MINIMAL, 43, orders=12)
    notional = cumulative_quotes(env, is_ask)[2] - 1
    scope = "impact_ask" if is_ask else "impact_bid"
    for delta in (-1, 1):

        def cheat(a: int, b: int, d: int = delta) -> list[int]:
            q = a // b + d
            return [q, (a - q * b) % R]

        overrides = {f"{scope}/average/div_rem/quotient_remainder": cheat}
        names = failing(run_impact(env, is_ask, notional, overrides=overrides))
        assert names and all(n.startswith(f"{scope}/average/div_rem/") for n in names), names


def test_lanes_ahead_unpacked_with_a_borrowed_lot_are_refused() -> None:
    """``base - 1, quote + 2^Q`` packs to the same lane: the quote's range refuses it."""
    env = sample_book(MINIMAL, 43, orders=12)
    q = compute_quote_shift(MINIMAL)

    def cheat(lane: int) -> list[int]:
        return [(lane >> q) - 1, (lane & ((1 << q) - 1)) + (1 << q)]

    notional = cumulative_quotes(env, True)[2] - 1
    names = failing(
        run_impact(env, True, notional, overrides={"impact_ask/before/base_quote": cheat})
    )
    assert names[0] == "impact_ask/before/quote/range/bits_sum"


def test_hiding_the_better_asks_in_a_sibling_lane_changes_the_root() -> None:
    env = sample_book(MINIMAL, 11, orders=16)
    side = side_in_priority(env, True)
    order = next(o for o in side if o.price != side[0].price)
    inputs = [root_of(env), *read_inputs(env, order.key)]
    siblings = inputs[2 + FIELDS :]
    hide_left_asks(order.key, siblings)  # the left sibling that holds the better asks
    preset = env.state.preset
    run = run_shaped(
        ("best", preset, True), best_gadget(preset, True), [*inputs[: 2 + FIELDS], *siblings]
    )
    assert failing(run) == ["read/root_matches"]


# -- 3. mark and premium from the two impact reads ------------------------------------------


def market_gadget(preset: Preset) -> Gadget:
    """Inputs: root, index, notional, then two reads: the impact bid's and the impact ask's.
    Outputs the mark and the premium (both from the impact prices: PROTOCOL 7.6)."""
    width = read_width(preset)

    def gadget(cs: Builder, ins: Wires) -> Wires:
        root, index, notional = ins[:3]
        reads = []
        for i, name in enumerate(("impact_bid", "impact_ask")):
            with cs.scope(f"read_{name}"):
                reads.append(read(cs, root, ins[3 + i * width : 3 + (i + 1) * width], preset))
        impact_bid = compute_impact(cs, reads[0], False, notional, preset)
        impact_ask = compute_impact(cs, reads[1], True, notional, preset)
        mark = compute_mark(cs, index, impact_bid, impact_ask, preset)
        return [mark, compute_premium(cs, index, impact_bid, impact_ask, preset)]

    return gadget


def run_market(env: Env) -> Run:
    market = env.state.markets[BTC]
    notional = market.params.impact_notional
    keys = [impact_key(env, s, notional) for s in (False, True)]
    inputs = [root_of(env), market.data.index_price, notional]
    for key in keys:
        inputs += read_inputs(env, key)
    preset = env.state.preset
    return run_shaped(("market", preset), market_gadget(preset), inputs)


def with_index_and_notional(env: Env, index: int, notional: int) -> Env:
    market = env.state.markets[BTC]
    market.data.index_price = index
    market.params = replace(market.params, impact_notional=notional)
    return env


def check_market(env: Env) -> None:
    run = run_market(env)
    run.check()
    market = env.state.markets[BTC]
    assert run.outputs == [compute_mark_price(market), native_premium(market) % R]


@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**32), data=st.data())
def test_the_mark_and_premium_are_the_rules(seed: int, data: st.DataObject) -> None:
    env = sample_book(MINIMAL, seed, orders=data.draw(st.integers(0, 14)), spread=3)
    total = max([1, *(sum(cumulative_quotes(env, s)[-1:]) for s in (True, False))])
    index = data.draw(st.integers(MID - 8, MID + 8))
    check_market(with_index_and_notional(env, index, data.draw(st.integers(1, total + 1))))


# index inside the spread (premium 0), below the bids (positive), above the asks (negative),
# and one-sided or empty books; a notional some sides reach and others don't
MARKET_CASES: list[tuple[str, Callable[[], Env], int, int, int]] = [
    ("inside", lambda: sample_book(MINIMAL, 47, orders=12), MID, 60_000, 0),
    ("below_bids", lambda: sample_book(MINIMAL, 47, orders=12), MID - 20, 1, 1),
    ("above_asks", lambda: sample_book(MINIMAL, 47, orders=12), MID + 20, 150_000, -1),
    ("asks_only", lambda: only_side(True), MID - 3, 60_000, 0),
    ("bids_only", lambda: only_side(False), MID + 3, 20_000, 0),
    ("empty", lambda: only_side(True, orders=0), MID, 1, 0),
]


@pytest.mark.parametrize(
    ("make", "index", "notional", "sign"),
    [c[1:] for c in MARKET_CASES],
    ids=[c[0] for c in MARKET_CASES],
)
def test_mark_and_premium_cases(
    make: Callable[[], Env], index: int, notional: int, sign: int
) -> None:
    env = with_index_and_notional(make(), index, notional)
    premium = native_premium(env.state.markets[BTC])
    assert (premium > 0) - (premium < 0) == sign
    check_market(env)


# -- mark and premium alone: a cheating prover's hints ---------------------------------------


def pricing_gadget(preset: Preset) -> Gadget:
    """Inputs: index, then (present, price) of the impact bid and the impact ask. Outputs the
    mark and the premium."""

    def gadget(cs: Builder, ins: Wires) -> Wires:
        index, bid, ask = ins[0], (ins[1], ins[2]), (ins[3], ins[4])
        mark = compute_mark(cs, index, bid, ask, preset)
        return [mark, compute_premium(cs, index, bid, ask, preset)]

    return gadget


def flip_top_bit(count: int) -> HintFn:
    """A ``less_than`` bits hint that reports the other outcome."""

    def hint(value: int) -> list[int]:
        bits = [(value >> i) & 1 for i in range(count)]
        return [*bits[:-1], 1 - bits[-1]]

    return hint


# index MID; impact bid MID + 7, impact ask MID + 9: the mark is the impact bid
PRICING_INPUTS = [MID, 1, MID + 7, 1, MID + 9]
PRICING_HONEST = [MID + 7, 7 * RATE_SCALE // MID]


def run_pricing(overrides: Mapping[str, HintFn] | None = None) -> Run:
    return run_shaped(("pricing", MINIMAL), pricing_gadget(MINIMAL), PRICING_INPUTS, overrides)


def test_the_mark_and_premium_of_given_prices() -> None:
    run = run_pricing()
    run.check()
    assert run.outputs == PRICING_HONEST


@pytest.mark.parametrize(
    "comparison",
    [
        "mark/median/a_below_b",
        "mark/median/max_below_c",
        "mark/median/min_below_rest",
        "premium/bid_above",
        "premium/ask_below",
        "premium/negative",
    ],
)
def test_a_comparison_reported_the_other_way_is_refused(comparison: str) -> None:
    hint = {f"{comparison}/less_than/to_bits/bits": flip_top_bit(MINIMAL.price_bits + 1)}
    names = failing(run_pricing(hint))  # the first, or the only one: a flipped sign also
    assert names[0] == f"{comparison}/less_than/to_bits/bits_sum"  # breaks a range downstream


@pytest.mark.parametrize("delta", [-1, 1])
def test_a_premium_off_by_one_is_refused(delta: int) -> None:
    def cheat(a: int, b: int) -> list[int]:
        q = a // b + delta
        return [q, (a - q * b) % R]

    names = failing(run_pricing({"premium/div_rem/quotient_remainder": cheat}))
    assert names and all(n.startswith("premium/div_rem/") for n in names), names
