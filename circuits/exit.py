"""The exit (desert) circuit: what an account may take out of the rollup once it is frozen
(docs/PROTOCOL.md 8.C and 9.4; ``performDesert`` on L1), the twin of
``protocol.exits.compute_exit_amount``.

Public inputs, in order: ``state_root``, ``account_index``, ``owner``, ``amount``. Private: the
account's and the insurance fund's leaf fields, Merkle siblings and positions in every market,
every market leaf's parameter digest and data fields (or its absence), the book root and the
timestamp. It proves:

- the state: each account leaf, whose positions root is the full tree over its position leaves
  (``gadgets.commitment``), opens to the account root (the account at ``account_index``, the
  fund at 0: ``same_account_root``); the market root is the full tree over the market leaves
  ``hash2(params digest, sponge(data))`` (``protocol.commitment.compute_market_leaf``; 0 for an
  absent market, which holds no position: ``no_position_without_market``); with the book root
  and the timestamp they hash to ``state_root``. The marks and funding indexes are thus the
  committed state's, never free inputs;
- who: ``owner`` is the leaf's owner, and the account is neither the insurance fund (0) nor the
  funding pool (2) (``not_reserved``: they never exit, PROTOCOL 9.4);
- how much: ``amount = max(0, TAV) + floor(shares * max(0, TAV_fund) / supply)`` with ``TAV =
  collateral + sum_m (s_m * P_m - ceil(s_m * (F_m - f_m) / FUNDING_INDEX_SCALE))`` at the
  state's marks ``P_m`` and funding indexes ``F_m`` (the risk unit's value and unsettled
  funding, ``gadgets.risk``), the supply being the fund's ``pool_shares``; and ``amount <
  2^collateral_bits`` (``performDesert`` takes a ``uint64``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import astuple, dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.boolean import assert_boolean
from circuits.gadgets.commitment import compute_position_leaf, compute_positions_root
from circuits.gadgets.division import div_rem
from circuits.gadgets.equality import is_zero
from circuits.gadgets.jubjub import PointVar
from circuits.gadgets.poseidon import hash2, hash4, sponge
from circuits.gadgets.positions import POSITION_FIELDS, PositionLeafVars
from circuits.gadgets.risk import (
    MarketRiskVars,
    PositionVars,
    RiskWidths,
    compute_sign_magnitude,
    compute_unsettled_funding,
)
from circuits.gadgets.smt import compute_root
from circuits.ops.common import (
    AccountVars,
    alloc_private,
    assert_nonzero_if,
    compute_balance_hash,
    compute_identity_hash,
)
from circuits.ops.slot import AccountWitness
from circuits.r1cs import (
    ONE,
    ZERO,
    Builder,
    ConstraintSystem,
    HintFn,
    LinearCombination,
    constant,
    weighted_sum,
)
from protocol.accounts import FIRST_USER_ACCOUNT, FUNDING_POOL, INSURANCE_FUND, Account, Position
from protocol.commitment import (
    DOMAIN_MARKET_DATA,
    DOMAIN_MARKET_PARAMS,
    MARKET_DATA_LANES,
    get_market_data_lanes,
    update_state_root,
)
from protocol.field import R, from_signed
from protocol.markets import MarketParams
from protocol.params import Preset
from protocol.poseidon import sponge as native_sponge
from protocol.state import State, make_genesis

LC = LinearCombination
PUBLIC_INPUTS = ("state_root", "account_index", "owner", "amount")
_FIELDS = (
    *("index", "owner", "pubkey_x", "pubkey_y", "nonce", "collateral"),
    *("open_orders", "pool_shares"),  # open_orders: the leaf's input, the cancel epoch packed in
)
_LEAF_FIELDS = (0, 2, 3, 4, 5, 6, 8, 9)  # AccountWitness.values() less exists, positions_root
MARKET_DATA_FIELDS = MARKET_DATA_LANES
_MARK, _FUNDING_INDEX = (MARKET_DATA_FIELDS.index(n) for n in ("mark_price", "funding_index"))


@dataclass(frozen=True)
class MarketWitness:
    """One market leaf as the exit circuit opens it: absent (leaf 0), or its parameters'
    digest and its data fields (signed ones as ``v mod r``)."""

    exists: bool
    params_digest: int
    data: tuple[int, ...]  # MARKET_DATA_FIELDS

    @classmethod
    def absent(cls) -> MarketWitness:
        return cls(False, 0, (0,) * len(MARKET_DATA_FIELDS))


PositionsWitness = tuple[tuple[int, ...], ...]  # per market: POSITION_FIELDS as v mod r


@dataclass(frozen=True)
class ExitWitness:
    """The exit circuit's private inputs (``sequencer.witness.build_exit_witness``)."""

    account: AccountWitness  # an existing account
    positions: PositionsWitness  # its position in every market (0s: none)
    fund: AccountWitness  # the insurance fund (account 0): what a pool share is worth
    fund_positions: PositionsWitness
    markets: tuple[MarketWitness, ...]  # per market of the preset
    book_root: int
    timestamp: int


