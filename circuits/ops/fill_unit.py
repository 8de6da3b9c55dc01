"""The maker a matching step meets, in a heavy slot (docs/PROTOCOL.md 8.C): filled, or
cancelled unfilled. The taker is account A, the maker the order at the book unit's key, whose
account is B. The twin of ``protocol.matching``'s ``run_step`` / ``match_one`` / ``fill`` /
``move_fill`` once a crossing maker is found.

Whenever the step meets the maker (``on``, its "fills" bit, or ``cancels``), it proves the order
is B's (``maker_is_b``) with lots (``maker_exists``), on the other side and within the taker's
limit (``maker_opposite``, ``within_limit``), and **price-time priority** on its own path:
nothing of its side at a better price (``no_better_price``) and nothing earlier at its price
(``no_earlier_at_price``).

A **fill** (``on``) also proves:

- the record's maker is B (``maker_is_record``), live (``maker_live``: its epoch is B's cancel
  epoch; a dead one the rules remove), not the taker's own (``not_self_trade``: the
  rules would cancel it) and not expired (``maker_not_expired``: no expiry, or not before the
  block's timestamp);
- the fill (``gadgets.matching.compute_fill``): the size ``min`` of the remainders capped by
  reduce-only, positive; at the maker's price;
- both sides (``gadgets.positions.apply_fill``) in the record's market: the position's
  funding settled (the risk unit's unsettled funding of that market), the lots, the quote and
  the fee, the funding snapshot, the open interest's change; both then pass the
  valid-risk-change rule (the slot's risk units, ``a_risk_checked`` / ``b_risk_checked``);
- open interest: when the long side grew, the new open interest is at most the market's
  maximum (``open_interest_cap``);
- the maker's order loses the size (its leaf becomes 0 when nothing is left, and B's open
  orders fall by one); the fees and the settled funding accrue for the block's end.

A **cancel** (``cancels``) proves a reason (``cancel_has_reason``): the maker is dead (B cancelled
all since it rested: then no open order of B's is counted off, ``dead_removed``), expired, is the
taker's own, or is reduce-only with nothing to reduce while the taker is not; or (``fails_risk``)
the fill, **tried** (made in every amount, of the size the rules would take, not expired, not
self-trade), fails the maker's valid-risk-change rule: the slot values B after the trial
(``Effect.b_trial_positions``, ``b_trial_collateral``) and requires the rule false
(``b_risk_fails``), and every amount of the trial is kept apart (``trial/*``) and subtracted
from what the slot applies. The order's leaf becomes 0 and its account's open orders fall by
one (A's for its own order, else B's). Nothing else moves.

An **end** (``ends``, a claim's taker ending on its own failure) meets the maker as a cancel
does, live (``not_self_trade``, ``maker_not_expired``): either the taker is reduce-only with
nothing to reduce, or the fill is tried as for a risk cancel, the maker not reduce-only with
nothing to reduce (``end/maker_kept``), B's rule passing after the trial (``b_valid_risk_change``)
and A's failing (``a_risk_fails``) unless the trial takes open interest past its cap
(``open_interest/over``). Nothing moves.

Off, every amount is 0 (``size`` and the picked market are 0) and nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.book_tree import Liquidity, OrderVars
from circuits.gadgets.compare import less_than
from circuits.gadgets.equality import is_equal, is_zero
from circuits.gadgets.matching import (
    FillVars,
    MakerVars,
    TakerVars,
    compute_fill,
    compute_reducible,
)
from circuits.gadgets.positions import (
    POSITION_FIELDS,
    PositionLeafVars,
    apply_fill,
    compute_sign,
)
from circuits.ops.common import (
    DATA_FUNDING_INDEX,
    DATA_OPEN_INTEREST,
    MARKET_PARAMS,
    Effect,
    SlotVars,
    assert_nonzero_if,
    pick,
)
from circuits.r1cs import ZERO, Builder, LinearCombination

LC = LinearCombination
PARAM_TAKER_FEE = MARKET_PARAMS.index("taker_fee")
PARAM_MAKER_FEE = MARKET_PARAMS.index("maker_fee")
PARAM_MAX_OPEN_INTEREST = MARKET_PARAMS.index("max_open_interest")
OPEN_INTEREST_BITS = 64  # MarketParams.max_open_interest < 2^64
RISK_FIELDS = ("size", "funding_index")  # the position fields a fill changes that risk reads
# a tried fill's amounts, each kept apart from what the slot applies
TRIAL_AMOUNTS = ("taker_collateral", "maker_collateral", "fees", "funding")


@dataclass(frozen=True)
class FillStep:
    effect: Effect
    taker_remaining: LC  # after the fill


def _pick_position(
    cs: Builder, selected: Sequence[LC], positions: Sequence[PositionLeafVars], name: str
) -> PositionLeafVars:
    """The position in the selected market (its imf, which a fill keeps, is not read)."""
    size, entry, funding = (
        pick(cs, selected, [getattr(p, f) for p in positions], f"{name}_{f}")
        for f in POSITION_FIELDS[:3]
    )
    return PositionLeafVars(size, entry, funding, ZERO)


def _position_changes(
    cs: Builder,
    selected: Sequence[LC],
    old: PositionLeafVars,
    new: PositionLeafVars,
    name: str,
    fields: Sequence[str] = POSITION_FIELDS[:3],
) -> tuple[PositionLeafVars, ...]:
    """What is added to each market's position: the change in the selected one, of ``fields``
    (imf keeps; the others add 0)."""
    changes = []
    for m, s in enumerate(selected):
        change = {
            f: cs.mul(s, getattr(new, f) - getattr(old, f), f"{name}_{f}_change{m}") for f in fields
        }
        changes.append(PositionLeafVars(*(change.get(f, ZERO) for f in POSITION_FIELDS)))
    return tuple(changes)


def _check_maker(cs: Builder, slot: SlotVars, on: LC, tries: LC, meets: LC, maker_index: LC) -> LC:
    """The maker checks of the module docstring; returns 1 when the maker is dead (its epoch
    is not B's: B cancelled all since it rested), which a fill, a trial or an end refuses
    (``maker_live``)."""
    a, b, maker = slot.a, slot.b, slot.get_book().order
    cs.assert_mul(on, maker_index - b.index, ZERO, "maker_is_record")
    cs.assert_mul(meets, maker.account - b.index, ZERO, "maker_is_b")
    assert_nonzero_if(cs, meets, maker.remaining, "maker_exists")
    with cs.scope("dead"):
        dead = 1 - is_equal(cs, maker.epoch, b.cancel_epoch)
    cs.assert_mul(tries, dead, ZERO, "maker_live")
    assert_nonzero_if(cs, tries, b.index - a.index, "not_self_trade")
    with cs.scope("maker_not_expired"):
        until = maker.expiry + cs.mul(is_zero(cs, maker.expiry), slot.timestamp, "no_expiry")
        left = cs.mul(tries, until - slot.timestamp, "left")
        assert_range(cs, left, slot.preset.timestamp_bits)
    return dead


def _assert_cancel_reason(
    cs: Builder,
    slot: SlotVars,
    cancels: LC,
    reducible: tuple[LC, LC],
    reduce_only: LC,
    dead: LC,
) -> tuple[LC, LC, LC]:
    """``run_step`` / ``match_one``'s reasons to cancel the maker met instead of filling it:
    it is dead (its owner cancelled all since it rested: ``dead``), it expired (an expiry
    before the block's timestamp), it is the taker's own (self-trade), or it is reduce-only
    with nothing to reduce while the taker is not (a reduce-only taker with nothing to reduce
    fails first: its own failure). ``reducible``: the taker's and the
    maker's reducible lots; ``reduce_only``: the taker's flag. Returns 1 when the maker is the
    taker's own (B is A), 1 when the taker is reduce-only with nothing to reduce, and 1 when
    the maker is."""
    a, b, maker, preset = slot.a, slot.b, slot.get_book().order, slot.preset
    with cs.scope("cancel"):
        early = less_than(cs, maker.expiry, slot.timestamp, preset.timestamp_bits)
        expired = cs.mul(1 - is_zero(cs, maker.expiry), early, "expired")
        own = is_equal(cs, a.index, b.index)
        maker_nothing = cs.mul(maker.reduce_only, is_zero(cs, reducible[1]), "maker_nothing")
        taker_nothing = cs.mul(reduce_only, is_zero(cs, reducible[0]), "taker_nothing")
        nothing = cs.mul(maker_nothing, 1 - taker_nothing, "nothing_to_reduce")
        kept = cs.mul(cs.mul(1 - expired, 1 - own, "live_other"), 1 - nothing, "kept")
        kept_live = cs.mul(kept, 1 - dead, "kept_live")
    cs.assert_mul(cancels, kept_live, ZERO, "cancel_has_reason")
    return own, taker_nothing, maker_nothing


def _assert_best(cs: Builder, on: LC, liquidity: Liquidity, maker_is_ask: LC) -> None:
    """``gadgets.book_tree.assert_best_maker`` when ``on``."""
    q, m = liquidity, maker_is_ask
    with cs.scope("priority"):
        better = cs.mul(m, q.asks_cheaper - q.bids_dearer, "better_side")
        cs.assert_mul(on, better + q.bids_dearer, ZERO, "no_better_price")
        earlier = cs.mul(m, q.asks_at_price_below - q.bids_at_price_above, "earlier_side")
        cs.assert_mul(on, earlier + q.bids_at_price_above, ZERO, "no_earlier_at_price")


def define_fill(
    cs: Builder,
    slot: SlotVars,
    on: LC,
    choice: tuple[LC, LC, LC],
    selected: Sequence[LC],
    taker: TakerVars,
    liquidity: Liquidity,
    maker_index: LC,
    size: LC,
    zero_price: LC = ZERO,
) -> FillStep:
    """The fill of the taker (A's order: ``taker.remaining`` 0 unless the fill is made or
    tried) against the book unit's order, in the market ``selected`` (one-hot), of the
    record's ``size``. ``choice`` (cancels, fails risk, ends), instead: the order removed
    unfilled for a reason (``_assert_cancel_reason``), or because the fill, tried, fails the
    maker's valid-risk-change rule (``b_risk_fails``: the slot checks B's risk after the trial,
    and applies nothing of it); or the taker ended at that order on its own failure: reduce-only
    with nothing to reduce, or the fill, tried, passing the maker's rule and failing the
    taker's (``a_risk_fails``) or the open-interest cap. Either way the order is the best one
    crossing the taker's limit. ``taker``'s ``reducible`` is computed here. ``zero_price``:
    a liquidation taker's (0 for any other), see ``_charge_liquidation``."""
    preset, book, b_risk = slot.preset, slot.get_book(), slot.b_risk
    if b_risk is None:
        raise ValueError("a fill needs B's positions and risk: a heavy slot")
    bits = preset.base_amount_bits
    cancels_maker, fails_risk, ends = choice
    meets = on + cancels_maker + ends  # the step meets the maker: fills, cancels or ends there
    live = on + fails_risk + ends  # ... and the maker is neither expired nor the taker's own
    with cs.scope("fill_step"):
        read = [cs.mul(meets, s, f"selected{m}") for m, s in enumerate(selected)]
        dead = _check_maker(cs, slot, on, live, meets, maker_index)
        maker_order = book.order
        _assert_best(cs, meets, liquidity, maker_order.is_ask)
        taker_position = _pick_position(cs, read, slot.a_positions, "taker")
        maker_position = _pick_position(cs, read, slot.b_positions, "maker")
        taker_sign = compute_sign(cs, taker_position.size, bits, "taker_position_sign")
        maker_sign = compute_sign(cs, maker_position.size, bits, "maker_position_sign")
        with cs.scope("taker"):
            taker_reducible = compute_reducible(cs, taker_sign, taker.is_ask)
        with cs.scope("maker"):
            maker_reducible = compute_reducible(cs, maker_sign, maker_order.is_ask)
        reducible = (taker_reducible, maker_reducible)
        own, taker_nothing, maker_nothing = _assert_cancel_reason(
            cs, slot, cancels_maker - fails_risk, reducible, taker.reduce_only, dead
        )
        with cs.scope("end"):  # unless reduce-only with nothing left, the taker ends on a trial
            ends_tried = cs.mul(ends, 1 - taker_nothing, "tried")
            cs.assert_mul(ends_tried, maker_nothing, ZERO, "maker_kept")
        trial_on = fails_risk + ends_tried
        tries = on + trial_on  # the fill is made, or tried
        trying = [cs.mul(tries, s, f"trying{m}") for m, s in enumerate(selected)]
        filling = [cs.mul(on, s, f"filling{m}") for m, s in enumerate(selected)]
        maker = MakerVars(
            maker_order.is_ask,
            book.path.price,
            maker_order.remaining,
            maker_order.reduce_only,
            maker_reducible,
        )
        params = [m.params for m in slot.markets]
        with cs.scope("liquidation"):
            liquidation = 1 - is_zero(cs, zero_price)
        taker_rate = pick(cs, trying, [p[PARAM_TAKER_FEE] for p in params], "taker_fee_rate")
        rates = (
            cs.mul(1 - liquidation, taker_rate, "taker_fee_rate_unless_liquidation"),
            pick(cs, trying, [p[PARAM_MAKER_FEE] for p in params], "maker_fee_rate"),
        )
        taker = TakerVars(
            taker.is_ask, taker.limit_price, taker.remaining, taker.reduce_only, taker_reducible
        )
        fill = compute_fill(cs, preset, taker, maker, rates, None, size, tries, meets, trial_on)
        taker_paid, spread = _charge_liquidation(cs, fill, taker.is_ask, zero_price, liquidation)
        data = [m.data for m in slot.markets]
        index = pick(cs, trying, [d[DATA_FUNDING_INDEX] for d in data], "funding_index")
        owed = (
            pick(cs, trying, list(slot.a_risk.owed), "taker_owed"),
            pick(cs, trying, list(b_risk.owed), "maker_owed"),
        )
        with cs.scope("taker"):
            taker_side = apply_fill(
                cs,
                preset,
                taker_position,
                index,
                owed[0],
                fill.taker_lots,
                taker_paid,
                fill.taker_fee,
            )
        with cs.scope("maker"):
            maker_side = apply_fill(
                cs,
                preset,
                maker_position,
                index,
                owed[1],
                fill.maker_lots,
                fill.maker_paid,
                fill.maker_fee,
            )
        growth = taker_side.long_change + maker_side.long_change
        with cs.scope("open_interest"):
            grew = compute_sign(cs, growth, bits + 1, "growth_sign").positive
            interest = pick(cs, trying, [d[DATA_OPEN_INTEREST] for d in data], "before")
            cap = pick(cs, trying, [p[PARAM_MAX_OPEN_INTEREST] for p in params], "cap")
            room = cs.mul(cs.mul(on, grew, "grew"), cap - interest - growth, "room")
            with cs.scope("open_interest_cap"):
                assert_range(cs, room, OPEN_INTEREST_BITS)
            with cs.scope("over"):  # a tried fill over the cap ends the taker
                grown = interest + cs.mul(grew, growth, "grown")
                over = cs.mul(grew, less_than(cs, cap, grown, OPEN_INTEREST_BITS + 1), "over")
                a_fails = ends_tried - cs.mul(ends_tried, over, "ends_over")
            interest_changes = tuple(cs.mul(s, growth, f"change{m}") for m, s in enumerate(filling))
        # a liquidation taker is not held to its risk rule: it never ends failing it
        cs.assert_mul(liquidation, a_fails, ZERO, "liquidation_risk_not_failed")
        with cs.scope("maker_order"):
            emptied = cs.mul(on, is_zero(cs, fill.maker_remaining), "emptied")
            removed = cs.mul(cancels_maker, maker_order.remaining, "cancelled")
            # the cancelled maker's open orders: A's own (self-trade) or B's; none for a dead
            # one (its owner's cancel-all zeroed them)
            counted = cancels_maker - cs.mul(cancels_maker, dead, "dead_removed")
            own_cancelled = cs.mul(counted, own, "own_cancelled")
        taker_left = cs.mul(on, fill.taker_remaining, "taker_left")  # 0 unless the fill is made
        taker_changes = _position_changes(cs, filling, taker_position, taker_side.position, "taker")
        maker_changes = _position_changes(cs, filling, maker_position, maker_side.position, "maker")
        with cs.scope("trial"):  # what a tried fill moves: for the risks only, never applied
            tried = [cs.mul(trial_on, s, f"selected{m}") for m, s in enumerate(selected)]
            # what a side's risk reads of a position: its size and funding snapshot (and imf)
            trial_positions = tuple(
                _position_changes(cs, tried, old, new.position, name, RISK_FIELDS)
                for old, new, name in (
                    (taker_position, taker_side, "taker"),
                    (maker_position, maker_side, "maker"),
                )
            )
            amounts = (
                taker_side.collateral_change,
                maker_side.collateral_change,
                fill.taker_fee + fill.maker_fee,
                owed[0] + owed[1],
            )
            trial = [
                cs.mul(trial_on, x, name) for x, name in zip(amounts, TRIAL_AMOUNTS, strict=True)
            ]
        insurance = cs.mul(on, spread, "insurance")  # a made fill's spread, for the fund
        a_checked = on - cs.mul(on, liquidation, "liquidated")  # no risk rule for a liquidation
    applied = [x - t for x, t in zip(amounts, trial, strict=True)]
    effect = Effect(
        a_collateral=applied[0],
        a_risk_checked=a_checked,
        a_positions=taker_changes,
        a_open_orders=-own_cancelled,
        b_collateral=applied[1],
        b_positions=maker_changes,
        b_open_orders=-emptied - (counted - own_cancelled),
        b_risk_checked=on + ends_tried,
        order=OrderVars(ZERO, -size - removed, ZERO, ZERO, ZERO),
        fees=applied[2],
        funding=applied[3],
        open_interest=interest_changes,
        b_trial_positions=trial_positions[1],
        b_trial_collateral=trial[1],
        b_risk_fails=fails_risk,
        a_trial_positions=trial_positions[0],
        a_trial_collateral=trial[0],
        a_risk_fails=a_fails,
        insurance=insurance,
    )
    return FillStep(effect, taker_left)


def _charge_liquidation(
    cs: Builder, fill: FillVars, is_ask: LC, zero_price: LC, liquidation: LC
) -> tuple[LC, LC]:
    """``move_fill`` for a liquidation taker (``liquidation``; ``zero_price`` 0 otherwise):
    it pays (receives, selling) ``zero_price * size`` instead of the maker's ``quote``, and the
    spread ``sign * (zero_price * size - quote)`` (``sign`` +1 buying, -1 selling; not
    negative, the fill being within the limit, the zero price) goes to the insurance fund.
    Returns the taker's signed paid quote and the spread (both the fill's own for any other
    taker, and 0)."""
    with cs.scope("liquidation_charge"):
        charged = cs.mul(zero_price, fill.size, "charged")  # 0 unless a liquidation
        extra = charged - cs.mul(liquidation, fill.quote, "liquidated_quote")
        spread = extra - 2 * cs.mul(is_ask, extra, "ask_spread")
    return fill.taker_paid + spread, spread
