"""The market slot: one pre-execution (type 23) of any market, or a noop, proven exactly as
``protocol.ops.pre_execution.process_pre_execution`` (docs/PROTOCOL.md 7.5, 7.6, 8.23, 8.C).

A block's last ``market_slots`` slots are market slots: its pre-executions close the block and
set index, mark and funding for the next one. A market slot touches no account and does not
change the book; it reads the book and rewrites one market's data fields in the running
:class:`BlockVars`.

- **Record** (``is_pre``: type byte 23, else 0): the layout's fields (market, index, price
  timestamp, mark) as bit wires, every other byte the constant 0, all zero for a noop
  (``noop_record_is_zero``).
- **Market**: one-hot over the running market copies (``market/exists{m}``); its
  book leaf ``(order_root, trigger_root, ask_nonce, bid_nonce)`` opened at the record's market
  against the running book root (``book/book_root_matches``); its order root read twice
  (``book_reads.read_book``) for the impact bid and ask (``compute_impact`` at the market's
  ``impact_notional``). A noop reads an empty order tree (``MarketSlotWitness.noop``).
- **Oracle** (``oracle/*``, ``protocol.ops.pre_execution.check_oracle_price``): the EdDSA
  signature of ``(chain_id, market, index, price_timestamp)`` under the picked market's
  oracle key (a noop: the unsigned slots' dummy key and message 0); the price neither from the
  future nor older than ``max_price_age``; ``|index - I| * 10^6 <= max_price_move * I`` for
  the market's index ``I`` before, each side a range check.
- **Prices**: ``0 < index < 2^price_bits`` (``index_in_range``; not 0: the premium divides by
  it, and ``div_rem`` refuses a zero divisor); the mark is
  ``compute_mark`` of the index and the impact prices (``record_mark_is_mark``).
- **Premium sample** when ``ts // 60 > last_sample_minute``, weight ``min(60, elapsed)``; then
  **funding** when ``ts // 3600 > last_funding_hour``: the rate from the sums after the sample
  (average and ``/ 8`` toward zero, interest clamp, cap), ``hours * increment`` added to the
  funding index (no hours the first time, ``last_funding_hour`` 0: that starts the clock),
  which must stay a signed ``funding_index_bits`` value (the rules raise there:
  ``funding/index_in_range``), the sums reset.

**Widths.** Every value compared or divided is range-checked first, so no comparison or
division can wrap around the field; the checks are what the rules guarantee, with margin where
the rules' bound is an invariant rather than a check:

- the index ``< 2^price_bits`` (checked above); impact prices and the mark the same (averages
  of order prices); the premium ``|premium| < 2^P``, ``P = price_bits + RATE_BITS``;
- ``last_sample_minute``, ``last_funding_hour`` ``< 2^timestamp_bits`` (the rules write
  ``ts // 60`` and ``ts // 3600`` of checked timestamps);
- ``premium_samples < 2^SAMPLES_BITS`` and ``|premium_sum| < 2^(P + SAMPLES_BITS)``: the rules
  reset both each hour, so the samples stay below 120 (at most 59 minutes of an hour, then the
  sample that applies the funding);
- ``interest_rate``, ``interest_clamp``, ``funding_cap``: ``0`` to ``RATE_SCALE < 2^RATE_BITS``
  (``MarketParams.validate``);
- ``1 <= impact_notional < 2^Q`` (``compute_impact``'s width, ``Q`` its quote shift);
- the funding index: ``|F| < 2^funding_index_bits`` before and after (``check_signed``);
- the index before ``< 2^price_bits``, ``max_price_age < 2^PRICE_AGE_BITS``,
  ``max_price_move < 2^PRICE_MOVE_BITS`` (``MarketParams.validate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from circuits.gadgets.bits import assert_bits_at_most, assert_range, assert_signed_range, to_bits
from circuits.gadgets.book_reads import (
    RATE_BITS,
    compute_impact,
    compute_mark,
    compute_premium,
    find_impact_order,
    read_book,
)
from circuits.gadgets.book_tree import (
    SIBLING_ROLES,
    BookNodeVars,
    OrderVars,
    alloc_siblings,
    pack_node,
)
from circuits.gadgets.boolean import assert_boolean
from circuits.gadgets.commitment import MarketVars
from circuits.gadgets.compare import less_than, signed_less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.division import div_rem
from circuits.gadgets.eddsa import SignatureVar, assert_valid_signature
from circuits.gadgets.equality import is_equal, is_zero
from circuits.gadgets.jubjub import PointVar
from circuits.gadgets.poseidon import hash4, sponge
from circuits.gadgets.smt import compute_root
from circuits.ops.book_unit import BOOK_FIELDS, BOOK_ORDER_FIELDS, get_order_fields
from circuits.ops.common import (
    MARKET_DATA,
    MARKET_PARAMS,
    RECORD_BYTES,
    BlockVars,
    RecordVars,
    alloc_private,
    pick,
    select_existing,
)
from circuits.ops.slot import get_dummy_signature
from circuits.r1cs import ONE, ZERO, Builder, LinearCombination, constant, weighted_sum
from protocol import eddsa
from protocol.book_tree import empty_nodes
from protocol.commitment import compute_quote_shift, update_state_root
from protocol.funding import compute_mark_price
from protocol.markets import Market
from protocol.ops.pre_execution import RECORD, PreExecution
from protocol.oracle import DOMAIN_ORACLE
from protocol.params import PRICE_AGE_BITS, PRICE_MOVE_BITS, Preset
from protocol.pubdata import OpType
from protocol.state import State
from protocol.types import FUNDING_INDEX_SCALE, PPM, RATE_SCALE

LC = LinearCombination
PRE_EXECUTION = int(OpType.PRE_EXECUTION)
MARKET, INDEX, PRICE_TIME, MARK = (
    RECORD.offset(name) for name in ("market", "index_price", "price_timestamp", "mark_price")
)
SAMPLES_BITS = 16  # premium_samples (the rules keep it below 120: module docstring)
# the funding increment rate * mark * FUNDING_INDEX_SCALE / RATE_SCALE, the fraction reduced
# (the same quotient toward zero: the rational value is the same)
INCREMENT = Fraction(FUNDING_INDEX_SCALE, RATE_SCALE)

# the market fields a market slot reads and writes
PARAM = {name: MARKET_PARAMS.index(name) for name in MARKET_PARAMS}
DATA = {name: MARKET_DATA.index(name) for name in MARKET_DATA}
READ_PARAMS = (
    "impact_notional",
    "interest_rate",
    "interest_clamp",
    "funding_cap",
    "oracle_x",
    "oracle_y",
    "max_price_age",
    "max_price_move",
)
READ_DATA = (
    "index_price",
    "premium_sum",
    "premium_samples",
    "last_sample_minute",
    "last_funding_hour",
    "funding_index",
    "funding_rate",
)


# -- witness -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadWitness:
    """One read-only path into an order tree: a key, its order fields (``ORDER_FIELDS``; all 0
    where no order rests) and its sibling nodes ``(hash, ask lane, bid lane)``, 3 a level
    (``protocol.book_tree``), leaf first."""

    key: int
    order: tuple[int, ...]
    siblings: tuple[tuple[int, int, int], ...]

    @classmethod
    def of(cls, state: State, market: int, key: int) -> ReadWitness:
        assert state.trees is not None
        order = state.markets[market].book.orders.get(key)
        fields = get_order_fields(order)
        shift = compute_quote_shift(state.preset)
        proof = state.trees.get_order_tree(market).proof(key)
        return cls(key, fields, tuple(pack_node(node, shift) for node in proof.siblings))

    @classmethod
    def empty(cls, preset: Preset) -> ReadWitness:
        """Key 0 of an empty order tree."""
        shift = compute_quote_shift(preset)
        nodes = empty_nodes(preset.order_tree_levels)[:-1]
        siblings = tuple(pack_node(node, shift) for node in nodes for _ in SIBLING_ROLES)
        return cls(0, (0,) * len(BOOK_ORDER_FIELDS), siblings)


@dataclass(frozen=True)
class MarketSlotWitness:
    """What a market slot reads (``noop``, or ``of`` the state before the pre-execution)."""

    record: bytes  # 64 bytes: all zero (noop) or the type-23 record
    book_leaf: tuple[int, int, int, int]  # BOOK_FIELDS of the record's market's book leaf
    book_siblings: tuple[int, ...]  # its Merkle siblings in the book tree
    impact_bid: ReadWitness  # where the impact walk of each side stops (any key when too thin)
    impact_ask: ReadWitness
    signature: eddsa.Signature  # the oracle's; a noop's: the dummy key's of message 0

    @classmethod
    def of(cls, state: State, op: PreExecution | None) -> MarketSlotWitness:
        """``op`` applied to ``state`` (which it leaves unchanged; its trees brought up to date),
        a noop for None. Raises for an operation whose record cannot exist (a market outside
        the tree, an index outside its field): the rules refuse it."""
        if op is None:
            return cls.noop(state.preset)
        update_state_root(state)
        assert state.trees is not None
        market = state.markets[op.market]
        trees, notional = state.trees, market.params.impact_notional
        reads = []
        for is_ask in (False, True):
            order = find_impact_order(market.book, is_ask, notional)
            reads.append(ReadWitness.of(state, op.market, 0 if order is None else order.key))
        order_root = trees.get_order_tree(op.market).root()[0]
        book, trigger_root = market.book, trees.get_trigger_tree(op.market).root()
        book_leaf = (order_root, trigger_root, book.ask_nonce, book.bid_nonce)
        siblings = tuple(trees.books.proof(op.market).siblings)
        # an unsigned price gets the dummy signature: the circuit refuses it (no proof)
        signature = op.signature or get_dummy_signature()[1]
        record = compute_record(market, op)
        return cls(record, book_leaf, siblings, reads[0], reads[1], signature)

    @classmethod
    def noop(cls, preset: Preset) -> MarketSlotWitness:
        """A noop: a zero record, and reads of an empty order tree (not bound to the book)."""
        empty = ReadWitness.empty(preset)
        empty_root = empty_nodes(preset.order_tree_levels)[-1][0]
        book_leaf = (empty_root, 0, 0, 0)
        siblings = (0,) * preset.market_tree_depth
        dummy = get_dummy_signature()[1]
        return cls(bytes(RECORD_BYTES), book_leaf, siblings, empty, empty, dummy)


def compute_record(market: Market, op: PreExecution) -> bytes:
    """The record ``process_pre_execution`` would publish, without running it."""
    data = replace(market.data, index_price=op.index_price)
    mark = compute_mark_price(Market(market.index, market.params, data, market.book))
    return RECORD.encode((op.market, op.index_price, op.price_timestamp, mark))


# -- allocation ----------------------------------------------------------------------------------


def _alloc_record(cs: Builder, w: MarketSlotWitness | None) -> tuple[LC, RecordVars]:
    """``is_pre`` and the record: the layout's field bytes as bit wires, the rest zero."""
    if w is not None and w.record[0] not in (0, PRE_EXECUTION):
        raise ValueError(f"a market slot cannot prove an operation of type {w.record[0]}")
    with cs.scope("record"):
        is_pre = cs.private("is_pre", None if w is None else int(w.record[0] == PRE_EXECUTION))
        assert_boolean(cs, is_pre, "is_pre_boolean")
        bits: list[list[LC]] = [[ZERO] * 8 for _ in range(RECORD_BYTES)]
        for start, length in RECORD.offsets():
            for k in range(start, start + length):
                bits[k] = []
                for j in range(8):
                    value = None if w is None else w.record[k] >> j & 1
                    bit = cs.private(f"byte{k}_bit{j}", value)
                    assert_boolean(cs, bit, f"byte{k}_bit{j}_boolean")
                    bits[k].append(bit)
        record = RecordVars(is_pre * PRE_EXECUTION, bits)
        cs.assert_mul(1 - is_pre, record.sum_outside(()), ZERO, "noop_record_is_zero")
    return is_pre, record