def _get_positions(state: State, index: int) -> PositionsWitness:
    held = state.accounts[index].positions
    return tuple(
        tuple(from_signed(v) for v in astuple(held.get(m, Position())))
        for m in range(state.preset.max_markets)
    )


def _get_market(state: State, m: int) -> MarketWitness:
    if m >= len(state.markets):
        return MarketWitness.absent()
    market = state.markets[m]
    digest = native_sponge(list(astuple(market.params)), DOMAIN_MARKET_PARAMS)
    lanes = get_market_data_lanes(market.data)  # signed fields, then a field element
    return MarketWitness(True, digest, tuple(v % R for v in lanes))


def get_exit_witness(
    state: State, account: AccountWitness, fund: AccountWitness, book_root: int
) -> ExitWitness:
    """The exit witness of ``account`` in ``state``, given it and the insurance fund captured
    with their Merkle siblings: their positions and the market leaves, read from the state."""
    return ExitWitness(
        account,
        _get_positions(state, account.index),
        fund,
        _get_positions(state, INSURANCE_FUND),
        tuple(_get_market(state, m) for m in range(state.preset.max_markets)),
        book_root,
        state.timestamp,
    )


@dataclass(frozen=True)
class _MarketVars:
    exists: LC
    leaf: LC
    risk: MarketRiskVars


def _alloc_market(cs: Builder, w: MarketWitness | None) -> _MarketVars:
    """One market leaf from its private fields: ``exists * hash2(params digest, data digest)``."""
    names = ("exists", "params_digest", *MARKET_DATA_FIELDS)
    values = None if w is None else (int(w.exists), w.params_digest, *w.data)
    exists, params_digest, *data = alloc_private(cs, names, values)
    assert_boolean(cs, exists, "exists_boolean")
    digest = hash2(cs, params_digest, sponge(cs, data, DOMAIN_MARKET_DATA))
    leaf = cs.mul(exists, digest, "leaf")
    risk = MarketRiskVars(data[_MARK], data[_FUNDING_INDEX], ZERO, ZERO)  # margins not read
    return _MarketVars(exists, leaf, risk)


def _define_markets(
    cs: Builder, preset: Preset, w: ExitWitness | None
) -> tuple[list[_MarketVars], LC]:
    """Every market leaf of the preset, and the market root over them."""
    markets = []
    for m in range(preset.max_markets):
        with cs.scope(f"market{m}"):
            markets.append(_alloc_market(cs, None if w is None else w.markets[m]))
    with cs.scope("markets"):
        root = compute_positions_root(cs, [m.leaf for m in markets])  # the same full tree
    return markets, root


def compute_position_value(
    cs: Builder, widths: RiskWidths, position: PositionLeafVars, market: MarketRiskVars
) -> LC:
    """One market's part of TAV: ``s * P - unsettled funding`` (``protocol.risk``)."""
    owned = PositionVars(position.size, position.funding_index, position.imf)
    owed = compute_unsettled_funding(cs, widths, owned, market)
    return cs.mul(position.size, market.mark_price, "value") - owed


