"""The order-book tree gadgets against the engine's own books (``protocol.book_tree`` as
``protocol.commitment`` fills it), at the minimal and devnet depths: roots and sums equal the
native tree's, the best maker and a non-crossing remainder are accepted, and each priority
constraint alone refuses the cheat it is there for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.book_tree import (
    BookNodeVars,
    OrderVars,
    alloc_path,
    assert_best_maker,
    assert_no_crossing,
    assert_root,
    compute_book_root,
    compute_liquidity,
    compute_node,
    compute_order_node,
    get_level_nodes,
    pack_node,
    update_book_leaf,
)
from circuits.r1cs import Builder, LinearCombination
from protocol import book_tree as native
from protocol.book import Order
from protocol.book_tree import OrderBookTree
from protocol.commitment import compute_order_leaf, update_state_root
from tests.circuits.harness import Gadget, Run, run_gadget
from tests.circuits.trading_samples import (
    MID,
    PRESETS,
    failing,
    quote_shift,
    sample_book,
    side_in_priority,
)
from tests.protocol.helpers import BTC, Env

Wires = list[LinearCombination]
FIELDS = 5  # account, remaining, is_ask, reduce_only, expiry


def siblings_of(ins: Sequence[LinearCombination]) -> list[BookNodeVars]:
    return [BookNodeVars(*ins[i : i + 3]) for i in range(0, len(ins), 3)]


def hide_left_asks(key: int, siblings: list[int]) -> None:
    """Zeroes, in a path's flat sibling inputs (hash, ask, bid a node), the ask lanes of the
    lowest binary level whose left sibling (key bit 1) holds asks: "no asks there"."""
    for level in range(2 * len(siblings) // 9):
        nodes = get_level_nodes(level)
        if key >> level & 1 and any(siblings[3 * n + 1] for n in nodes):
            for n in nodes:
                siblings[3 * n + 1] = 0
            return
    raise AssertionError("no left sibling holds asks")


def move_left_asks_right(key: int, siblings: list[int]) -> bool:
    """Moves, in a path's flat sibling inputs, the ask lanes of a level's siblings on the left of
    the path (smaller keys) to a sibling of the same level on its right, every level's total kept:
    "the better asks are behind". False where no level has asks on its left and a right
    sibling."""
    for level in range(len(siblings) // 9):
        digit = key >> 2 * level & 3
        partner, pair = [3 * level], [3 * level + 1, 3 * level + 2]
        left = (partner if digit & 1 else []) + (pair if digit & 2 else [])
        right = [n for n in partner + pair if n not in left]
        moved = sum(siblings[3 * n + 1] for n in left)
        if right and moved:
            for n in left:
                siblings[3 * n + 1] = 0
            siblings[3 * right[0] + 1] += moved
            return True
    return False


def order_vars(ins: Sequence[LinearCombination]) -> OrderVars:
    return OrderVars(*ins[:FIELDS])


def update_gadget(env: Env, best: bool) -> Gadget:
    """Inputs: root, key, the leaf's order fields, the new remaining, the siblings. Updates the
    leaf (an order of the same side, or an order into an empty leaf) and, with ``best``,
    proves the order is the best maker. Outputs the new root node."""
    nonce_bits, q = env.state.preset.order_nonce_bits, quote_shift(env)

    def gadget(cs: Builder, ins: Wires) -> Wires:
        root, key, fields, new_remaining = ins[0], ins[1], ins[2 : 2 + FIELDS], ins[2 + FIELDS]
        path = alloc_path(cs, key, siblings_of(ins[3 + FIELDS :]), nonce_bits)
        before = order_vars(fields)
        with cs.scope("before"):
            old = compute_order_node(cs, before, path.price, q)
        with cs.scope("after"):
            new = compute_order_node(cs, replace(before, remaining=new_remaining), path.price, q)
        old_root, new_root = update_book_leaf(cs, path, old, new)
        assert_root(cs, old_root, root, "old_root_matches")
        if best:
            assert_best_maker(cs, compute_liquidity(cs, path), before.is_ask)
        return [new_root.hash, new_root.ask, new_root.bid]

    return gadget


def crossing_gadget(env: Env) -> Gadget:
    """Inputs: root, taker is_ask, limit, key, the leaf's order fields there, the siblings.
    Proves that no opposite order crosses the limit."""
    nonce_bits, q = env.state.preset.order_nonce_bits, quote_shift(env)

    def gadget(cs: Builder, ins: Wires) -> Wires:
        root, taker_is_ask, limit, key = ins[:4]
        path = alloc_path(cs, key, siblings_of(ins[4 + FIELDS :]), nonce_bits)
        leaf = compute_order_node(cs, order_vars(ins[4 : 4 + FIELDS]), path.price, q)
        assert_root(cs, compute_book_root(cs, leaf, path), root, "root_matches")
        assert_no_crossing(cs, path, compute_liquidity(cs, path), leaf, taker_is_ask, limit)
        return []

    return gadget


def tree_of(env: Env) -> OrderBookTree:
    trees = env.state.trees
    assert trees is not None
    return trees.get_order_tree(BTC)


def leaf_fields(env: Env, key: int) -> list[int]:
    order = env.state.markets[BTC].book.orders.get(key)
    if order is None:
        return [0] * FIELDS
    flags = (order.is_ask, order.reduce_only)
    return [order.account, order.remaining, *map(int, flags), order.expiry]


def sibling_inputs(env: Env, key: int) -> list[int]:
    q = quote_shift(env)
    return [v for node in tree_of(env).proof(key).siblings for v in pack_node(node, q)]


def update_inputs(env: Env, key: int, fields: list[int], new_remaining: int) -> list[int]:
    root = tree_of(env).root()[0]
    return [root, key, *fields, new_remaining, *sibling_inputs(env, key)]


def run_fill_path(env: Env, maker: Order, new_remaining: int) -> Run:
    inputs = update_inputs(env, maker.key, leaf_fields(env, maker.key), new_remaining)
    return run_gadget(update_gadget(env, best=True), inputs)


def run_crossing(env: Env, taker_is_ask: bool, limit: int, key: int) -> Run:
    root = tree_of(env).root()[0]
    inputs = [root, int(taker_is_ask), limit, key, *leaf_fields(env, key)]
    return run_gadget(crossing_gadget(env), [*inputs, *sibling_inputs(env, key)])


def native_root_after(env: Env, key: int, order: Order | None) -> list[int]:
    """The native tree's packed root after writing ``order`` (None: empty) at ``key``."""
    tree = tree_of(env)
    if order is None or order.remaining == 0:
        tree.set(key, 0, (0, 0, 0, 0))
    else:
        quote = order.price * order.remaining
        side = (order.remaining, quote)
        sums = (*side, 0, 0) if order.is_ask else (0, 0, *side)
        tree.set(key, compute_order_leaf(order), sums)
    return list(pack_node(tree.root(), quote_shift(env)))