def _alloc_read(
    cs: Builder, preset: Preset, w: ReadWitness | None
) -> tuple[LC, OrderVars, list[BookNodeVars]]:
    key = cs.private("key", None if w is None else w.key)
    order = OrderVars(
        *(
            cs.private(f"order_{name}", None if w is None else w.order[i])
            for i, name in enumerate(BOOK_ORDER_FIELDS)
        )
    )
    with cs.scope("order_epoch"):  # the flags split one way (book_unit's check)
        assert_range(cs, order.epoch, preset.account_nonce_bits)
    siblings = alloc_siblings(cs, preset.order_tree_levels, None if w is None else w.siblings)
    return key, order, siblings


def _open_book_leaf(
    cs: Builder, preset: Preset, is_pre: LC, market: LC, book_root: LC, w: MarketSlotWitness | None
) -> LC:
    """The market's book leaf at ``market`` under the running book root (when ``is_pre``);
    returns its order root."""
    with cs.scope("book"):
        leaf = [
            cs.private(name, None if w is None else w.book_leaf[i])
            for i, name in enumerate(BOOK_FIELDS)
        ]
        siblings = [
            cs.private(f"sibling{i}", None if w is None else w.book_siblings[i])
            for i in range(preset.market_tree_depth)
        ]
        with cs.scope("leaf"):
            leaf_hash = hash4(cs, *leaf)
        root = compute_root(cs, leaf_hash, market, siblings)
        cs.assert_mul(is_pre, root - book_root, ZERO, "book_root_matches")
    return leaf[0]


