"""Position leaves and the positions root against ``protocol.commitment``: the engine's own
trees after real trades (minimal and devnet), empty positions as 0 whatever their snapshot,
and a leaf passed off as empty refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from circuits.gadgets.commitment import (
    compute_position_leaf,
    compute_positions_root,
    compute_positions_tree,
    compute_round_digest,
    open_round_account,
    rewrite_position_leaf,
)
from circuits.gadgets.positions import PositionLeafVars
from circuits.r1cs import Builder, LinearCombination
from protocol.accounts import Position
from protocol.commitment import compute_position_leaf as native_leaf
from protocol.commitment import compute_round_digest as native_digest
from protocol.commitment import update_state_root
from protocol.field import from_signed
from protocol.markets import ADL_FIELDS, MarketData
from tests.circuits.harness import run_gadget
from tests.circuits.trading_samples import MID, PRESETS, failing
from tests.protocol.helpers import BTC, ETH, Env

Wires = list[LinearCombination]


def positions_gadget(cs: Builder, ins: Wires) -> Wires:
    positions = [PositionLeafVars(*ins[i : i + 4]) for i in range(0, len(ins), 4)]
    leaves = []
    for m, position in enumerate(positions):
        with cs.scope(f"market{m}"):
            leaves.append(compute_position_leaf(cs, position))
    return [*leaves, compute_positions_root(cs, leaves)]


def position_inputs(positions: list[Position]) -> list[int]:
    return [
        from_signed(v) for p in positions for v in (p.size, p.entry_quote, p.funding_index, p.imf)
    ]


@pytest.mark.parametrize("preset", ["minimal", "devnet"])
def test_the_positions_root_is_the_engines(preset: str) -> None:
    env = Env(preset=PRESETS[preset])
    env.open_many(2, 10**12)
    env.place(3, BTC, True, MID, 7)
    env.place(4, BTC, False, MID + 5, 9)  # 4 long 7 BTC, 2 lots resting
    env.place(3, ETH, False, 1_000, 3)
    env.place(4, ETH, True, 990, 3)  # 3 long 3 ETH
    update_state_root(env.state)
    trees = env.state.trees
    assert trees is not None
    for account in (3, 4):
        held = env.state.accounts[account].positions
        positions = [held.get(m, Position()) for m in range(PRESETS[preset].max_markets)]
        run = run_gadget(positions_gadget, position_inputs(positions))
        run.check()
        assert run.outputs[:-1] == [native_leaf(p) for p in positions]
        assert run.outputs[-1] == trees.get_positions_tree(account).root()


@pytest.mark.parametrize("markets", [2, 4, 8])
def test_a_rewritten_leaf_gives_the_root_of_the_tree_with_it(markets: int) -> None:
    """``rewrite_position_leaf`` at each market of a tree of distinct leaves: the root of the
    full tree with that leaf replaced, every other leaf kept."""
    leaves = [1000 + m for m in range(markets)]
    for traded in range(markets):

        def gadget(cs: Builder, ins: Wires) -> Wires:
            tree = compute_positions_tree(cs, ins[:markets])
            selected = ins[markets : 2 * markets]
            return [rewrite_position_leaf(cs, tree, selected, ins[-1])]

        def full(cs: Builder, ins: Wires) -> Wires:
            return [compute_positions_root(cs, ins)]

        one_hot = [int(m == traded) for m in range(markets)]
        run = run_gadget(gadget, [*leaves, *one_hot, 7])
        run.check()
        replaced = [7 if m == traded else v for m, v in enumerate(leaves)]
        expected = run_gadget(full, replaced)
        assert run.outputs == expected.outputs
        assert run.outputs != run_gadget(full, leaves).outputs


def test_an_empty_position_is_zero_whatever_its_snapshot() -> None:
    positions = [Position(0, 0, -12345, 0), Position(0, 0, 0, 200_000)]
    run = run_gadget(positions_gadget, position_inputs(positions))
    run.check()
    assert run.outputs[:2] == [0, native_leaf(positions[1])] and run.outputs[1] != 0


def test_a_position_passed_off_as_empty_is_refused() -> None:
    """A prover claiming the size is zero (to drop the leaf) is caught at the is-zero."""
    cheat = {"market0/position_leaf/size/is_zero/inverse": lambda v: [0]}
    run = run_gadget(positions_gadget, position_inputs([Position(5, 0, 0, 0), Position()]), cheat)
    assert failing(run) == ["market0/position_leaf/size/is_zero/x_times_out_is_zero"]


# -- the deleverage round's lane (PROTOCOL 6.4) --------------------------------------------------


NO_ROUND = MarketData(index_price=1_000, mark_price=1_000)


def round_gadget(cs: Builder, ins: Wires) -> Wires:
    lane, *fields = ins
    return [open_round_account(cs, lane, fields), compute_round_digest(cs, fields)]


def round_inputs(lane: int, data: MarketData) -> list[int]:
    return [lane, *(from_signed(getattr(data, name)) for name in ADL_FIELDS)]


def test_a_round_lane_opens_to_its_fields() -> None:
    data = replace(
        NO_ROUND, adl_account=4, adl_size=-7, adl_total=30, adl_price=-1_234, adl_cursor=5
    )
    run = run_gadget(round_gadget, round_inputs(native_digest(data), data))
    run.check()
    assert run.outputs == [4, native_digest(data)]


def test_a_closed_round_opens_to_account_0() -> None:
    run = run_gadget(round_gadget, round_inputs(0, NO_ROUND))
    run.check()
    assert run.outputs[0] == 0


@pytest.mark.parametrize("lane", ["another round's", "a closed round's"])
def test_a_lane_opened_to_other_fields_is_refused(lane: str) -> None:
    """The fields of another round (one size more), or a closed round's claimed for an open
    lane (account 0): ``round_opens``."""
    data = replace(NO_ROUND, adl_account=4, adl_size=-7, adl_total=30, adl_price=9_000)
    claimed = replace(data, adl_size=-8) if lane == "another round's" else NO_ROUND
    run = run_gadget(round_gadget, round_inputs(native_digest(data), claimed))
    assert run.rejection() == "round/round_opens"
