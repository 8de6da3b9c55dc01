"""Takeover by the insurance fund in the block circuit (PROTOCOL 7.4, 8.25): proven exactly as
the rules do it, in heavy slots whose B is the fund, and each refusal of the rules refused by
the circuit at its own named constraint.

The states hold two markets: account 3 long BTC and short ETH against account 4, set natively
at the entry prices, then a crash of BTC's mark puts 3 below its close-out margin (or into
bankruptcy). The differential draws the sizes, the fund's own positions (none, the same side,
the opposite side, larger: its position flips), the crash, the funding since the entries and
the fund's money; a takeover the rules refuse has its forced witness (``tests/circuits/
forced.py``, with the record the takeover would write if allowed) refused at a named
constraint, never at a root.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from circuits.block import build_block_circuit
from circuits.r1cs import UnsatisfiedConstraintError
from protocol.accounts import INSURANCE_FUND
from protocol.block import Block, Operation, process_block
from protocol.errors import InvalidBlock, InvalidTransaction
from protocol.field import to_signed
from protocol.liquidation import is_takeover_possible
from protocol.ops.create_order import CreateOrder
from protocol.ops.deposit import Deposit
from protocol.ops.register_key import RegisterKey
from protocol.ops.takeover import Takeover
from protocol.risk import Health, compute_risk
from protocol.state import State, make_genesis
from sequencer.witness import build_block_inputs, build_slot_witness
from tests.circuits.cases_takeover import allowed_record, give
from tests.circuits.forced import forced_witness
from tests.circuits.test_block import (
    TRADING,
    is_consistency_check,
    key_bytes,
    native_public_inputs,
    next_block,
    signed,
    started_block,
)
from tests.circuits.tracing import unsatisfied
from tests.protocol.helpers import BTC, CHAIN_ID, ETH, FAR, MARKET, PRICES, owner_of

PRESET = TRADING  # two heavy slots, two markets
START = 1_000_000
LOTS = {BTC: 1_000, ETH: 500}  # 3's long BTC and short ETH by default


def genesis() -> State:
    """BTC and ETH listed; users 3, 4, 5 funded with START and keyed; 3 rests an ask of 10 ETH
    (an order the takeover cancels)."""
    markets = ((MARKET, PRICES[BTC]), (MARKET, PRICES[ETH]))
    state = make_genesis(PRESET, CHAIN_ID, markets, owner_of(0), owner_of(1))
    ops: list[Operation] = []
    for user in (3, 4, 5):
        ops += [
            Deposit(user, owner_of(user), START),
            RegisterKey(user, owner_of(user), key_bytes(user)),
        ]
    ask = signed(CreateOrder(3, 0, FAR, ETH, True, 10, PRICES[ETH] * 11 // 10), 3)
    for n, start in enumerate(range(0, len(ops), 2), start=1):
        process_block(state, Block(n, 100 * n, tuple(ops[start : start + 2])))
    process_block(state, next_block(state, [ask]))
    return state


def crashed(
    btc_mark: int,
    lots: dict[int, int] = LOTS,
    fund: tuple[int, int] = (0, 0),
    fund_money: int = 10 * START,
    funding: tuple[int, int] = (0, 0),
) -> State:
    """3 long ``lots[BTC]`` and short ``lots[ETH]`` against 4, at the entry prices; the fund
    holding ``fund`` (BTC, ETH lots, against 5) and ``fund_money``; each market's funding index
    moved by ``funding`` since, and BTC's mark at ``btc_mark``."""
    state = genesis()
    for market, size in lots.items():
        if not size:
            continue
        give(state, 3, market, size if market == BTC else -size, PRICES[market])
        give(state, 4, market, -size if market == BTC else size, PRICES[market])
    for market, size in zip((BTC, ETH), fund, strict=True):
        if size:
            give(state, INSURANCE_FUND, market, size, PRICES[market])
            give(state, 5, market, -size, PRICES[market])
    fund_account = state.accounts[INSURANCE_FUND]
    state.set_collateral(fund_account, fund_account.collateral + fund_money)
    for market, shift in zip((BTC, ETH), funding, strict=True):
        data = state.markets[market].data
        state.set_market_data(state.markets[market], "funding_index", data.funding_index + shift)
    state.set_market_data(state.markets[BTC], "mark_price", btc_mark)
    return state