def _select_market(cs: Builder, markets: Sequence[MarketVars], on: LC, market: LC) -> list[LC]:
    """``circuits.ops.common.select_market`` over the running markets: one-hot when ``on``
    (existing), all zero when off, without its ``in_tree``: the book leaf's path proves
    ``market < 2^market_tree_depth`` (``book/merkle``)."""
    with cs.scope("market"):
        is_market = [is_equal(cs, market, constant(m)) for m in range(len(markets))]
        return select_existing(cs, markets, on, is_market)


# -- small arithmetic ----------------------------------------------------------------------------


def divide_toward_zero(cs: Builder, num: LC, den: LC, num_bits: int, den_bits: int) -> LC:
    """``protocol.funding._toward_zero(num, den)`` for ``|num| < 2^num_bits`` (signed, carried
    as ``num mod r``) and ``1 <= den < 2^den_bits``: the sign, then ``div_rem`` of the
    magnitude (whose quotient and remainder are range-checked: no wrap)."""
    with cs.scope("toward_zero"):
        negative = signed_less_than(cs, num, ZERO, num_bits)
        magnitude = num - 2 * cs.mul(negative, num, "magnitude")
        quotient, _ = div_rem(cs, magnitude, den, num_bits, den_bits)
        return quotient - 2 * cs.mul(negative, quotient, "sign")


