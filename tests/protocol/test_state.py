"""The journal: nested savepoints, and a rejected operation restoring the book exactly,
orders back in their place within their level and levels back in the price list."""

from __future__ import annotations

import contextlib

from protocol.errors import TooManyOpenOrders
from protocol.events import TakerDone
from protocol.journal import Journal
from protocol.ops.create_order import CreateOrder
from tests.protocol.helpers import BTC, PRESET, Env, assert_rejected

BUY, SELL = False, True


class _Undo(Exception):
    """Rolls a savepoint back on purpose."""


def test_savepoints_nest() -> None:
    journal = Journal()
    book: dict[str, int] = {"a": 1}
    levels = [1, 2, 3]
    journal.begin()
    journal.set_item(book, "b", 2)
    journal.begin()
    journal.del_item(book, "a")
    journal.list_delete(levels, 1)
    journal.rollback()
    assert book == {"a": 1, "b": 2} and levels == [1, 2, 3]
    journal.begin()
    journal.list_insert(levels, 0, 0)
    journal.commit()
    assert levels == [0, 1, 2, 3] and journal.depth == 1
    journal.rollback()
    assert book == {"a": 1} and levels == [1, 2, 3] and journal.entries == []


def test_a_rolled_back_fill_restores_the_maker_in_place() -> None:
    env = Env()
    env.open_many(3, 10**9)
    env.place(3, BTC, SELL, 10_000, 1)  # M1: the whole level at 10,000
    env.place(4, BTC, SELL, 10_001, 1)
    env.place(4, BTC, SELL, 10_001, 2)
    book = env.state.markets[BTC].book
    keys = [o.key for o in book.iter_side(SELL)]
    before = env.snapshot()
    # buys 2 at 10,000: fills M1 (the level disappears), then the savepoint is rolled back
    with contextlib.suppress(_Undo), env.state.transaction():
        env.run(env.order(5, BTC, BUY, 10_000, 2))
        assert book.ask_prices == [10_001] and env.state.pending is not None
        raise _Undo
    assert [o.key for o in book.iter_side(SELL)] == keys
    assert book.ask_prices == [10_000, 10_001]
    assert env.snapshot() == before


def test_a_taker_that_cannot_rest_after_a_fill_ends_in_its_claim() -> None:
    env = Env()
    env.open_many(3, 10**9)
    env.place(3, BTC, SELL, 10_000, 1)
    for i in range(PRESET.max_open_orders_per_account):  # the taker has no room to rest
        env.place(5, BTC, BUY, 9_000 + i, 1)
    # the first step fills 1 and leaves the taker pending; its claim cannot rest the remainder
    events = env.run_with_claims(env.order(5, BTC, BUY, 10_000, 2))
    assert [type(e).__name__ for e in events][-1] == "TakerDone"
    done = events[-1]
    assert isinstance(done, TakerDone) and done.outcome == "TooManyOpenOrders"
    assert env.state.pending is None and env.state.markets[BTC].book.ask_prices == []


def test_a_first_step_that_cannot_rest_rejects_the_order() -> None:
    env = Env()
    env.open_many(3, 10**9)
    for i in range(PRESET.max_open_orders_per_account):
        env.place(5, BTC, BUY, 9_000 + i, 1)
    op: CreateOrder = env.order(5, BTC, BUY, 10_000, 2)  # nothing crosses: it would rest
    assert_rejected(env, op, TooManyOpenOrders)
