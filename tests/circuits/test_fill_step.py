"""The book gadgets and the fill gadget composed into one filling step, against the engine: a
taker crosses the book, the engine fills its best maker, and the circuit, from the tree before
and the maker's path alone, proves the maker the best, checks the fill and reaches the engine's
order-tree root after the step. A rehearsal of the heavy slot's book part (docs/PROTOCOL.md
8.C, "Trading slots")."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.book_tree import (
    alloc_path,
    assert_best_maker,
    assert_root,
    compute_liquidity,
    compute_order_node,
    pack_node,
    update_book_leaf,
)
from circuits.gadgets.matching import MakerVars, TakerVars, compute_fill
from circuits.r1cs import Builder, LinearCombination
from protocol.commitment import update_state_root
from protocol.events import Trade
from protocol.params import Preset
from tests.circuits.harness import Gadget, run_gadget
from tests.circuits.test_book_tree import (
    FIELDS,
    leaf_fields,
    order_vars,
    sibling_inputs,
    siblings_of,
    tree_of,
)
from tests.circuits.trading_samples import PRESETS, failing, quote_shift, sample_book
from tests.protocol.helpers import BTC, Env

Wires = list[LinearCombination]
TAKER = 9
HEAD = 2 + FIELDS + 3 + 2 + 2  # root, key, maker fields, taker, fee rates, price and size


def fill_step_gadget(env: Env) -> Gadget:
    preset: Preset = env.state.preset
    nonce_bits, q = preset.order_nonce_bits, quote_shift(env)

    def gadget(cs: Builder, ins: Wires) -> Wires:
        root, key = ins[0], ins[1]
        maker_order = order_vars(ins[2 : 2 + FIELDS])
        taker = TakerVars(*ins[2 + FIELDS : 5 + FIELDS])
        rates, (price, size) = ins[5 + FIELDS : 7 + FIELDS], ins[7 + FIELDS : HEAD]
        path = alloc_path(cs, key, siblings_of(ins[HEAD:]), nonce_bits)
        maker = MakerVars(maker_order.is_ask, path.price, maker_order.remaining)
        fill = compute_fill(cs, preset, taker, maker, (rates[0], rates[1]), price, size)
        with cs.scope("before"):
            old = compute_order_node(cs, maker_order, path.price, q)
        after = replace(maker_order, remaining=fill.maker_remaining)
        with cs.scope("after"):
            new = compute_order_node(cs, after, path.price, q)
        old_root, new_root = update_book_leaf(cs, path, old, new)
        assert_root(cs, old_root, root, "old_root_matches")
        assert_best_maker(cs, compute_liquidity(cs, path), maker_order.is_ask)
        return [new_root.hash, new_root.ask, new_root.bid, fill.taker_fee, fill.maker_fee]

    return gadget


@pytest.mark.parametrize("preset", ["minimal", "devnet"])
@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**32), data=st.data())
def test_a_fill_step_reaches_the_engines_root(preset: str, seed: int, data: st.DataObject) -> None:
    env = sample_book(PRESETS[preset], seed, orders=12)
    env.open(TAKER, 10**12)
    taker_is_ask = data.draw(st.booleans())
    book = env.state.markets[BTC].book
    maker = book.best(not taker_is_ask)
    assert maker is not None
    limit = maker.price - 3 if taker_is_ask else maker.price + 3
    size = data.draw(st.integers(1, maker.remaining))  # filled by this maker alone
    params = env.state.markets[BTC].params
    key, fields, root = maker.key, leaf_fields(env, maker.key), tree_of(env).root()[0]
    siblings = sibling_inputs(env, key)

    events = env.run(env.order(TAKER, BTC, taker_is_ask, limit, size))
    (trade,) = [e for e in events if isinstance(e, Trade)]
    update_state_root(env.state)

    taker = [int(taker_is_ask), limit, size]
    claimed = [trade.price, trade.size]
    inputs = [root, key, *fields, *taker, params.taker_fee, params.maker_fee, *claimed, *siblings]
    run = run_gadget(fill_step_gadget(env), inputs)
    run.check()
    after = list(pack_node(tree_of(env).root(), quote_shift(env)))
    assert run.outputs == [*after, trade.taker_fee, trade.maker_fee]

    inputs[HEAD - 2] = trade.price + (1 if taker_is_ask else -1)  # a better price than the maker's
    assert failing(run_gadget(fill_step_gadget(env), inputs)) == ["fill/at_makers_price"]