def clamp(cs: Builder, x: LC, bound: LC, n: int, name: str) -> LC:
    """``max(-bound, min(bound, x))`` for signed ``x`` and ``0 <= bound`` in ``[-2^n, 2^n)``."""
    with cs.scope(name):
        with cs.scope("above"):
            below_top = signed_less_than(cs, x, bound, n)
        top = select(cs, below_top, x, bound)
        with cs.scope("below"):
            under = signed_less_than(cs, top, -bound, n)
        return select(cs, under, -bound, top)


def assert_signed_open_range(cs: Builder, x: LC, n: int, name: str) -> None:
    """``check_signed``: ``-2^n < x < 2^n`` (``x mod r``): the bits of ``x + 2^n - 1`` are at
    most ``2^(n+1) - 2``."""
    with cs.scope(name):
        bits = to_bits(cs, x + (1 << n) - 1, n + 1)
        assert_bits_at_most(cs, bits, (1 << (n + 1)) - 2)


# -- the slot ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picked:
    """The picked market's fields a market slot reads (all 0 when noop)."""

    params: dict[str, LC]
    data: dict[str, LC]


def _pick_fields(cs: Builder, selected: list[LC], markets: Sequence[MarketVars]) -> Picked:
    with cs.scope("picked"):
        params = {
            name: pick(cs, selected, [m.params[PARAM[name]] for m in markets], name)
            for name in READ_PARAMS
        }
        data = {
            name: pick(cs, selected, [m.data[DATA[name]] for m in markets], name)
            for name in READ_DATA
        }
    return Picked(params, data)