def _define_positions(
    cs: Builder, preset: Preset, markets: list[_MarketVars], w: PositionsWitness | None
) -> tuple[LC, LC]:
    """An account's positions root and the positions' part of its TAV, at the markets'
    marks with their unsettled funding."""
    widths = RiskWidths.of(preset)
    leaves, values = [], []
    for m, market in enumerate(markets):
        with cs.scope(f"position{m}"):
            position = PositionLeafVars(
                *alloc_private(cs, POSITION_FIELDS, None if w is None else w[m])
            )
            leaf = compute_position_leaf(cs, position)
            cs.assert_mul(1 - market.exists, leaf, ZERO, "no_position_without_market")
            values.append(compute_position_value(cs, widths, position, market.risk))
            leaves.append(leaf)
    return compute_positions_root(cs, leaves), weighted_sum([1] * len(values), values)


@dataclass(frozen=True)
class _OpenedAccount:
    fields: AccountVars
    account_root: LC  # the root its leaf opens to
    tav: LC


def _compute_account_root(cs: Builder, leaf: LC, index: LC, siblings: list[LC]) -> LC:
    """The root ``leaf`` opens to at ``index``; for the fund's constant index 0, a left child at
    every level, the path needs no index bits."""
    if not index.is_constant:
        return compute_root(cs, leaf, index, siblings)
    if index.constant_value != 0:
        raise ValueError("only account 0 is opened at a constant index")
    with cs.scope("merkle"):
        for level, sibling in enumerate(siblings):
            with cs.scope(f"level{level}"):
                leaf = hash2(cs, leaf, sibling)
    return leaf


def _open_account(
    cs: Builder,
    preset: Preset,
    markets: list[_MarketVars],
    w: AccountWitness | None,
    positions: PositionsWitness | None,
    index: LC | None,
) -> _OpenedAccount:
    """An account leaf from its private fields and positions, opened at ``index`` (a private
    input when None), and its TAV."""
    values = None if w is None else [w.values()[i] for i in _LEAF_FIELDS]
    if w is not None and values is not None:  # the leaf's packed count and cancel epoch (6.2)
        values[_LEAF_FIELDS.index(8)] = w.orders_field()
    if index is None:
        index = cs.private("index", None if values is None else values[0])
    owner, pk_x, pk_y, nonce, collateral, orders, shares = alloc_private(
        cs, _FIELDS[1:], None if values is None else values[1:]
    )
    names = [f"sibling{i}" for i in range(preset.account_tree_depth)]
    siblings = alloc_private(cs, names, None if w is None else w.siblings)
    positions_root, value = _define_positions(cs, preset, markets, positions)
    pubkey = PointVar(pk_x, pk_y)
    a = AccountVars(index, ONE, owner, pubkey, nonce, collateral, positions_root, orders, shares)
    leaf = hash2(cs, compute_identity_hash(cs, a), compute_balance_hash(cs, a))
    root = _compute_account_root(cs, leaf, index, siblings)
    return _OpenedAccount(a, root, collateral + value)


def compute_positive_part(cs: Builder, preset: Preset, x: LC) -> LC:
    """``max(0, x)`` for ``|x| < 2^RiskWidths.tav``."""
    negative, _ = compute_sign_magnitude(cs, x, RiskWidths.of(preset).tav)
    return cs.mul(1 - negative, x, "positive_part")


def compute_pool_share(cs: Builder, preset: Preset, shares: LC, fund: _OpenedAccount) -> LC:
    """``floor(shares * max(0, TAV_fund) / supply)`` (0 without shares; no shares without a
    supply)."""
    with cs.scope("pool_share"):
        supply = fund.fields.pool_shares
        value = compute_positive_part(cs, preset, fund.tav)
        with cs.scope("no_supply"):
            no_supply = is_zero(cs, supply)
        cs.assert_mul(no_supply, shares, ZERO, "no_shares_without_supply")
        numerator = cs.mul(shares, value, "shares_times_value")
        bits = RiskWidths.of(preset).tav
        share, _ = div_rem(cs, numerator, supply + no_supply, bits, preset.pool_share_bits)
    return share


