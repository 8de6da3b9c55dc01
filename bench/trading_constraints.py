"""Constraints of the trading gadgets at each preset, and what one claim step of the proposed
heavy slot (docs/PROTOCOL.md 8.C, "Trading slots") adds up to (counted in setup mode).

Run: ``.venv/bin/python bench/trading_constraints.py`` (prints the Markdown tables of
docs/PERFORMANCE.md, section "Trading gadgets: constraints").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from circuits.gadgets import book_tree, commitment, matching, poseidon, positions, risk, smt
from circuits.gadgets.conditional import select
from circuits.r1cs import Builder, LinearCombination
from protocol.params import PRESETS, Preset

Wires = list[LinearCombination]
Unit = Callable[[Builder, Preset, Wires], object]
TARGET = 40_000  # issue 11: a claim step at devnet
# a slot's record bytes 7..59 as bits (424) and its ranges, selectors and checks (227): today's
# light-slot figures (docs/PERFORMANCE.md, "Block and exit circuits: constraints")
SLOT_OVERHEAD = 424 + 227


def count(preset: Preset, unit: Unit, inputs: int = 2_000) -> int:
    cs = Builder(witness=False)
    wires = [cs.private(f"in{i}", None) for i in range(inputs)]
    before = cs.num_constraints
    unit(cs, preset, wires)
    return cs.num_constraints - before


def _path(cs: Builder, p: Preset, w: Wires) -> book_tree.BookPathVars:
    count = len(book_tree.SIBLING_ROLES) * p.order_tree_levels
    siblings = [book_tree.BookNodeVars(*w[1 + 3 * i : 4 + 3 * i]) for i in range(count)]
    return book_tree.alloc_path(cs, w[0], siblings, p.order_nonce_bits)


def _node(w: Wires) -> book_tree.BookNodeVars:
    return book_tree.BookNodeVars(w[0], w[1], w[2])


def order_leaf(cs: Builder, p: Preset, w: Wires) -> object:
    order = book_tree.OrderVars(*w[:5])
    return book_tree.compute_order_node(cs, order, w[5], 120)


def book_update(cs: Builder, p: Preset, w: Wires) -> object:
    return book_tree.update_book_leaf(cs, _path(cs, p, w), _node(w[-6:]), _node(w[-3:]))


def book_membership(cs: Builder, p: Preset, w: Wires) -> object:
    return book_tree.compute_book_root(cs, _node(w[-3:]), _path(cs, p, w))


def best_maker(cs: Builder, p: Preset, w: Wires) -> None:
    path = book_tree.BookPathVars(
        w[: p.order_tree_depth], [_node(w)] * (3 * p.order_tree_levels), p.order_nonce_bits
    )
    book_tree.assert_best_maker(cs, book_tree.compute_liquidity(cs, path), w[-1])


def no_crossing(cs: Builder, p: Preset, w: Wires) -> None:
    path = book_tree.BookPathVars(
        w[: p.order_tree_depth], [_node(w)] * (3 * p.order_tree_levels), p.order_nonce_bits
    )
    liquidity = book_tree.compute_liquidity(cs, path)
    book_tree.assert_no_crossing(cs, path, liquidity, _node(w[-3:]), w[-4], w[-5])


def _positions(w: Wires, p: Preset) -> list[risk.PositionVars]:
    return [risk.PositionVars(*w[3 * m : 3 * m + 3]) for m in range(p.max_markets)]


def _markets(w: Wires, p: Preset) -> list[risk.MarketRiskVars]:
    return [risk.MarketRiskVars(*w[500 + 4 * m : 504 + 4 * m]) for m in range(p.max_markets)]


def risk_share(cs: Builder, p: Preset, w: Wires) -> object:
    widths = risk.RiskWidths.of(p)
    return risk.compute_position_risk(cs, widths, _positions(w, p)[0], _markets(w, p)[0])


def risk_all(cs: Builder, p: Preset, w: Wires) -> object:
    return risk.compute_risk(cs, p, w[-1], _positions(w, p), _markets(w, p))


def risk_rule(cs: Builder, p: Preset, w: Wires) -> object:
    return risk.is_valid_risk_change(
        cs, p, risk.RiskVars(w[0], w[1], w[2]), risk.RiskVars(w[3], w[4], w[5])
    )


def fill(cs: Builder, p: Preset, w: Wires) -> object:
    taker, maker = matching.TakerVars(*w[:3]), matching.MakerVars(*w[3:6])
    return matching.compute_fill(cs, p, taker, maker, (w[6], w[7]), w[8], w[9])


def account_update(cs: Builder, p: Preset, w: Wires) -> None:
    """One account leaf rewritten: its Merkle update, the balance half and the leaf before and
    after (the identity half enters as one input, as in the money-path slots)."""
    depth = p.account_tree_depth
    for side in ("old", "new"):
        with cs.scope(side):
            balance = poseidon.hash4(cs, *w[10:14])
            poseidon.hash2(cs, w[14], balance)
    smt.update_leaf(cs, w[0], w[20 : 20 + depth], w[1], w[2])


def positions_update(cs: Builder, p: Preset, w: Wires) -> None:
    """All of an account's position leaves hashed into its positions root (the risk reads every
    position), then the traded one rewritten (picked one-hot) and the root hashed again."""
    held = [positions.PositionLeafVars(*w[4 * m : 4 * m + 4]) for m in range(p.max_markets)]
    leaves = [commitment.compute_position_leaf(cs, x) for x in held]
    commitment.compute_positions_root(cs, leaves)
    traded = commitment.compute_position_leaf(cs, positions.PositionLeafVars(*w[1000:1004]))
    after = [select(cs, w[1100 + m], traded, leaf) for m, leaf in enumerate(leaves)]
    commitment.compute_positions_root(cs, after)


def traded_market_select(cs: Builder, p: Preset, w: Wires) -> None:
    """The traded market's fields picked from all of them (one-hot): the position's size, cost
    basis, funding index and imf, the market's mark, index and fee rate, and the account's
    risk share of that market (TAV, IMR, MMR) to replace."""
    for m in range(p.max_markets):
        for field in range(10):
            select(cs, w[m], w[10 + field], w[20 + field])


def fill_side(cs: Builder, p: Preset, w: Wires) -> object:
    """One side of a fill applied to its position (cost basis, new size, long-side growth)."""
    position = positions.PositionLeafVars(*w[:4])
    return positions.apply_fill(cs, p, position, w[4], w[5], w[6], w[7], w[8])


UNITS: list[tuple[str, Unit]] = [
    ("book_tree.compute_order_node (one order leaf)", order_leaf),
    ("book_tree.update_book_leaf (key bits, old and new path)", book_update),
    ("book_tree.compute_book_root (key bits, one path)", book_membership),
    ("book_tree.compute_liquidity + assert_best_maker", best_maker),
    ("book_tree.compute_liquidity + assert_no_crossing", no_crossing),
    ("risk.compute_position_risk (one market)", risk_share),
    ("risk.compute_risk (every market)", risk_all),
    ("risk.is_valid_risk_change", risk_rule),
    ("matching.compute_fill", fill),
    ("positions.apply_fill (one side)", fill_side),
    (
        "commitment.compute_position_leaf",
        lambda cs, p, w: commitment.compute_position_leaf(cs, positions.PositionLeafVars(*w[:4])),
    ),
]

CLAIM_STEP: list[tuple[str, Unit, int]] = [  # (part, unit, how many)
    ("book: the maker's path, old and new", book_update, 1),
    ("book: maker leaf before and after", order_leaf, 2),
    ("book: priority (best maker)", best_maker, 1),
    ("fill arithmetic", fill, 1),
    ("maker account leaf update", account_update, 1),
    (
        "maker positions: every leaf, root; the traded leaf rewritten, root again",
        positions_update,
        1,
    ),
    ("both sides' positions: cost basis, size, long-side growth", fill_side, 2),
    ("traded market picked, both sides (estimate)", traded_market_select, 2),
    ("risk before: the maker's, every market (the taker's is carried)", risk_all, 1),
    ("risk after, both sides: the traded market's new share", risk_share, 2),
    ("valid-risk-change rule, both sides", risk_rule, 2),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="minimal only (what the tests run)")
    quick = parser.parse_args().quick
    names = ["minimal"] if quick else list(PRESETS)
    print("| gadget | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for label, unit in UNITS:
        counts = [f"{count(PRESETS[n], unit):,}" for n in names]
        print(f"| `{label}` | " + " | ".join(counts) + " |")
    print()
    print("| claim step part | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    totals = dict.fromkeys(names, 0)
    for label, unit, times in CLAIM_STEP:
        row = []
        for n in names:
            c = times * count(PRESETS[n], unit)
            totals[n] += c
            row.append(f"{c:,}")
        print(f"| {label}{f' (x{times})' if times > 1 else ''} | " + " | ".join(row) + " |")
    overhead = " | ".join(f"{SLOT_OVERHEAD:,}" for _ in names)
    print(f"| slot overhead: record bits, ranges, selectors (today's figures) | {overhead} |")
    for n in names:
        totals[n] += SLOT_OVERHEAD
    print("| **total** | " + " | ".join(f"**{totals[n]:,}**" for n in names) + " |")
    if "devnet" in totals:
        print(f"\ndevnet target {TARGET:,}: {totals['devnet'] - TARGET:+,} against it")


if __name__ == "__main__":
    main()