def _check_widths(cs: Builder, preset: Preset, p: Picked) -> None:
    """The read fields' ranges (module docstring)."""
    premium_bits = preset.price_bits + RATE_BITS
    with cs.scope("widths"):
        for name in ("interest_rate", "interest_clamp", "funding_cap"):
            with cs.scope(f"{name}_in_range"):
                assert_range(cs, p.params[name], RATE_BITS)
        with cs.scope("notional_in_range"):
            assert_range(cs, p.params["impact_notional"], compute_quote_shift(preset))
        with cs.scope("premium_samples_in_range"):
            assert_range(cs, p.data["premium_samples"], SAMPLES_BITS)
        with cs.scope("premium_sum_in_range"):
            assert_signed_range(cs, p.data["premium_sum"], premium_bits + SAMPLES_BITS)
        for name in ("last_sample_minute", "last_funding_hour"):
            with cs.scope(f"{name}_in_range"):
                assert_range(cs, p.data[name], preset.timestamp_bits)
        with cs.scope("index_price_in_range"):
            assert_range(cs, p.data["index_price"], preset.price_bits)
        with cs.scope("max_price_age_in_range"):
            assert_range(cs, p.params["max_price_age"], PRICE_AGE_BITS)
        with cs.scope("max_price_move_in_range"):
            assert_range(cs, p.params["max_price_move"], PRICE_MOVE_BITS)
        assert_signed_open_range(
            cs, p.data["funding_index"], preset.funding_index_bits, "funding_index_in_range"
        )


def _define_prices(
    cs: Builder,
    preset: Preset,
    is_pre: LC,
    record: RecordVars,
    order_root: LC,
    notional: LC,
    w: MarketSlotWitness | None,
) -> tuple[LC, LC, LC]:
    """The index (checked), the mark (the record's) and the premium."""
    index = record.field(*INDEX)
    index_bits = record.field_bits(*INDEX)
    if len(index_bits) > preset.price_bits:
        high = index_bits[preset.price_bits :]
        cs.assert_zero(weighted_sum([1] * len(high), high), "index_in_range")
    index = index + 1 - is_pre  # a noop's is 1: the premium divides by it
    impacts = []
    for is_ask, name in ((False, "impact_bid"), (True, "impact_ask")):
        with cs.scope(f"read_{name}"):
            read_w = None if w is None else (w.impact_ask if is_ask else w.impact_bid)
            key, order, siblings = _alloc_read(cs, preset, read_w)
            read = read_book(cs, order_root, key, order, siblings, preset)
        impacts.append(compute_impact(cs, read, is_ask, notional, preset))
    mark = compute_mark(cs, index, impacts[0], impacts[1], preset)
    cs.assert_mul(is_pre, mark, record.field(*MARK), "record_mark_is_mark")
    premium = compute_premium(cs, index, impacts[0], impacts[1], preset)
    return index, mark, premium


def _check_oracle_signature(
    cs: Builder,
    chain_id: int,
    is_pre: LC,
    record: RecordVars,
    p: Picked,
    w: MarketSlotWitness | None,
) -> None:
    """``is_signed_price``: the oracle's signature of ``(chain_id, market, price, time)`` under
    the picked market's key (a noop: the dummy key's of message 0, as unsigned slots check).
    A market without a key, ``(0, 0)``, is refused by the key's subgroup check."""
    with cs.scope("signature"):
        fields = [record.field(*f) for f in (MARKET, INDEX, PRICE_TIME)]
        digest = sponge(cs, [constant(chain_id), *fields], DOMAIN_ORACLE)
        message = cs.mul(is_pre, digest, "message")
        dummy = get_dummy_signature()[0]
        key_x = dummy.x + cs.mul(is_pre, p.params["oracle_x"] - dummy.x, "key_x")
        key_y = dummy.y + cs.mul(is_pre, p.params["oracle_y"] - dummy.y, "key_y")
        sig = None if w is None else (w.signature.R.x, w.signature.R.y, w.signature.s)
        r_x, r_y, s = alloc_private(cs, ("r_x", "r_y", "s"), sig)
        assert_valid_signature(
            cs, PointVar(key_x, key_y), message, SignatureVar(PointVar(r_x, r_y), s)
        )


