"""Leaf hashes and the state root, computed when a block is sealed over what changed.

    position leaf = hash4(size, entry_quote, funding_index, imf)        (0 when size, cost and
                                                                         leverage are all 0)
    positions root = SMT(market_tree_depth) over an account's position leaves
    account leaf  = hash2(hash4(owner, pubkey_x, pubkey_y, nonce),
                          hash4(collateral, positions_root,
                                open_orders + cancel_epoch << OPEN_ORDERS_BITS, pool_shares))
    order leaf    = hash4(account, remaining, is_ask | reduce_only << 1 | epoch << 2, expiry)
    trigger leaf  = sponge([account, is_ask, is_stop_loss, size, trigger_price, worst_price,
                            epoch], DOMAIN_TRIGGER), in an SMT(order_nonce_bits) keyed by id
    book leaf     = hash4(order_tree_root, trigger_root, ask_nonce, bid_nonce)
    market leaf   = hash2(sponge(params, DOMAIN_MARKET_PARAMS), sponge(data, DOMAIN_MARKET_DATA)),
                    data = the fields but the round's, then sponge(round, DOMAIN_ADL_ROUND) or 0
    state root    = hash4(account_root, book_root, market_root, timestamp)

Signed values enter as ``v mod r``, an owner as its 160-bit integer. ``account_root`` is an
SMT(account_tree_depth) of account leaves (0 = no account); ``book_root`` and ``market_root`` are
SMT(market_tree_depth) of the book and market leaves. The account leaf splits in two halves so
that a money-path circuit that touches only the balance half takes the identity half as one
input. ``update_state_root`` rehashes only the leaves the mutators marked dirty (and each tree
only the dirty paths); the matching engine itself never hashes.
"""

from __future__ import annotations

from dataclasses import astuple

from mypy_extensions import mypyc_attr

from protocol.accounts import Account, Position
from protocol.book import Order
from protocol.book_tree import OrderBookTree
from protocol.field import from_signed
from protocol.markets import ADL_FIELDS, Market, MarketData, TriggerOrder
from protocol.params import OPEN_ORDERS_BITS, Preset
from protocol.poseidon import hash2, hash4, sponge
from protocol.smt import SparseMerkleTree
from protocol.state import State

DOMAIN_MARKET_PARAMS = int.from_bytes(b"zkp.mprm", "big")
DOMAIN_MARKET_DATA = int.from_bytes(b"zkp.mdat", "big")
DOMAIN_TRIGGER = int.from_bytes(b"zkp.trig", "big")
DOMAIN_ADL_ROUND = int.from_bytes(b"zkp.adlr", "big")
# The market data's lanes that the leaf hashes: its fields but the open deleverage round's, then
# the round's digest (0 when none), so that a market leaf costs no more to open for a round it
# rarely has (PROTOCOL 6.4)
MARKET_DATA_LANES = (
    *(name for name in MarketData.__dataclass_fields__ if name not in ADL_FIELDS),
    "adl_round",
)


def compute_position_leaf(position: Position) -> int:
    if position.is_empty():
        return 0
    f = from_signed
    return hash4(f(position.size), f(position.entry_quote), f(position.funding_index), position.imf)


def compute_account_leaf(account: Account, positions_root: int) -> int:
    identity = hash4(int.from_bytes(account.owner, "big"), *account.pubkey, account.nonce)
    balance = hash4(
        from_signed(account.collateral),
        positions_root,
        compute_orders_field(account),
        account.pool_shares,
    )
    return hash2(identity, balance)


def compute_orders_field(account: Account) -> int:
    """The balance half's third input: the open-order count and the cancel epoch packed,
    ``open_orders + cancel_epoch << OPEN_ORDERS_BITS`` (PROTOCOL 6.2)."""
    return account.open_orders + (account.cancel_epoch << OPEN_ORDERS_BITS)


def compute_order_flags(order: Order) -> int:
    """The order leaf's third input: ``is_ask | reduce_only << 1 | epoch << 2`` (6.5)."""
    return int(order.is_ask) | int(order.reduce_only) << 1 | order.epoch << 2


def compute_order_leaf(order: Order) -> int:
    return hash4(order.account, order.remaining, compute_order_flags(order), order.expiry)


def compute_trigger_leaf(trigger: TriggerOrder) -> int:
    fields = [trigger.account, int(trigger.is_ask), int(trigger.is_stop_loss), trigger.size]
    fields += [trigger.trigger_price, trigger.worst_price, trigger.epoch]
    return sponge(fields, DOMAIN_TRIGGER)


def compute_round_digest(data: MarketData) -> int:
    """The open deleverage round's fields hashed into one lane, 0 when no round is open."""
    if not data.adl_account:
        return 0
    return sponge([from_signed(getattr(data, name)) for name in ADL_FIELDS], DOMAIN_ADL_ROUND)


def get_market_data_lanes(data: MarketData) -> list[int]:
    """The values of ``MARKET_DATA_LANES``: the fields signed as they are, then the digest."""
    lanes = [getattr(data, name) for name in MARKET_DATA_LANES[:-1]]
    return [*lanes, compute_round_digest(data)]


