"""The deleverage start (type 26) and the freeze of its round in the block circuit (PROTOCOL 7.4,
8.26): while a market's
round is open (its ``adl_round`` lane not 0) no operation moves a position in it, exactly where
the rules raise ``MarketDeleveraging`` (``matching.run_step``, the forced order's refusals, the
takeover's markets), and what the rules still allow there is proven.

The states are ``test_takeover``'s (3 long BTC against 4, the fund funded), with a round of
account 5 opened natively in BTC before the block (``cases_deleverage_start.frozen``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

import pytest

from circuits.block import build_block_circuit
from circuits.r1cs import UnsatisfiedConstraintError
from protocol.accounts import INSURANCE_FUND
from protocol.block import process_operation
from protocol.errors import DeleverageNotAllowed, InvalidTransaction, MarketDeleveraging
from protocol.events import RequestRejected, TakerDone
from protocol.field import R, to_signed
from protocol.liquidation import compute_bankruptcy_price, is_takeover_possible
from protocol.ops import deleverage as deleverage_op
from protocol.ops.create_order import CreateOrder, TimeInForce
from protocol.ops.deleverage import Deleverage
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.liquidate import Liquidate
from protocol.ops.registry import decode_op, get_operation
from protocol.ops.takeover import Takeover
from protocol.ops.trigger_order import FireTrigger
from protocol.risk import compute_risk, compute_zero_price
from protocol.state import State
from sequencer.witness import build_block_witness, build_slot_witness
from tests.circuits.cases_deleverage_start import frozen
from tests.circuits.cases_takeover import give
from tests.circuits.cases_trigger import place
from tests.circuits.test_block import next_block, signed, started_block
from tests.circuits.test_takeover import LOTS, PRESET, check_block, crashed, first_broken, tav
from tests.circuits.tracing import unsatisfied
from tests.protocol.helpers import BTC, CHAIN_ID, ETH, FAR, PRICES, owner_of

ASK = PRICES[BTC] * 11 // 10  # an ask above the mark, inside the band
STEP_REFUSED = {"slot0/step/market_not_deleveraging"}


def frozen_state(btc_mark: int = PRICES[BTC]) -> State:
    state = crashed(btc_mark)
    frozen(BTC)(state)
    return state


def refused(state: State, op: object, record: bytes) -> set[str]:
    """The constraints the forced witness of ``op`` (with the record it would write outside
    the round) breaks, after the rules refuse it with MarketDeleveraging."""
    scratch = started_block(state)
    with pytest.raises(MarketDeleveraging, match="deleverag"):
        build_slot_witness(copy.deepcopy(scratch), op)  # type: ignore[arg-type]
    return first_broken(scratch, op, record)  # type: ignore[arg-type]


def record_outside_round(state: State, op: object) -> bytes:
    """The record ``op`` writes where the round is closed (its fields set back to 0)."""
    scratch = started_block(state)
    for name in ("account", "size", "total", "price"):
        scratch.set_market_data(scratch.markets[BTC], f"adl_{name}", 0)
    return build_slot_witness(scratch, op).record  # type: ignore[arg-type]


def test_a_trigger_fired_in_a_frozen_market_ends_unfilled_and_is_proven() -> None:
    state = frozen_state()
    place()(state)  # 3's stop-loss, at the mark: it fires
    size = state.accounts[3].get_size(BTC)
    events = process_operation(started_block(state), FireTrigger(BTC, 0))
    assert [e.outcome for e in events if isinstance(e, TakerDone)] == ["MarketDeleveraging"]
    slot = build_slot_witness(started_block(state), FireTrigger(BTC, 0))
    assert slot.ends_taker and not slot.rest_fails
    check_block(state, [FireTrigger(BTC, 0)])
    assert state.accounts[3].get_size(BTC) == size
    assert not state.markets[BTC].triggers


def test_a_forced_order_in_a_frozen_market_is_consumed_with_status_0() -> None:
    state = frozen_state()
    op = ForcedOrder(4, owner_of(4), BTC, 0, PRICES[BTC], 10)
    events = process_operation(started_block(state), op)
    assert any(isinstance(e, RequestRejected) and e.reason == "MarketDeleveraging" for e in events)
    check_block(state, [op])


def test_a_post_only_order_rests_in_a_frozen_market() -> None:
    state = frozen_state()
    op = signed(CreateOrder(5, 0, FAR, BTC, True, 10, ASK, time_in_force=TimeInForce.POST_ONLY), 5)
    check_block(state, [op])
    assert state.accounts[5].open_orders == 1


def test_a_trade_in_a_frozen_market_is_refused_at_the_freeze() -> None:
    state = frozen_state()
    op = signed(CreateOrder(5, 0, FAR, BTC, True, 10, ASK), 5)
    assert refused(state, op, record_outside_round(state, op)) == STEP_REFUSED


def test_a_liquidation_in_a_frozen_market_is_refused_at_the_freeze() -> None:
    state = crashed(9_400)  # 3 in partial liquidation
    op = Liquidate(3, BTC, 100)
    record = build_slot_witness(started_block(state), op).record
    frozen(BTC)(state)
    assert refused(state, op, record) == STEP_REFUSED


def test_a_takeover_of_a_position_in_a_frozen_market_is_refused_at_the_freeze() -> None:
    state = frozen_state(9_200)  # 3 below its CMR
    op = Takeover(3)
    record = record_outside_round(state, op)
    with pytest.raises(MarketDeleveraging, match="deleverag"):
        build_slot_witness(started_block(state), op)
    broken = first_broken(started_block(state), op, record)
    assert broken == {f"slot0/takeover/market{BTC}/market_not_deleveraging"}


# -- the deleverage start (type 26) -------------------------------------------------------------


def round_of(state: State, market: int = BTC) -> tuple[int, ...]:
    data = state.markets[market].data
    return (data.adl_account, data.adl_size, data.adl_total, data.adl_price)


def test_a_start_of_an_account_the_fund_cannot_absorb_is_proven() -> None:
    state = crashed(8_900, fund_money=0)  # 3 bankrupt, the fund empty
    assert tav(state, 3) < 0 and not is_takeover_possible(state, state.accounts[3])
    risk = compute_risk(state.accounts[3], state.markets)
    zero = compute_zero_price(risk, state.markets[BTC], True)
    check_block(state, [Deleverage(3, BTC)])
    assert round_of(state) == (4, LOTS[BTC], LOTS[BTC], zero)
    assert state.accounts[3].open_orders == 0 and state.accounts[3].cancel_epoch == 1


def bankrupt_fund(state: State, cash: int) -> None:
    """The fund long 100 BTC against 5, its cash ``cash`` after it: bankrupt after a crash."""
    give(state, INSURANCE_FUND, BTC, 100, PRICES[BTC])
    give(state, 5, BTC, -100, PRICES[BTC])
    state.set_collateral(state.accounts[INSURANCE_FUND], cash)


def test_the_funds_own_start_is_proven() -> None:
    state = crashed(8_900, fund_money=0)
    bankrupt_fund(state, -950_000)  # TAV -950,000 + 100 * 8,900 < 0
    assert tav(state, INSURANCE_FUND) < 0
    fund = compute_risk(state.accounts[INSURANCE_FUND], state.markets)
    price = compute_bankruptcy_price(fund, state.markets[BTC], 100)  # its last position
    check_block(state, [Deleverage(INSURANCE_FUND, BTC)])
    assert round_of(state) == (INSURANCE_FUND + 1, 100, LOTS[BTC] + 100, price)


def test_a_last_positions_round_takes_the_bankruptcy_price() -> None:
    state = crashed(8_901, lots={BTC: 999}, fund_money=0)  # 3 long BTC only
    risk = compute_risk(state.accounts[3], state.markets)
    price = compute_bankruptcy_price(risk, state.markets[BTC], 999)
    assert price == compute_zero_price(risk, state.markets[BTC], True) + 1 == 8_999
    check_block(state, [Deleverage(3, BTC)])
    assert round_of(state)[3] == price


def test_a_short_with_negative_cash_opens_its_round_at_a_negative_price() -> None:
    state = crashed(PRICES[BTC], lots={BTC: 0, ETH: 0}, fund_money=0)
    give(state, 3, BTC, -10, PRICES[BTC])
    give(state, 4, BTC, 10, PRICES[BTC])
    state.set_collateral(state.accounts[3], -300_000)  # TAV -400,000 at the mark
    check_block(state, [Deleverage(3, BTC)])
    assert round_of(state) == (4, -10, 10, PRICES[BTC] - 40_000)


def test_two_starts_in_one_block_see_each_others_round() -> None:
    """3's BTC round opened in slot 0; its ETH round in slot 1 is refused (3 is in a round),
    and a second round in BTC too (the market's lane is no longer 0)."""
    state = crashed(8_900, fund_money=0)
    check_block(state, [Deleverage(3, BTC)])
    scratch = started_block(state)
    with pytest.raises(DeleverageNotAllowed, match="open round"):
        build_slot_witness(copy.deepcopy(scratch), Deleverage(3, ETH))
    broken = first_broken(scratch, Deleverage(3, ETH), record(Deleverage(3, ETH)))
    assert broken == {"slot0/deleverage/in_no_round"}


def record(op: Deleverage) -> bytes:
    return deleverage_op.RECORD.encode((op.account, op.market))


def start_refused(state: State, op: Deleverage, match: str, **kw: object) -> set[str]:
    scratch = started_block(state)
    with pytest.raises(InvalidTransaction, match=match):
        build_slot_witness(copy.deepcopy(scratch), op)
    return first_broken(scratch, op, record(op), **kw)  # type: ignore[arg-type]


def test_a_start_the_fund_could_absorb_is_refused() -> None:
    state = crashed(8_900)  # the fund holds 10 * START: it can take 3 over
    assert is_takeover_possible(state, state.accounts[3])
    broken = start_refused(state, Deleverage(3, BTC), "not bankrupt beyond")
    assert broken == {"slot0/fund_cannot_absorb"}


def test_a_start_of_a_solvent_account_is_refused() -> None:
    state = crashed(9_200, fund_money=0)  # 3 below CMR, TAV 200,000
    broken = start_refused(state, Deleverage(3, BTC), "not bankrupt beyond")
    assert broken == {"slot0/deleverage/bankrupt"}


def test_a_second_round_in_a_market_is_refused() -> None:
    state = crashed(8_900, fund_money=0)
    frozen(BTC)(state)  # 5's round open in BTC
    broken = start_refused(state, Deleverage(3, BTC), "deleverag")
    assert broken == {"slot0/deleverage/no_round"}


def _quotient_moved(shift: int) -> Callable[[int, int], list[int]]:
    """The floor division's hint with its quotient moved by ``shift`` and its remainder kept
    consistent (``q * b + rem`` unchanged)."""

    def hint(a: int, b: int) -> list[int]:
        q, rem = divmod(to_signed(a), b)
        return [(q + shift) % R, (rem - shift * b) % R]

    return hint


@pytest.mark.parametrize("shift", [1, -1], ids=["up", "down"])
def test_a_round_price_a_tick_off_is_refused(shift: int) -> None:
    """The price's quotient (the zero price's discount) moved by one: its remainder leaves its
    range, whichever way."""
    state = crashed(8_900, fund_money=0)
    op = Deleverage(3, BTC)
    hints = {"slot0/deleverage/price/div_rem/quotient_remainder": _quotient_moved(shift)}
    broken = first_broken(started_block(state), op, record(op), hints)
    assert broken and all("/deleverage/price/div_rem/" in n for n in broken), broken


def test_reconstruction_decodes_a_start_from_its_record() -> None:
    state = crashed(8_900, fund_money=0)
    op = Deleverage(3, BTC)
    slot = build_slot_witness(started_block(state), op)
    assert get_operation(decode_op(slot.record)) == op


@pytest.mark.parametrize("account", [0, 4], ids=["closed", "another-account"])
def test_a_round_lane_opened_to_other_fields_is_refused(account: int) -> None:
    """The header's opening of a market's round lane: fields claimed closed (account 0) or
    naming another account than the lane's refuse at ``round_opens``."""
    state = frozen_state()
    w = build_block_witness(copy.deepcopy(state), next_block(state, []))
    market = w.markets[BTC]
    forged = replace(market, round=(account, *market.round[1:]))
    w = replace(w, markets=(forged, *w.markets[1:]))
    cs, values = build_block_circuit(PRESET, CHAIN_ID, w)
    assert values is not None
    with pytest.raises(UnsatisfiedConstraintError, match="is not satisfied"):
        cs.check(values)
    assert unsatisfied(cs, values) == {f"markets/market{BTC}/round/round_opens"}


def test_two_rounds_open_in_one_block() -> None:
    """3's BTC round in slot 0, then 5's ETH round in slot 1: the second slot reads the
    markets and round accounts the first left (5 short ETH with a debt, the fund empty)."""
    state = crashed(8_900, lots={BTC: 1_000}, fund_money=0)
    give(state, 5, ETH, -500, PRICES[ETH])
    give(state, 4, ETH, 500, PRICES[ETH])
    state.set_collateral(state.accounts[5], -600_000)  # TAV -1,100,000
    check_block(state, [Deleverage(3, BTC), Deleverage(5, ETH)])
    assert round_of(state, BTC)[0] == 4 and round_of(state, ETH)[:3] == (6, -500, 500)