def _check_oracle_price(
    cs: Builder,
    preset: Preset,
    chain_id: int,
    timestamp: LC,
    is_pre: LC,
    record: RecordVars,
    p: Picked,
    w: MarketSlotWitness | None,
) -> None:
    """``check_oracle_price`` past the index's range: the signature, then
    ``ts - max_price_age <= price_timestamp <= ts`` and
    ``|price - index| * 10^6 <= max_price_move * index``, each side a range check (a negative
    difference wraps to a field element far above the width). A noop's price, time and picked
    parameters are 0: every check holds."""
    price, at = record.field(*INDEX), record.field(*PRICE_TIME)
    with cs.scope("oracle"):
        at_bits = record.field_bits(*PRICE_TIME)
        if len(at_bits) > preset.timestamp_bits:
            high = at_bits[preset.timestamp_bits :]
            cs.assert_zero(weighted_sum([1] * len(high), high), "price_time_in_range")
        _check_oracle_signature(cs, chain_id, is_pre, record, p, w)
        age = timestamp - at
        with cs.scope("price_not_from_the_future"):
            assert_range(cs, age, preset.timestamp_bits)
        with cs.scope("price_not_stale"):
            age_if_pre = cs.mul(is_pre, age, "age_if_pre")
            assert_range(cs, p.params["max_price_age"] - age_if_pre, preset.timestamp_bits)
        old = p.data["index_price"]
        bound = cs.mul(p.params["max_price_move"], old, "move_bound")
        change = (price - old) * PPM
        n = preset.price_bits + PRICE_MOVE_BITS + 1  # |bound|, |change| < 2^(price_bits + 24)
        with cs.scope("price_move_up_within_bound"):
            assert_range(cs, bound - change, n)
        with cs.scope("price_move_down_within_bound"):
            assert_range(cs, bound + change, n)


def _clock(cs: Builder, preset: Preset, timestamp: LC) -> tuple[LC, LC]:
    """``(ts // 60, ts // 3600)`` (``ts`` range-checked by the block's header)."""
    with cs.scope("clock"):
        with cs.scope("minute"):
            minute, _ = div_rem(cs, timestamp, constant(60), preset.timestamp_bits, 6)
        with cs.scope("hour"):
            hour, _ = div_rem(cs, minute, constant(60), preset.timestamp_bits, 6)
    return minute, hour


@dataclass(frozen=True)
class Sample:
    weight: LC  # 0 when no sample is due
    sum: LC  # the premium sum after the sample
    samples: LC
    last_minute: LC


def _define_sample(
    cs: Builder, preset: Preset, is_pre: LC, minute: LC, premium: LC, p: Picked
) -> Sample:
    """``sample_premium``: one sample weighted ``min(60, minutes elapsed)`` when due."""
    tb, last = preset.timestamp_bits, p.data["last_sample_minute"]
    with cs.scope("sample"):
        with cs.scope("due"):
            due = cs.mul(is_pre, less_than(cs, last, minute, tb), "if_pre")
        elapsed = cs.mul(due, minute - last, "elapsed")
        with cs.scope("capped"):
            below_hour = less_than(cs, elapsed, constant(60), tb)
        weight = select(cs, below_hour, elapsed, constant(60))
        weighted = cs.mul(weight, premium, "weighted_premium")
    return Sample(
        weight,
        p.data["premium_sum"] + weighted,
        p.data["premium_samples"] + weight,
        last + elapsed,
    )


@dataclass(frozen=True)
class Funding:
    due: LC
    rate: LC
    index: LC  # the funding index after
    last_hour: LC


def _compute_rate(cs: Builder, preset: Preset, sample: Sample, p: Picked) -> LC:
    """``compute_funding_rate`` from the sums after the sample."""
    sum_bits = preset.price_bits + RATE_BITS + SAMPLES_BITS + 1  # after one more sample
    with cs.scope("rate"):
        has_samples = 1 - is_zero(cs, sample.samples)
        numerator = cs.mul(has_samples, sample.sum, "sum_if_samples")
        divisor = select(cs, has_samples, sample.samples, ONE)
        with cs.scope("average"):
            average = divide_toward_zero(cs, numerator, divisor, sum_bits, SAMPLES_BITS + 1)
        with cs.scope("eighth"):
            premium = divide_toward_zero(cs, average, constant(8), sum_bits, 4)
        n = sum_bits + 1  # |interest_rate - premium| and |premium + clamp| < 2^n
        interest = p.params["interest_rate"] - premium
        rate = premium + clamp(cs, interest, p.params["interest_clamp"], n, "interest_clamp")
        return clamp(cs, rate, p.params["funding_cap"], n, "cap")