PRESET_NAMES = ["minimal", "devnet"]


# -- gadget == native ------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESET_NAMES)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32), data=st.data())
def test_a_fill_of_the_best_maker_updates_the_root_as_the_tree_does(
    preset: str, seed: int, data: st.DataObject
) -> None:
    env = sample_book(PRESETS[preset], seed, orders=12)
    maker = side_in_priority(env, data.draw(st.booleans()))[0]
    new_remaining = data.draw(st.integers(0, maker.remaining - 1))
    run = run_fill_path(env, maker, new_remaining)
    run.check()
    after = replace(maker, remaining=new_remaining)
    assert run.outputs == native_root_after(env, maker.key, after)


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize("is_ask", [True, False])
def test_a_resting_order_enters_its_empty_leaf_as_the_tree_does(preset: str, is_ask: bool) -> None:
    env = sample_book(PRESETS[preset], 5, orders=10)
    book = env.state.markets[BTC].book
    price = MID + 10 if is_ask else MID - 10  # a new level, crossing nothing
    key = book.compute_key(price, book.get_next_nonce(is_ask))
    order = Order(BTC, key, price, 4, is_ask, 17, False, 0)
    fields = [4, 0, int(is_ask), 0, 0]  # the empty leaf's fields: remaining 0
    run = run_gadget(update_gadget(env, best=False), update_inputs(env, key, fields, 17))
    run.check()
    assert run.outputs == native_root_after(env, key, order)


def test_the_lanes_of_every_node_are_the_native_sums() -> None:
    env = sample_book(PRESETS["minimal"], 9, orders=16)
    q = quote_shift(env)
    _, ab, aq, bb, bq = tree_of(env).root()
    asks = side_in_priority(env, True)
    assert ab == sum(o.remaining for o in asks)
    assert aq == sum(o.price * o.remaining for o in asks)
    assert pack_node(tree_of(env).root(), q)[1] == ab * 2**q + aq
    assert bb and bq