def compute_exit_amount(cs: Builder, preset: Preset, a: _OpenedAccount, fund: _OpenedAccount) -> LC:
    """``protocol.exits.compute_exit_amount``: ``max(0, TAV)`` plus the pool share, proven
    below ``2^collateral_bits``."""
    with cs.scope("amount"):
        own = compute_positive_part(cs, preset, a.tav)
    amount = own + compute_pool_share(cs, preset, a.fields.pool_shares, fund)
    with cs.scope("amount"):
        assert_range(cs, amount, preset.collateral_bits)
    return amount


def assert_not_reserved(cs: Builder, index: LC) -> None:
    """``index`` is neither the insurance fund nor the funding pool (``NEVER_EXIT``)."""
    product = cs.mul(index - INSURANCE_FUND, index - FUNDING_POOL, "reserved_product")
    assert_nonzero_if(cs, ONE, product, "not_reserved")


def define_exit(cs: Builder, preset: Preset, w: ExitWitness | None) -> None:
    """The exit circuit, built into ``cs`` (``w`` None in setup mode)."""
    markets, market_root = _define_markets(cs, preset, w)
    with cs.scope("account"):
        account, positions = (None, None) if w is None else (w.account, w.positions)
        a = _open_account(cs, preset, markets, account, positions, None)
        assert_not_reserved(cs, a.fields.index)
    with cs.scope("fund"):
        account, positions = (None, None) if w is None else (w.fund, w.fund_positions)
        fund = _open_account(cs, preset, markets, account, positions, constant(INSURANCE_FUND))
        cs.assert_equal(fund.account_root, a.account_root, "same_account_root")
    amount = compute_exit_amount(cs, preset, a, fund)
    with cs.scope("state"):
        roots = None if w is None else (w.book_root, w.timestamp)
        book, timestamp = alloc_private(cs, ("book_root", "timestamp"), roots)
        state_root = hash4(cs, a.account_root, book, market_root, timestamp)
    public = (state_root, a.fields.index, a.fields.owner, amount)
    for name, value in zip(PUBLIC_INPUTS, public, strict=True):
        cs.expose(name, value)


def build_exit_circuit(
    preset: Preset,
    witness: ExitWitness | None = None,
    hint_overrides: Mapping[str, HintFn] | None = None,
) -> tuple[ConstraintSystem, list[int] | None]:
    """The exit circuit of ``preset`` and, given a witness, the wire values."""
    cs = Builder(witness=witness is not None, hint_overrides=hint_overrides)
    define_exit(cs, preset, witness)
    return cs.finalize()


def sample_exit_witness(preset: Preset, rng: random.Random) -> ExitWitness:
    """A valid exit of a random account holding a random position in every market (the
    catalog's sample), from a genesis state with every market of the preset."""
    markets = [(MarketParams(), rng.randrange(1, 1 << 16)) for _ in range(preset.max_markets)]
    state = make_genesis(preset, 1, markets)
    index = rng.randrange(FIRST_USER_ACCOUNT, 1 << preset.account_tree_depth)
    state.accounts[index] = account = Account(index, rng.randbytes(20))
    state.set_collateral(account, rng.randrange(1 << 40))
    for m in range(preset.max_markets):
        state.set_position_field(account, m, "size", rng.randrange(-1000, 1000))
        state.set_position_field(account, m, "funding_index", rng.randrange(-(10**9), 10**9))
    update_state_root(state)
    trees = state.trees
    assert trees is not None
    opened = [_capture_account(state, i) for i in (index, INSURANCE_FUND)]
    return get_exit_witness(state, opened[0], opened[1], trees.books.root())


def _capture_account(state: State, index: int) -> AccountWitness:
    """Account ``index`` of ``state``, whose trees are up to date, with its Merkle siblings."""
    trees = state.trees
    assert trees is not None
    account = state.accounts[index]
    return AccountWitness(
        index,
        tuple(trees.accounts.proof(index).siblings),
        True,
        int.from_bytes(account.owner, "big"),
        account.pubkey,
        account.nonce,
        account.collateral,
        trees.get_positions_tree(index).root(),
        account.open_orders,
        account.pool_shares,
        account.cancel_epoch,
    )
