"""The deleverage round's lane of a market leaf, and the lots its operations move (PROTOCOL 6.4,
7.4; ``protocol.commitment.compute_round_digest``).

A market leaf hashes the round's seven ``adl_*`` fields as one lane: ``sponge(fields,
DOMAIN_ADL_ROUND)``, or 0 when no round is open. A slot that proves a round operation
(``ROUND_OPS`` of ``circuits/ops/slot.py``) reads them as private values and **opens** the
round of the record's market (``open_round``): the market is in the tree and exists and the
fields hash to the market's lane (``round_matches``). That the round is open (``account != 0``)
each operation has from its own account check: the round's account is ``1 +`` an index
(``bankrupt_is_b``, ``bankrupt_is_a``), never 0. An operation **rewrites** the lane through
``Effect.round_lanes`` (what it adds to each market's lane): ``rewrite_lane`` with the new
fields' digest, or 0 where the round closes.

The lots an operation moves between A and B at the round's price (``protocol.liquidation.
transfer_position``) go through one unit per slot (``apply_round_move``), which the operations
hand a :class:`RoundMove` as they hand a matching step: A takes ``lots`` (signed), B gives
them, A pays ``lots * price`` and B receives it, both positions' funding settled first and
snapshotted, open interest changed by both sides' long growth (``gadgets.positions``'s
``apply_signed_fill``, as a takeover moves a position). Nothing moves, and nothing is settled,
where ``lots`` is 0 (the rules skip the transfer).
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.gadgets.equality import is_zero
from circuits.gadgets.poseidon import sponge
from circuits.gadgets.positions import PositionLeafVars, SignVars, apply_signed_fill, compute_sign
from circuits.ops.common import (
    DATA_FUNDING_INDEX,
    DATA_ROUND,
    Effect,
    RoundMove,
    RoundVars,
    SlotVars,
    alloc_private,
    pick,
    select_market,
)
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.commitment import DOMAIN_ADL_ROUND
from protocol.markets import ADL_FIELDS
from protocol.state import State

LC = LinearCombination


def compute_round_lane(cs: Builder, fields: Sequence[LC]) -> LC:
    """``sponge(fields, DOMAIN_ADL_ROUND)``: the lane of an open round with these fields."""
    with cs.scope("round_digest"):
        return sponge(cs, list(fields), DOMAIN_ADL_ROUND)


def open_round(
    cs: Builder, slot: SlotVars, on: LC, market: LC, values: Sequence[int] | None
) -> RoundVars:
    """The open round of ``market`` when ``on`` (the sum of the round operations' selectors):
    its fields as private values (``values``: the seven ``ADL_FIELDS``, signed as ``v mod r``;
    None in setup mode), the market selected (``select_market``) and its digest the market's
    lane (``round_matches``). The sign of its size
    ``s`` (``|s| < 2^base_amount_bits``) is shared by the operations."""
    with cs.scope("round"):
        fields = alloc_private(cs, ADL_FIELDS, values)
        selected = tuple(select_market(cs, slot, on, market))
        lane = pick(cs, selected, [m.data[DATA_ROUND] for m in slot.markets], "lane")
        digest = compute_round_lane(cs, fields)
        cs.assert_mul(on, digest - lane, ZERO, "round_matches")
        size = compute_sign(cs, fields[1], slot.preset.base_amount_bits, "size_sign")
    account, signed, total, price, cursor, seen, moved = fields
    return RoundVars(on, selected, lane, account, signed, total, price, cursor, seen, moved, size)


def rewrite_lane(cs: Builder, r: RoundVars, on: LC, new_lane: LC, name: str) -> tuple[LC, ...]:
    """``Effect.round_lanes`` of an operation (``on``) that leaves the selected market's lane
    at ``new_lane`` (0: the round closes)."""
    change = cs.mul(on, new_lane - r.lane, f"{name}_lane")
    return tuple(cs.mul(s, change, f"{name}_lane{m}") for m, s in enumerate(r.selected))


def _picked_sign(cs: Builder, r: RoundVars, signs: Sequence[tuple[LC, LC]], name: str) -> SignVars:
    """The selected market's size sign of a risk unit (its zero pinned as not negative)."""
    negative = pick(cs, r.selected, [s[0] for s in signs], f"{name}_negative")
    magnitude = pick(cs, r.selected, [s[1] for s in signs], f"{name}_magnitude")
    zero = is_zero(cs, magnitude)
    return SignVars(ZERO, magnitude, cs.mul(negative, 1 - zero, f"{name}_signed"), zero)


def apply_round_move(cs: Builder, slot: SlotVars, move: RoundMove) -> Effect:
    """The transfer of ``move`` in the round's market (the module docstring)."""
    r, preset = slot.round, slot.preset
    assert r is not None and slot.b_risk is not None  # a heavy slot's
    index = pick(cs, r.selected, [m.data[DATA_FUNDING_INDEX] for m in slot.markets], "index")
    quote = cs.mul(move.lots, r.price, "quote")  # what A pays
    delta = SignVars(move.lots, move.magnitude, move.negative, 1 - move.moves)
    given = SignVars(-move.lots, move.magnitude, move.moves - move.negative, 1 - move.moves)
    effects = []
    for side, positions, risk, d, paid in (
        ("a", slot.a_positions, slot.a_risk, delta, quote),
        ("b", slot.b_positions, slot.b_risk, given, -quote),
    ):
        with cs.scope(f"{side}_move"):
            size_, entry_, index_ = (
                pick(cs, r.selected, [getattr(p, f) for p in positions], f"old_{f}")
                for f in ("size", "entry_quote", "funding_index")
            )
            old = PositionLeafVars(size_, entry_, index_, ZERO)  # the fill keeps the leverage
            sign = _picked_sign(cs, r, risk.signs, "size")
            size = SignVars(old.size, sign.magnitude, sign.negative, sign.zero)
            owed = cs.mul(move.moves, pick(cs, r.selected, risk.owed, "owed"), "settled")
            with cs.scope("fill"):
                fill = apply_signed_fill(cs, preset, old, size, d, index, owed, paid, ZERO)
            entry = fill.position.entry_quote - old.entry_quote
            snapshot = cs.mul(move.moves, index - old.funding_index, "snapshot")
            changes = tuple(
                PositionLeafVars(
                    cs.mul(s, d.value, f"size_change{m}"),
                    cs.mul(s, entry, f"entry_change{m}"),
                    cs.mul(s, snapshot, f"snapshot_change{m}"),
                    ZERO,
                )
                for m, s in enumerate(r.selected)
            )
            effects.append((changes, fill.collateral_change, fill.long_change, owed))
    (a_changes, a_money, a_long, a_owed), (b_changes, b_money, b_long, b_owed) = effects
    long_change = a_long + b_long
    return Effect(
        a_collateral=a_money,
        b_collateral=b_money,
        a_positions=a_changes,
        b_positions=b_changes,
        funding=a_owed + b_owed,
        open_interest=tuple(
            cs.mul(s, long_change, f"open_interest{m}") for m, s in enumerate(r.selected)
        ),
    )


def get_round_account(state: State, market: int) -> int | None:
    """The bankrupt account of ``market``'s open round, from the state before the operation
    (None without one, or for a market outside the tree)."""
    if not 0 <= market < len(state.markets):
        return None
    account = state.markets[market].data.adl_account
    return account - 1 if account else None