# -- price-time priority ------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize("is_ask", [True, False])
def test_a_maker_behind_a_better_price_is_refused(preset: str, is_ask: bool) -> None:
    env = sample_book(PRESETS[preset], 11, orders=20)
    side = side_in_priority(env, is_ask)
    maker = next(o for o in side if o.price != side[0].price)  # first of the second level
    run = run_fill_path(env, maker, maker.remaining - 1)
    assert failing(run) == ["priority/no_better_price"]


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize("is_ask", [True, False])
def test_a_maker_behind_an_earlier_order_at_its_price_is_refused(preset: str, is_ask: bool) -> None:
    env = sample_book(PRESETS[preset], 13, orders=20, spread=2)
    side = side_in_priority(env, is_ask)
    assert side[1].price == side[0].price  # two orders at the best price
    run = run_fill_path(env, side[1], 0)
    assert failing(run) == ["priority/no_earlier_at_price"]


def test_every_later_maker_is_refused_and_only_the_first_accepted() -> None:
    env = sample_book(PRESETS["minimal"], 17, orders=16, spread=3)
    for is_ask in (True, False):
        side = side_in_priority(env, is_ask)
        for rank, maker in enumerate(side):
            expected = []
            if maker.price != side[0].price:
                expected.append("priority/no_better_price")
            if rank and side[rank - 1].price == maker.price:
                expected.append("priority/no_earlier_at_price")
            assert failing(run_fill_path(env, maker, 0)) == expected, (is_ask, rank)


def test_hiding_a_better_maker_in_a_sibling_lane_changes_the_root() -> None:
    env = sample_book(PRESETS["minimal"], 11, orders=20)
    side = side_in_priority(env, True)
    maker = next(o for o in side if o.price != side[0].price)
    inputs = update_inputs(env, maker.key, leaf_fields(env, maker.key), 0)
    siblings = inputs[3 + FIELDS :]
    hide_left_asks(maker.key, siblings)  # claim the left sibling holding the better ask is empty
    run = run_gadget(update_gadget(env, best=True), [*inputs[: 3 + FIELDS], *siblings])
    assert failing(run) == ["old_root_matches"]


def test_moving_a_better_makers_lanes_to_another_sibling_of_its_level_changes_the_root() -> None:
    """A node hashes each pair of its children's lanes, not only their total: else a prover
    could move the better asks from a sibling on the path's left to one on its right, keeping
    every hash, and prove a maker behind them best."""
    env = sample_book(PRESETS["minimal"], 11, orders=20)
    tried = 0
    for maker in side_in_priority(env, True)[1:]:
        inputs = update_inputs(env, maker.key, leaf_fields(env, maker.key), 0)
        siblings = inputs[3 + FIELDS :]
        if not move_left_asks_right(maker.key, siblings):
            continue
        tried += 1
        run = run_gadget(update_gadget(env, best=True), [*inputs[: 3 + FIELDS], *siblings])
        assert "old_root_matches" in failing(run), maker  # the priority checks may fail too
    assert tried >= 3


def test_a_leaf_written_with_a_negative_side_flag_is_refused() -> None:
    """``is_ask = -1, reduce_only = 1`` packs to the flags of an ask, and its ask lane would be
    minus the order's: a leaf that cancels another order's liquidity out of every sum above."""
    env = sample_book(PRESETS["minimal"], 3, orders=10)
    book = env.state.markets[BTC].book
    key = book.compute_key(MID + 10, book.get_next_nonce(True))
    fields = [4, 0, -1, 1, 0]
    run = run_gadget(update_gadget(env, best=False), update_inputs(env, key, fields, 17))
    assert failing(run) == ["before/order_leaf/is_ask_boolean", "after/order_leaf/is_ask_boolean"]


# -- no crossing liquidity -----------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize("is_ask", [True, False])
def test_a_remainder_that_crosses_nothing_is_accepted(preset: str, is_ask: bool) -> None:
    env = sample_book(PRESETS[preset], 19, orders=16)
    book = env.state.markets[BTC].book
    best = book.best(not is_ask)
    assert best is not None
    limit = best.price + 1 if is_ask else best.price - 1  # one tick short of crossing
    key = book.compute_key(limit, book.get_next_nonce(is_ask))  # its own (empty) key
    run_crossing(env, is_ask, limit, key).check()


@pytest.mark.parametrize("is_ask", [True, False])
def test_any_key_at_the_limit_proves_it_occupied_or_not(is_ask: bool) -> None:
    """A cancelled remainder has no key of its own: the leaf of the best order of its own side
    (occupied) or any other nonce at that price does as well."""
    env = sample_book(PRESETS["minimal"], 19, orders=16)
    book = env.state.markets[BTC].book
    own_best = side_in_priority(env, is_ask)[0]
    limit = own_best.price  # the book is not crossed, so the own side's best crosses nothing
    for key in (own_best.key, book.compute_key(limit, 0), book.compute_key(limit, 77)):
        run_crossing(env, is_ask, limit, key).check()