def check_block(state: State, ops: list[Operation]) -> None:
    """The circuit proves ``ops`` with the rules' public inputs (both states advance)."""
    block = next_block(state, ops)
    expected = native_public_inputs(copy.deepcopy(state), block)
    cs, witness = build_block_inputs(state, block)
    cs.check(witness)
    assert cs.public_inputs(witness) == expected


def tav(state: State, index: int) -> int:
    return compute_risk(state.accounts[index], state.markets).tav


def test_a_takeover_below_close_out_is_proven() -> None:
    state = crashed(9_200)  # TAV 200,000 < CMR 231,250
    assert compute_risk(state.accounts[3], state.markets).health == Health.FULL_LIQUIDATION
    total = tav(state, INSURANCE_FUND) + tav(state, 3)
    assert state.accounts[3].open_orders == 1
    check_block(state, [Takeover(3)])
    account = state.accounts[3]
    assert not account.positions and account.open_orders == 0 and account.cancel_epoch == 1
    assert account.collateral >= 0
    assert tav(state, INSURANCE_FUND) + account.collateral == total
    fund = state.accounts[INSURANCE_FUND]
    assert (fund.get_size(BTC), fund.get_size(ETH)) == (LOTS[BTC], -LOTS[ETH])


def test_a_bankrupt_account_is_taken_over_and_its_deficit_paid_by_the_fund() -> None:
    state = crashed(8_900)  # TAV -100,000
    before = tav(state, INSURANCE_FUND) + tav(state, 3)
    assert tav(state, 3) < 0
    check_block(state, [Takeover(3)])
    assert state.accounts[3].collateral == 0 and not state.accounts[3].positions
    assert tav(state, INSURANCE_FUND) == before


def test_a_fund_with_positions_and_unsettled_funding_takes_over() -> None:
    """The fund short BTC more than 3's long (its position flips) and short ETH too; funding
    moved since the entries, settled on both sides; then a second takeover in the next slot
    (4, after a recovery) is refused natively, so only one per block here."""
    state = crashed(9_000, fund=(-1_500, -200), funding=(3_000_000, -7_000_000))
    assert compute_risk(state.accounts[3], state.markets).health >= Health.FULL_LIQUIDATION
    check_block(state, [Takeover(3)])
    fund = state.accounts[INSURANCE_FUND]
    assert (fund.get_size(BTC), fund.get_size(ETH)) == (-500, -700)


def test_an_account_with_one_market_and_a_chosen_leverage_keeps_its_leverage_leaf() -> None:
    state = crashed(9_150, lots={BTC: 1_000})
    state.set_position_field(state.accounts[3], BTC, "imf", 200_000)
    check_block(state, [Takeover(3)])
    position = state.accounts[3].positions[BTC]
    assert (position.size, position.entry_quote, position.imf) == (0, 0, 200_000)


def test_two_takeovers_in_one_block_are_proven() -> None:
    """3 and 5 long BTC against 4, both below CMR after the crash: the fund takes both over in
    the block's two heavy slots (the second reads the fund as the first left it)."""
    state = crashed(9_200, lots={BTC: 1_000})
    give(state, 5, BTC, 1_000, PRICES[BTC])
    give(state, 4, BTC, -1_000, PRICES[BTC])
    check_block(state, [Takeover(3), Takeover(5)])
    assert state.accounts[INSURANCE_FUND].get_size(BTC) == 2_000
    assert not state.accounts[3].positions and not state.accounts[5].positions


# -- refusals at named constraints --------------------------------------------------------------


def first_broken(
    scratch: State,
    op: Operation,
    record: bytes,
    hints: dict[str, Callable[..., list[int]]] | None = None,
) -> set[str]:
    """The constraints the forced witness of ``op`` (with ``record``) breaks: never a root
    check, always one of the rules'."""
    cs, values = build_block_circuit(
        PRESET, CHAIN_ID, forced_witness(scratch, op, record), hint_overrides=hints or {}
    )
    assert values is not None
    with pytest.raises(UnsatisfiedConstraintError, match="is not satisfied"):
        cs.check(values)
    broken = unsatisfied(cs, values)
    assert not {n for n in broken if is_consistency_check(n)}
    return broken


