"""Order mutators: resting, cutting and removing orders and trigger orders, keeping the
account's order index and open-order count, and marking tree leaves dirty.

Cancel all is lazy (PROTOCOL 7.1): it moves the account's cancel epoch on and zeroes its count,
touching no book. An order or trigger order records its owner's epoch when it rests and is
**live** while that is still the owner's; a dead one stays in its tree until a matching step
meets it (``remove_dead_order``: no count to decrement) and is refused to cancel and modify."""

from __future__ import annotations

from protocol.accounts import Account
from protocol.book import Order
from protocol.errors import AmountOutOfRange, TooManyOpenOrders
from protocol.events import (
    AllOrdersCancelled,
    Event,
    OrderCancelled,
    OrderRested,
    TriggerPlaced,
    TriggerRemoved,
)
from protocol.markets import Market, TriggerOrder
from protocol.state import State

BOOK, TRIGGER = 0, 1  # first element of an account's order-index key
DEAD = "cancel-all"  # the reason a dead order leaves its book or trigger list


def is_live(state: State, order: Order | TriggerOrder) -> bool:
    """An order (or trigger order) rested in its owner's current cancel epoch."""
    return order.epoch == state.accounts[order.account].cancel_epoch


def add_open_order(
    state: State, account: Account, ref: tuple[int, int, int], order: object
) -> None:
    if account.open_orders >= state.preset.max_open_orders_per_account:
        raise TooManyOpenOrders(f"account {account.index} has {account.open_orders} open orders")
    state.journal.set_item(account.orders, ref, order)
    state.set_open_orders(account, account.open_orders + 1)


def drop_open_order(state: State, account: Account, ref: tuple[int, int, int]) -> None:
    state.journal.del_item(account.orders, ref)
    state.set_open_orders(account, account.open_orders - 1)


def rest_order(
    state: State,
    market: Market,
    account: Account,
    is_ask: bool,
    price: int,
    size: int,
    reduce_only: bool,
    expiry: int,
    out: list[Event],
) -> Order:
    """Puts a new order on the book behind every earlier order at its price."""
    book = market.book
    key = book.compute_key(price, book.get_next_nonce(is_ask))
    order = Order(
        market.index,
        key,
        price,
        account.index,
        is_ask,
        size,
        reduce_only,
        expiry,
        account.cancel_epoch,
    )
    add_open_order(state, account, (BOOK, market.index, key), order)
    book.insert(order, state.journal)
    state.dirty.orders.add((market.index, key))
    out.append(OrderRested(market.index, key, account.index, is_ask, price, size))
    return order


def remove_order(state: State, market: Market, order: Order) -> None:
    """Takes an order off the book (fully filled or cancelled)."""
    market.book.remove(order, state.journal)
    drop_open_order(state, state.accounts[order.account], (BOOK, market.index, order.key))
    state.dirty.orders.add((market.index, order.key))


def cancel_order(state: State, market: Market, order: Order, reason: str, out: list[Event]) -> None:
    remove_order(state, market, order)
    out.append(OrderCancelled(market.index, order.key, order.account, order.remaining, reason))


def remove_dead_order(state: State, market: Market, order: Order, out: list[Event]) -> None:
    """Takes a dead order off the book (a matching step met it): its owner's cancel-all
    already dropped it from the account's count and index."""
    market.book.remove(order, state.journal)
    state.dirty.orders.add((market.index, order.key))
    out.append(OrderCancelled(market.index, order.key, order.account, order.remaining, DEAD))


def set_order_remaining(state: State, market: Market, order: Order, remaining: int) -> None:
    """A partial fill or a size cut: the order keeps its place."""
    market.book.set_remaining(order, remaining, state.journal)
    state.dirty.orders.add((market.index, order.key))


def add_trigger(
    state: State, market: Market, account: Account, trigger: TriggerOrder, out: list[Event]
) -> None:
    add_open_order(state, account, (TRIGGER, market.index, trigger.trigger_id), trigger)
    state.journal.set_item(market.triggers, trigger.trigger_id, trigger)
    state.set_market_data(market, "trigger_nonce", trigger.trigger_id + 1)
    state.dirty.triggers.add((market.index, trigger.trigger_id))
    out.append(
        TriggerPlaced(
            market.index,
            trigger.trigger_id,
            account.index,
            trigger.is_ask,
            trigger.size,
            trigger.trigger_price,
        )
    )


def remove_trigger(
    state: State, market: Market, trigger: TriggerOrder, reason: str, out: list[Event]
) -> None:
    state.journal.del_item(market.triggers, trigger.trigger_id)
    drop_open_order(
        state, state.accounts[trigger.account], (TRIGGER, market.index, trigger.trigger_id)
    )
    state.dirty.triggers.add((market.index, trigger.trigger_id))
    out.append(TriggerRemoved(market.index, trigger.trigger_id, trigger.account, reason))


def remove_dead_trigger(
    state: State, market: Market, trigger: TriggerOrder, out: list[Event]
) -> None:
    """Takes a dead trigger order off its list (it was due to fire): as ``remove_dead_order``."""
    state.journal.del_item(market.triggers, trigger.trigger_id)
    state.dirty.triggers.add((market.index, trigger.trigger_id))
    out.append(TriggerRemoved(market.index, trigger.trigger_id, trigger.account, DEAD))


def is_cancel_epoch_spent(state: State, account: Account) -> bool:
    """The epoch cannot move on: it would leave ``account_nonce_bits`` (the leaf's bound)."""
    return account.cancel_epoch + 1 >= 1 << state.preset.account_nonce_bits


def cancel_all(state: State, account: Account, reason: str, out: list[Event]) -> None:
    """Cancel all, lazily: every order of the account dies at once (its cancel epoch moves on)
    and its count drops to 0; no book changes (PROTOCOL 7.1)."""
    if is_cancel_epoch_spent(state, account):
        raise AmountOutOfRange(f"account {account.index}: cancel epochs exhausted")
    cancelled = account.open_orders
    state.set_account_field(account, "cancel_epoch", account.cancel_epoch + 1)
    state.set_open_orders(account, 0)
    for ref in sorted(account.orders):
        state.journal.del_item(account.orders, ref)
    out.append(AllOrdersCancelled(account.index, cancelled, account.cancel_epoch, reason))