@pytest.mark.parametrize("is_ask", [True, False])
def test_the_crossing_order_in_the_leaf_itself_is_seen(is_ask: bool) -> None:
    """The cheat proves "no crossing" on the very leaf of the opposite best order, the only
    order at its price: every sibling is clean, the leaf's own lane is what refuses."""
    env = Env(preset=PRESETS["minimal"])
    accounts = env.open_many(2, 10**12)
    for offset in (1, 2):
        env.place(accounts[0], BTC, True, MID + offset, 5)
        env.place(accounts[1], BTC, False, MID - offset, 5)
    update_state_root(env.state)
    best = side_in_priority(env, not is_ask)[0]
    assert failing(run_crossing(env, is_ask, best.price, best.key)) == ["crossing/no_crossing"]


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize("is_ask", [True, False])
@pytest.mark.parametrize("depth_into_book", [0, 1])
def test_a_remainder_that_still_crosses_is_refused(
    preset: str, is_ask: bool, depth_into_book: int
) -> None:
    env = sample_book(PRESETS[preset], 23, orders=16)
    book = env.state.markets[BTC].book
    opposite = [o.price for o in side_in_priority(env, not is_ask)]
    limit = sorted(set(opposite), reverse=is_ask)[depth_into_book]  # at the best, or past it
    key = book.compute_key(limit, book.get_next_nonce(is_ask))
    assert failing(run_crossing(env, is_ask, limit, key)) == ["crossing/no_crossing"]


def test_an_ask_above_the_bid_takers_own_key_at_its_price_is_seen() -> None:
    """Ask and bid nonces are separate counters: with 2 nonce bits (even: the tree is 4-ary),
    three asks take nonces 0..2 and two bids 3..2, so a bid taker's next key ``L ‖ 1`` lies
    below an ask at ``L ‖ 2``. The empty leaf at the taker's own key alone would miss it."""
    env = Env(preset=PRESETS["minimal"].with_overrides(order_nonce_bits=2))
    accounts = env.open_many(3, 10**12)
    for i in range(2):
        env.place(accounts[i % 3], BTC, False, MID - 1 - i, 5)
    for i in range(3):
        env.place(accounts[i % 3], BTC, True, MID + 2 - i, 5)  # the cheapest ask comes last
    update_state_root(env.state)
    book = env.state.markets[BTC].book
    best_ask = book.best(True)
    assert best_ask is not None and best_ask.key == book.compute_key(MID, 2)
    key = book.compute_key(MID, book.get_next_nonce(False))
    assert key == book.compute_key(MID, 1) < best_ask.key
    assert failing(run_crossing(env, False, MID, key)) == ["crossing/no_crossing"]


def test_a_key_at_another_price_than_the_limit_is_refused() -> None:
    env = sample_book(PRESETS["minimal"], 29, orders=16)
    book = env.state.markets[BTC].book
    best = book.best(True)
    assert best is not None
    # a bid at the best ask would cross; the cheat proves no crossing at one tick below
    key = book.compute_key(best.price - 1, book.get_next_nonce(False))
    assert failing(run_crossing(env, False, best.price, key)) == ["crossing/key_at_limit"]


def node_gadget(cs: Builder, ins: Wires) -> Wires:
    """Inputs: four children (hash, ask lane, bid lane). Outputs their parent."""
    node = compute_node(cs, siblings_of(ins))
    return [node.hash, node.ask, node.bid]


@settings(max_examples=5, deadline=None)
@given(st.lists(st.integers(0, 1 << 40), min_size=20, max_size=20))
def test_a_node_of_four_children_is_the_rules(values: list[int]) -> None:
    """``compute_node`` == ``protocol.book_tree.compute_node``: ``hash8`` of the four
    children and each pair's packed sums (the 4-ary tree, PROTOCOL 6.5)."""
    q = 60
    children = [(values[5 * i], *values[5 * i + 1 : 5 * i + 5]) for i in range(4)]
    c0, c1, c2, c3 = ((c[0], c[1], c[2] % (1 << 20), c[3], c[4] % (1 << 20)) for c in children)
    expected = pack_node(native.compute_node((c0, c1, c2, c3), q), q)
    inputs = [v for c in (c0, c1, c2, c3) for v in pack_node(c, q)]
    run = run_gadget(node_gadget, inputs)
    run.check()
    assert run.outputs == list(expected)
    swapped = [*inputs[3:6], *inputs[:3], *inputs[6:]]  # two children in the other order
    assert run_gadget(node_gadget, swapped).outputs[0] != expected[0] or c0[0] == c1[0]