def refused_at(state: State, op: Takeover) -> set[str]:
    scratch = started_block(state)
    with pytest.raises(InvalidTransaction, match=r"reserved accounts|account \d+ is|cannot absorb"):
        build_slot_witness(copy.deepcopy(scratch), op)
    return first_broken(scratch, op, allowed_record(scratch, op))


def test_a_takeover_the_fund_cannot_absorb_is_refused() -> None:
    state = crashed(8_900, fund_money=0)
    assert not is_takeover_possible(state, state.accounts[3])
    assert refused_at(state, Takeover(3)) == {"slot0/fund_absorbs"}


@pytest.mark.parametrize("mark", [9_300, 10_000], ids=["partial-liquidation", "healthy"])
def test_a_takeover_at_or_above_close_out_is_refused(mark: int) -> None:
    assert refused_at(crashed(mark), Takeover(3)) == {"slot0/takeover/below_cmr"}


def test_a_takeover_exactly_at_close_out_is_refused() -> None:
    state = crashed(9_200)
    account = state.accounts[3]
    risk = compute_risk(account, state.markets)
    state.set_collateral(account, account.collateral + risk.cmr - risk.tav)  # TAV == CMR
    assert refused_at(state, Takeover(3)) == {"slot0/takeover/below_cmr"}


def test_a_takeover_of_a_reserved_account_is_refused() -> None:
    broken = refused_at(crashed(9_200), Takeover(INSURANCE_FUND))
    assert "slot0/takeover/not_reserved" in broken


def test_positions_moved_at_another_price_than_the_zero_price_are_refused() -> None:
    """The record's quote one more (a price favouring the account) breaks ``quote_field``; the
    zero price's quotient hinted one more (its remainder one divisor less), so the division
    rounds the other way, breaks the division's remainder range."""
    scratch = started_block(crashed(9_200))
    op = Takeover(3)
    record = allowed_record(scratch, op)
    quote = int.from_bytes(record[9:17], "big")
    tampered = record[:9] + ((quote + 1) % 2**64).to_bytes(8, "big") + record[17:]
    assert first_broken(scratch, op, tampered) == {"slot0/takeover/quote_field"}
    name = "slot0/takeover/market0/zero_price/div_rem/quotient_remainder"
    shift = {name: lambda a, b: [to_signed(a) // b + 1, to_signed(a) % b - b]}
    witness = forced_witness(scratch, op, record)
    cs, values = build_block_circuit(PRESET, CHAIN_ID, witness, hint_overrides=shift)
    assert values is not None
    broken = unsatisfied(cs, values)  # the leaves then differ too: the remainder is first
    assert "slot0/takeover/market0/zero_price/div_rem/remainder/range/bits_sum" in broken
    with pytest.raises(UnsatisfiedConstraintError, match="zero_price/div_rem/remainder"):
        cs.check(values)


# -- the differential ---------------------------------------------------------------------------


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([8_000, 8_900, 9_000, 9_150, 9_200, 9_300, 10_000]),
    st.sampled_from([(1_000, 500), (1_000, 0), (0, 500), (700, 3_000)]),
    st.sampled_from([(0, 0), (-1_500, -200), (400, 100), (-300, 0)]),
    st.sampled_from([0, 300_000, 10 * START]),
    st.sampled_from([(0, 0), (3_000_000, -7_000_000), (-5_000_000, 2_000_000)]),
)
@example(8_900, (1_000, 500), (-1_500, -200), 10 * START, (3_000_000, -7_000_000))
@example(8_000, (1_000, 500), (0, 0), 0, (0, 0))
def test_the_circuit_takes_over_as_the_rules_do(
    mark: int,
    lots: tuple[int, int],
    fund: tuple[int, int],
    money: int,
    funding: tuple[int, int],
) -> None:
    state = crashed(mark, {BTC: lots[0], ETH: lots[1]}, fund, money, funding)
    try:
        native_public_inputs(copy.deepcopy(state), next_block(state, [Takeover(3)]))
    except InvalidBlock:
        broken = refused_at(state, Takeover(3))
        assert broken & {"slot0/takeover/below_cmr", "slot0/fund_absorbs"}, broken
        return
    check_block(state, [Takeover(3)])
    assert not state.accounts[3].positions and state.accounts[3].collateral >= 0