def _define_funding(
    cs: Builder, preset: Preset, is_pre: LC, hour: LC, mark: LC, sample: Sample, p: Picked
) -> Funding:
    """``apply_funding``: ``hours * increment`` added when due, in range; none the first time
    (``last_funding_hour`` 0), which only starts the market's clock."""
    tb, last = preset.timestamp_bits, p.data["last_funding_hour"]
    with cs.scope("funding"):
        with cs.scope("due"):
            due = cs.mul(is_pre, less_than(cs, last, hour, tb), "if_pre")
        elapsed = cs.mul(due, hour - last, "hours")
        with cs.scope("clock_started"):
            started = 1 - is_zero(cs, last)
        hours = cs.mul(started, elapsed, "charged_hours")
        rate = _compute_rate(cs, preset, sample, p)
        product = cs.mul(rate, mark, "rate_times_mark")
        with cs.scope("increment"):
            increment = divide_toward_zero(
                cs,
                product * INCREMENT.numerator,
                constant(INCREMENT.denominator),
                RATE_BITS + preset.price_bits + INCREMENT.numerator.bit_length(),
                INCREMENT.denominator.bit_length(),
            )
        index = p.data["funding_index"] + cs.mul(hours, increment, "index_change")
        assert_signed_open_range(cs, index, preset.funding_index_bits, "index_in_range")
    return Funding(due, rate, index, last + elapsed)


def _write_markets(
    cs: Builder,
    markets: Sequence[MarketVars],
    selected: list[LC],
    new: dict[str, LC],
) -> tuple[MarketVars, ...]:
    """Each market's data with the fields ``new`` replaced where it is the selected one."""
    out = []
    with cs.scope("write"):
        for m, (s, market) in enumerate(zip(selected, markets, strict=True)):
            data = list(market.data)
            for name, value in new.items():
                old = data[DATA[name]]
                data[DATA[name]] = old + cs.mul(s, value - old, f"{name}{m}")
            out.append(replace(market, data=tuple(data)))
    return tuple(out)


def define_market_slot(
    cs: Builder,
    preset: Preset,
    chain_id: int,
    timestamp: LC,
    running: BlockVars,
    w: MarketSlotWitness | None,
) -> tuple[RecordVars, BlockVars]:
    """One market slot (module docstring): its record and the running values after it (the
    account root and the book root go through unchanged); ``chain_id`` is in the oracle's
    signed message."""
    is_pre, record = _alloc_record(cs, w)
    market = record.field(*MARKET)
    selected = _select_market(cs, running.markets, is_pre, market)
    order_root = _open_book_leaf(cs, preset, is_pre, market, running.book_root, w)
    picked = _pick_fields(cs, selected, running.markets)
    _check_widths(cs, preset, picked)
    _check_oracle_price(cs, preset, chain_id, timestamp, is_pre, record, picked, w)
    notional = picked.params["impact_notional"] + 1 - is_pre  # a noop's is 1
    index, mark, premium = _define_prices(cs, preset, is_pre, record, order_root, notional, w)
    minute, hour = _clock(cs, preset, timestamp)
    sample = _define_sample(cs, preset, is_pre, minute, premium, picked)
    funding = _define_funding(cs, preset, is_pre, hour, mark, sample, picked)
    with cs.scope("reset"):
        kept = 1 - funding.due
        new = {
            "index_price": index,
            "mark_price": mark,
            "funding_index": funding.index,
            "funding_rate": select(cs, funding.due, funding.rate, picked.data["funding_rate"]),
            "premium_sum": cs.mul(kept, sample.sum, "premium_sum"),
            "premium_samples": cs.mul(kept, sample.samples, "premium_samples"),
            "last_sample_minute": sample.last_minute,
            "last_funding_hour": funding.last_hour,
        }
    markets = _write_markets(cs, running.markets, selected, new)
    return record, replace(running, markets=markets)
