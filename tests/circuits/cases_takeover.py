"""Cases of ``test_necessity`` for the takeover (``circuits/ops/takeover.py``, and the slot's
``fund_absorbs``): for each of their named constraints, a witness that it alone refuses.

They start from a crash set natively (``crash``): 3 long ``LOTS`` BTC against 4 at the mark,
the fund holding ``FUND`` micro-USDC, then BTC's mark at ``mark`` (9,200: 3's TAV 200,000
below its CMR 230,000; 8,900: bankrupt). Where a case changes what the slot moves, the record
follows the slot's wires (``_follow``: the markets moved and their quotes' sum), as a prover
free of that constraint would post it. The fund's side of each market is
``gadgets.positions.apply_signed_fill``, the fill's own code (EXEMPT: tested beside it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import partial

from circuits.r1cs import HintFn
from protocol.accounts import FEE_ACCOUNT, INSURANCE_FUND
from protocol.block import compute_record
from protocol.events import Event, PositionTakenOver
from protocol.field import R, to_signed
from protocol.liquidation import absorb_deficit, transfer_position
from protocol.ops import takeover
from protocol.ops.noop import Noop
from protocol.ops.takeover import Takeover
from protocol.orders import cancel_all
from protocol.risk import compute_risk, compute_zero_price
from protocol.state import State
from sequencer.witness import capture_account
from tests.circuits.forced import get_circuit
from tests.circuits.violations import (
    MARK,
    PRESET,
    Read,
    Violation,
    account_inputs,
    add,
    edit,
    prepare_all,
    resting,
    shifted,
    started,
    to,
    violation,
    with_unused_byte,
)
from tests.protocol.helpers import BTC

LOTS = 1_000
FUND = 10**7
LAST_EPOCH = (1 << PRESET.account_nonce_bits) - 1
T = "slot0/takeover/"


def give(state: State, account: int, market: int, size: int, price: int) -> None:
    """``account`` holds ``size`` lots more in ``market``, bought (sold) at ``price``, set
    natively (cash model: the quote leaves its collateral), open interest kept."""
    holder = state.accounts[account]
    old = holder.get_size(market)
    state.set_position_field(holder, market, "size", old + size)
    entry = holder.positions[market].entry_quote
    state.set_position_field(holder, market, "entry_quote", entry + size * price)
    state.set_collateral(holder, holder.collateral - size * price)
    data = state.markets[market].data
    long_change = max(old + size, 0) - max(old, 0)
    state.set_open_interest(state.markets[market], data.open_interest + long_change)


def allowed_record(state: State, op: Takeover) -> bytes:
    """The record a takeover of ``op.account`` would write if the rules allowed it."""
    scratch = copy.deepcopy(state)
    account = scratch.accounts[op.account]
    risk = compute_risk(account, scratch.markets)
    out: list[Event] = []
    cancel_all(scratch, account, "liquidation", out)
    for m in sorted(account.positions):
        size = account.get_size(m)
        if size:
            market = scratch.markets[m]
            zero = compute_zero_price(risk, market, size > 0)
            fund = scratch.accounts[INSURANCE_FUND]
            quote = transfer_position(scratch, account, fund, market, size, zero, out)
            out.append(PositionTakenOver(account.index, m, size, quote))
    absorb_deficit(scratch, account)
    return compute_record(op, tuple(out))


def crash(mark: int = 9_200, fund: int = FUND) -> Callable[[State], None]:
    def prepare(state: State) -> None:
        give(state, 3, BTC, LOTS, MARK)
        give(state, 4, BTC, -LOTS, MARK)
        holder = state.accounts[INSURANCE_FUND]
        state.set_collateral(holder, holder.collateral + fund)
        state.set_market_data(state.markets[BTC], "mark_price", mark)

    return prepare


def _record(prepare: Callable[[State], None]) -> bytes:
    """The record of 3's takeover as if allowed, after ``prepare``."""
    state = started()
    prepare(state)
    return allowed_record(state, Takeover(3))


def _follow(read: Read) -> bytes:
    """The record of the slot's wires: the markets moved and their quotes' sum."""
    moved = sum(read(f"{T}market{m}/moves") % R for m in range(PRESET.max_markets))
    quote = sum(to_signed(read(f"{T}market{m}/paid") % R) for m in range(PRESET.max_markets))
    return takeover.RECORD.encode((3, moved, quote % 2**64))


def _wire(name: str, mark: int = 9_200) -> Violation:
    """3's takeover with the wire ``name`` one more, the record following the slot."""
    return violation(
        Takeover(3), prepare=crash(mark), wires={T + name: add(1)}, record_from=_follow
    )


def _with_quote(delta: int) -> bytes:
    record = bytearray(_record(crash()))
    start, length = takeover.RECORD.offset("quote")
    quote = int.from_bytes(record[start : start + length], "big")
    record[start : start + length] = ((quote + delta) % 2**64).to_bytes(length, "big")
    return bytes(record)