def compute_market_leaf(market: Market) -> int:
    params = sponge(list(astuple(market.params)), DOMAIN_MARKET_PARAMS)
    *fields, digest = get_market_data_lanes(market.data)
    data = sponge([*(from_signed(v) for v in fields), digest], DOMAIN_MARKET_DATA)
    return hash2(params, data)


def compute_quote_shift(preset: Preset) -> int:
    return preset.quote_amount_bits + preset.order_tree_depth


@mypyc_attr(allow_interpreted_subclasses=True)  # see protocol.types: copyable when compiled
class StateTrees:
    """The Merkle trees behind the state root, kept up to date from the state's dirty sets."""

    def __init__(self, preset: Preset) -> None:
        self.preset = preset
        self.accounts = SparseMerkleTree(preset.account_tree_depth)
        self.books = SparseMerkleTree(preset.market_tree_depth)
        self.markets = SparseMerkleTree(preset.market_tree_depth)
        self.positions: dict[int, SparseMerkleTree] = {}
        self.order_trees: dict[int, OrderBookTree] = {}
        self.trigger_trees: dict[int, SparseMerkleTree] = {}

    def get_positions_tree(self, account: int) -> SparseMerkleTree:
        tree = self.positions.get(account)
        if tree is None:
            tree = self.positions[account] = SparseMerkleTree(self.preset.market_tree_depth)
        return tree

    def get_order_tree(self, market: int) -> OrderBookTree:
        tree = self.order_trees.get(market)
        if tree is None:
            tree = OrderBookTree(self.preset.order_tree_depth, compute_quote_shift(self.preset))
            self.order_trees[market] = tree
        return tree

    def get_trigger_tree(self, market: int) -> SparseMerkleTree:
        tree = self.trigger_trees.get(market)
        if tree is None:
            tree = self.trigger_trees[market] = SparseMerkleTree(self.preset.order_nonce_bits)
        return tree

    def update_books(self, state: State) -> None:
        """Rewrites the dirty order and trigger leaves and the book leaves above them."""
        dirty = state.dirty
        touched = dirty.books | {m for m, _ in dirty.orders} | {m for m, _ in dirty.triggers}
        for m, key in state.dirty.orders:
            order = state.markets[m].book.orders.get(key)
            tree = self.get_order_tree(m)
            if order is None:
                tree.set(key, 0, (0, 0, 0, 0))
            else:
                quote = order.price * order.remaining
                sums = (
                    (order.remaining, quote, 0, 0)
                    if order.is_ask
                    else (0, 0, order.remaining, quote)
                )
                tree.set(key, compute_order_leaf(order), sums)
        for m, trigger_id in state.dirty.triggers:
            trigger = state.markets[m].triggers.get(trigger_id)
            leaf = 0 if trigger is None else compute_trigger_leaf(trigger)
            self.get_trigger_tree(m).set(trigger_id, leaf)
        for m in touched:
            book = state.markets[m].book
            order_root = self.get_order_tree(m).root()[0]
            trigger_root = self.get_trigger_tree(m).root()
            self.books.set(m, hash4(order_root, trigger_root, book.ask_nonce, book.bid_nonce))
        dirty.orders.clear()
        dirty.triggers.clear()
        dirty.books.clear()

    def update_accounts(self, state: State) -> None:
        """Rewrites the dirty position and account leaves."""
        for a, m in state.dirty.positions:
            account = state.accounts.get(a)
            position = None if account is None else account.positions.get(m)
            leaf = 0 if position is None else compute_position_leaf(position)
            self.get_positions_tree(a).set(m, leaf)
            state.dirty.accounts.add(a)
        for a in state.dirty.accounts:
            account = state.accounts.get(a)
            if account is None:
                self.accounts.set(a, 0)
            else:
                self.accounts.set(
                    a, compute_account_leaf(account, self.get_positions_tree(a).root())
                )
        state.dirty.positions.clear()
        state.dirty.accounts.clear()

    def update_markets(self, state: State) -> None:
        for m in state.dirty.markets:
            self.markets.set(m, compute_market_leaf(state.markets[m]))
        state.dirty.markets.clear()


def update_state_root(state: State) -> int:
    """Brings the state's trees up to date with what changed and returns the state root."""
    trees = state.trees
    if trees is None:
        trees = state.trees = StateTrees(state.preset)
        _mark_everything_dirty(state)
    trees.update_books(state)
    trees.update_accounts(state)
    trees.update_markets(state)
    return hash4(trees.accounts.root(), trees.books.root(), trees.markets.root(), state.timestamp)


def _mark_everything_dirty(state: State) -> None:
    """A fresh set of trees starts from every leaf of the state."""
    dirty = state.dirty
    for index, account in state.accounts.items():
        dirty.accounts.add(index)
        dirty.positions.update((index, m) for m in account.positions)
    for market in state.markets:
        dirty.markets.add(market.index)
        dirty.books.add(market.index)
        dirty.orders.update((market.index, key) for key in market.book.orders)
        dirty.triggers.update((market.index, t) for t in market.triggers)