def _with_positions(delta: int) -> bytes:
    record = bytearray(_record(crash()))
    start, length = takeover.RECORD.offset("positions")
    count = int.from_bytes(record[start : start + length], "big")
    record[start : start + length] = (count + delta).to_bytes(length, "big")
    return bytes(record)


def _fee_account_in_debt(state: State) -> None:
    crash()(state)
    state.set_collateral(state.accounts[FEE_ACCOUNT], -5)


def _b_is_5() -> dict[str, int]:
    state = started()
    crash()(state)
    return account_inputs("b", capture_account(state, 5))


def _remainder_plus_one() -> dict[str, HintFn]:
    name = f"{T}market0/zero_price/div_rem/quotient_remainder"
    return shifted(name, lambda v: [v[0], v[1] + 1])


TAKEOVER_CASES: dict[str, Callable[[], Violation]] = {
    "fund_absorbs": lambda: violation(
        Takeover(3), _record(crash(8_900, 0)), prepare=crash(8_900, 0)
    ),
    "takeover/below_cmr": lambda: violation(
        Takeover(3), _record(crash(9_300)), prepare=crash(9_300)
    ),
    # account 9 has no leaf: its fields free, its collateral -5 (below its CMR of 0)
    "takeover/account_exists": lambda: violation(
        Takeover(9), prepare=crash(), edit_a=edit(collateral=-5)
    ),
    "takeover/not_reserved": lambda: violation(Takeover(FEE_ACCOUNT), prepare=_fee_account_in_debt),
    "takeover/reserved_product": lambda: _wire("reserved_product"),
    "takeover/reserved": lambda: _wire("reserved"),
    "takeover/fund_is_b": lambda: violation(
        Takeover(3), _record(crash()), prepare=crash(), inputs=_b_is_5()
    ),
    "takeover/epoch_not_spent": lambda: violation(
        Takeover(3), _record(crash()), prepare=crash(), edit_a=edit(cancel_epoch=LAST_EPOCH)
    ),
    "takeover/zeroed": lambda: violation(
        Takeover(3),
        _record(prepare_all(resting(), crash())),
        prepare=prepare_all(resting(), crash()),
        wires={T + "zeroed": to(0)},
    ),
    "takeover/positions_field": lambda: violation(Takeover(3), _with_positions(1), prepare=crash()),
    "takeover/quote_field": lambda: violation(Takeover(3), _with_quote(1), prepare=crash()),
    "takeover/unused_bytes_zero": lambda: violation(
        Takeover(3),
        with_unused_byte(get_circuit(Takeover(3)), _record(crash())),
        prepare=crash(),
    ),
    "takeover/a_collateral": lambda: _wire("a_collateral"),
    "takeover/paid": lambda: _wire("paid", mark=8_900),
    "takeover/deficit/deficit": lambda: _wire("deficit/deficit", mark=8_900),
    "takeover/funding": lambda: _wire("funding"),
    "takeover/market#/zero_price/div_rem/a_is_q_times_b_plus_rem": lambda: violation(
        Takeover(3), _record(crash()), prepare=crash(), hints=_remainder_plus_one()
    ),
    **{
        f"takeover/market#/{name}": partial(_wire, f"market0/{name}")
        for name in (
            *("moves", "value", "discount", "lots", "lots_magnitude", "sold", "paid"),
            *("b_short", "b_owed", "a_snapshot", "a_entry", "b_snapshot", "a_long"),
            *("zero_price/mark_mmf", "zero_price/times_tav", "zero_price/numerator"),
        )
    },
}

TAKEOVER_FAMILIES = {n for n in TAKEOVER_CASES if "#" in n}


def _selectors(**values: int) -> dict[str, int]:
    return {f"slot0/type/is_{name}": v for name, v in values.items()}


TAKEOVER_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {
    # a noop (the fund) whose selectors sum to 1 through the takeover's -1 (types -25 + 8 +
    # 17 = 0): the takeover negated refuses the fund as a reserved account above its CMR and
    # moves its epoch by -1 (B's split, which the fund's block-end credit reads too: its open
    # orders' range), the claim wants a pending taker and its book leaf
    "type/is_takeover_boolean": (
        lambda: violation(Noop(), inputs=_selectors(takeover=-1, forced_burn=1, claim=1, noop=0)),
        {
            *("takeover/not_reserved", "takeover/below_cmr", "b/epoch_follows_a"),
            *("claim/taker_pending", "book/book_root_matches", "book/order_root_matches"),
            "block_end/insurance_fund/open_orders/range/bits_sum",
        },
    ),
}

TAKEOVER_EXEMPT = {
    r"/takeover/market\d+/fund/": "the fund's side, a fill's: tests/circuits/test_positions.py",
    r"/takeover/deficit/magnitude/": "sign and magnitude: tests/circuits/test_risk.py",
}
