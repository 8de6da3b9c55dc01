"""Cases of ``test_necessity`` for the pool-share operations (``circuits/ops/mint_shares.py``,
``burn_shares.py``, ``forced_burn.py``): for each of their named constraints, a witness that it
alone refuses.

They start from a pool set natively (``pooled``): the fund's supply ``SUPPLY`` of which 3
holds ``HELD``, its value ``VALUE`` (its collateral), so a share is worth ``VALUE / SUPPLY`` and
neither a mint nor a burn divides exactly. A forced burn's record follows the slot's wires
(status and collateral out), as the rules would write it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from circuits.r1cs import HintFn
from protocol.accounts import FUNDING_POOL, INSURANCE_FUND
from protocol.block import Operation, compute_record
from protocol.events import SharesBurned, SharesMinted
from protocol.field import inv
from protocol.ops import forced_burn
from protocol.ops.burn_shares import BurnShares
from protocol.ops.forced_burn import ForcedBurn
from protocol.ops.mint_shares import MintShares
from protocol.risk import compute_risk
from protocol.state import State
from sequencer.witness import capture_account
from tests.circuits.forced import get_circuit
from tests.circuits.test_block import signed
from tests.circuits.violations import (
    MARK,
    AccountWitness,
    Read,
    Violation,
    account_inputs,
    add,
    keyed,
    shifted,
    sign_as,
    started,
    to,
    violation,
    with_unused_byte,
)
from tests.protocol.helpers import BTC, FAR, key_of, owner_of

SUPPLY, HELD, VALUE = 900_000, 600_000, 1_000_000
AMOUNT, SHARES = 1_001, 1_000  # a mint's and a burn's
MINTED, PAID = AMOUNT * SUPPLY // VALUE, SHARES * VALUE // SUPPLY


def _set_shares(state: State, index: int, shares: int) -> None:
    state.set_account_field(state.accounts[index], "pool_shares", shares)


def pooled(state: State) -> None:
    """3 holds HELD shares, 4 the rest of SUPPLY; the fund's value is VALUE."""
    fund = state.accounts[INSURANCE_FUND]
    _set_shares(state, INSURANCE_FUND, SUPPLY)
    _set_shares(state, 3, HELD)
    _set_shares(state, 4, SUPPLY - HELD)
    state.set_collateral(fund, VALUE)


def _fund_value(value: int) -> Callable[[State], None]:
    def prepare(state: State) -> None:
        pooled(state)
        state.set_collateral(state.accounts[INSURANCE_FUND], value)

    return prepare


def _held(value: int) -> Callable[[State], None]:
    """No share minted yet, the fund holding ``value``."""

    def prepare(state: State) -> None:
        state.set_collateral(state.accounts[INSURANCE_FUND], value)

    return prepare


def near_margin(state: State) -> None:
    """``pooled``, the fund short 100 lots at the mark, its TAV 10 above its MMR."""
    pooled(state)
    fund = state.accounts[INSURANCE_FUND]
    for name, value in (("size", -100), ("entry_quote", -100 * MARK)):
        state.set_position_field(fund, BTC, name, value)
    risk = compute_risk(fund, state.markets)
    state.set_collateral(fund, fund.collateral - (risk.tav - risk.mmr) + 10)


def _pool_keyed(state: State) -> None:
    """``pooled``, the funding pool with a key, START collateral and 1,000 shares."""
    pooled(state)
    pool = state.accounts[FUNDING_POOL]
    point = key_of(FUNDING_POOL).public_key
    state.set_account_field(pool, "pubkey", (point.x, point.y))
    state.set_collateral(pool, 10**6)
    _set_shares(state, FUNDING_POOL, 1_000)


def mint(amount: int = AMOUNT, account: int = 5) -> MintShares:
    op: MintShares = signed(MintShares(account, 0, FAR, amount), account)
    return op


def burn(shares: int = SHARES, account: int = 3) -> BurnShares:
    op: BurnShares = signed(BurnShares(account, 0, FAR, shares), account)
    return op


def minted(op: MintShares, shares: int) -> bytes:
    return compute_record(op, (SharesMinted(op.account, op.amount, shares),))


def paid(op: BurnShares, amount: int) -> bytes:
    return compute_record(op, (SharesBurned(op.account, op.shares, amount),))


FORCED = ForcedBurn(3, owner_of(3), SHARES)


def forced_record(
    op: ForcedBurn, out: int = 0, status: int | None = None
) -> Callable[[Read], bytes]:
    """The record whose status and collateral out are the slot's (``out`` added to it,
    ``status`` instead of the slot's when given)."""

    def record(read: Read) -> bytes:
        s = read("slot0/forced_burn/status") if status is None else status
        value = read("slot0/forced_burn/out") + out
        return forced_burn.RECORD.encode((op.account, op.owner, op.shares, value, s))

    return record


def _forced(op: ForcedBurn = FORCED, **kwargs: Any) -> Violation:
    kwargs.setdefault("record_from", forced_record(op))
    return violation(op, prepare=pooled, **kwargs)


def _b_is(index: int) -> dict[str, int]:
    """B's inputs: account ``index`` (of the pooled state) instead of the fund."""
    state = started()
    pooled(state)
    return account_inputs("b", capture_account(state, index))


def _ghost(shares: int) -> Callable[[AccountWitness], AccountWitness]:
    """Account 9 (no leaf: its fields are free) keyed, with ``shares``."""
    return lambda w: replace(keyed(9)(w), pool_shares=shares)


def _div(op: str) -> dict[str, HintFn]:
    """The division's remainder hinted one more (the quotient kept)."""
    return shifted(f"slot0/{op}/div_rem/quotient_remainder", lambda v: [v[0], v[1] + 1])


def _unused(op: Operation, record: bytes) -> bytes:
    return with_unused_byte(get_circuit(op), record)


POOL_CASES: dict[str, Callable[[], Violation]] = {
    # mint (5 mints AMOUNT for MINTED shares)
    "mint_shares/shares_positive": lambda: violation(
        mint(1), minted(mint(1), 0), prepare=_fund_value(2 * VALUE)
    ),
    "mint_shares/pool_solvent": lambda: violation(
        mint(), minted(mint(), AMOUNT * SUPPLY), prepare=_fund_value(-1)
    ),
    "mint_shares/priced_insolvent": lambda: violation(  # a first mint into a fund in debt
        mint(),
        minted(mint(), AMOUNT),
        prepare=_held(-1),
        wires={"slot0/mint_shares/priced_insolvent": to(-1)},
    ),
    "mint_shares/divisor": lambda: violation(
        mint(), minted(mint(), MINTED), prepare=pooled, wires={"slot0/mint_shares/divisor": add(1)}
    ),
    "mint_shares/amount_times_supply": lambda: violation(
        mint(),
        minted(mint(), MINTED),
        prepare=pooled,
        wires={"slot0/mint_shares/amount_times_supply": add(1)},
    ),
    "mint_shares/div_rem/a_is_q_times_b_plus_rem": lambda: violation(
        mint(), minted(mint(), MINTED), prepare=pooled, hints=_div("mint_shares")
    ),
    "mint_shares/first_shares": lambda: violation(  # the first mint (no supply) claims more
        mint(), minted(mint(), AMOUNT + 1), wires={"slot0/mint_shares/first_shares": add(1)}
    ),
    "mint_shares/unowned": lambda: violation(  # the first mint issues less to nobody
        mint(),
        minted(mint(), AMOUNT),
        prepare=_held(VALUE),
        wires={"slot0/mint_shares/unowned": add(-1)},
    ),
    "mint_shares/reserved": lambda: violation(
        mint(),
        minted(mint(), AMOUNT),
        prepare=_held(VALUE),
        wires={"slot0/mint_shares/reserved": add(-1)},
    ),
    "mint_shares/minted_field": lambda: violation(
        mint(), minted(mint(), MINTED + 1), prepare=pooled
    ),
    "mint_shares/issued": lambda: violation(
        mint(), minted(mint(), MINTED), prepare=pooled, wires={"slot0/mint_shares/issued": add(1)}
    ),
    "mint_shares/paid": lambda: violation(
        mint(),
        minted(mint(), MINTED),
        prepare=pooled,
        inputs=sign_as(replace(mint(AMOUNT + 1), signature=None), 5),
        wires={"slot0/mint_shares/paid": add(1)},
    ),
    "mint_shares/fund_is_b": lambda: violation(  # the first mint, B account 5 (no shares)
        mint(account=3), minted(mint(account=3), AMOUNT), inputs=_b_is(5)
    ),
    "mint_shares/signer/account_exists": lambda: violation(
        mint(5, 9), minted(mint(5, 9), 5), edit_a=keyed(9)
    ),
    "mint_shares/signer/not_rule_only": lambda: violation(
        mint(5, FUNDING_POOL),
        minted(mint(5, FUNDING_POOL), 5 * SUPPLY // VALUE),
        prepare=_pool_keyed,
    ),
    "mint_shares/unused_bytes_zero": lambda: violation(
        mint(), _unused(mint(), minted(mint(), MINTED)), prepare=pooled
    ),
    # burn (3 burns SHARES for PAID)
    "burn_shares/shares_positive": lambda: violation(burn(0), paid(burn(0), 0), prepare=pooled),
    "burn_shares/shares_held": lambda: violation(
        burn(account=5), paid(burn(account=5), PAID), prepare=pooled
    ),
    "burn_shares/fund_is_b": lambda: violation(  # B account 4: its shares, its value
        burn(), paid(burn(), SHARES * 10**6 // (SUPPLY - HELD)), prepare=pooled, inputs=_b_is(4)
    ),
    "burn_shares/paid_field": lambda: violation(burn(), paid(burn(), PAID + 1), prepare=pooled),
    "burn_shares/fund_keeps_margin": lambda: violation(burn(HELD), prepare=near_margin),
    "burn_shares/paid": lambda: violation(
        burn(), paid(burn(), PAID), prepare=pooled, wires={"slot0/burn_shares/paid": add(1)}
    ),
    "burn_shares/burned": lambda: violation(
        burn(),
        paid(burn(), PAID),
        prepare=pooled,
        inputs=sign_as(replace(burn(SHARES + 1), signature=None), 3),
        wires={"slot0/burn_shares/burned": add(1)},
    ),
    "burn_shares/shares_times_value": lambda: violation(
        burn(),
        paid(burn(), PAID),
        prepare=pooled,
        wires={"slot0/burn_shares/shares_times_value": add(1)},
    ),
    "burn_shares/div_rem/a_is_q_times_b_plus_rem": lambda: violation(
        burn(), paid(burn(), PAID), prepare=pooled, hints=_div("burn_shares")
    ),
    "burn_shares/value/positive_part": lambda: violation(
        burn(),
        paid(burn(), PAID),
        prepare=pooled,
        wires={"slot0/burn_shares/value/positive_part": add(1)},
    ),
    "burn_shares/signer/account_exists": lambda: violation(
        burn(account=9), paid(burn(account=9), PAID), prepare=pooled, edit_a=_ghost(SHARES)
    ),
    "burn_shares/signer/not_rule_only": lambda: violation(
        burn(account=FUNDING_POOL),
        paid(burn(account=FUNDING_POOL), PAID),
        prepare=_pool_keyed,
    ),
    "burn_shares/unused_bytes_zero": lambda: violation(
        burn(), _unused(burn(), paid(burn(), PAID)), prepare=pooled
    ),
    # forced burn (3 burns SHARES through L1; the record follows the slot)
    "forced_burn/status_field": lambda: _forced(
        record_from=forced_record(FORCED, status=0)  # a valid burn claimed refused
    ),
    "forced_burn/collateral_out_field": lambda: _forced(record_from=forced_record(FORCED, 1)),
    "forced_burn/owned": lambda: _forced(
        replace(FORCED, owner=owner_of(4)), wires={"slot0/forced_burn/owned": to(1)}
    ),
    "forced_burn/eligible": lambda: violation(
        (pool := ForcedBurn(FUNDING_POOL, started().accounts[FUNDING_POOL].owner, SHARES)),
        prepare=_pool_keyed,
        record_from=forced_record(pool),
        wires={"slot0/forced_burn/eligible": to(1)},
    ),
    "forced_burn/has_shares": lambda: _forced(
        replace(FORCED, shares=HELD + 1), wires={"slot0/forced_burn/has_shares": to(1)}
    ),
    "forced_burn/burnable": lambda: _forced(
        replace(FORCED, shares=HELD + 1), wires={"slot0/forced_burn/burnable": to(1)}
    ),
    "forced_burn/status": lambda: _forced(
        replace(FORCED, owner=owner_of(4)), wires={"slot0/forced_burn/status": to(1)}
    ),
    "forced_burn/out": lambda: _forced(wires={"slot0/forced_burn/out": add(1)}),
    "forced_burn/applied": lambda: _forced(wires={"slot0/forced_burn/applied": to(0)}),
    "forced_burn/paid": lambda: _forced(wires={"slot0/forced_burn/paid": add(1)}),
    "forced_burn/burned": lambda: _forced(wires={"slot0/forced_burn/burned": add(1)}),
    "forced_burn/fund_is_b": lambda: _forced(inputs=_b_is(4)),
    "forced_burn/shares_times_value": lambda: _forced(
        wires={"slot0/forced_burn/shares_times_value": add(1)}
    ),
    "forced_burn/div_rem/a_is_q_times_b_plus_rem": lambda: _forced(hints=_div("forced_burn")),
    "forced_burn/value/positive_part": lambda: _forced(
        wires={"slot0/forced_burn/value/positive_part": add(1)}
    ),
    # -1 with register key and forced withdraw on: a refused request (status 0, nothing out)
    # is a record both of them accept (no usable key in its bytes; a withdrawal of 0 by an
    # owner who did not ask it), and its own effects, all 0, negated are still 0
    "type/is_forced_burn_boolean": lambda: _forced(
        replace(FORCED, owner=owner_of(4)),
        inputs=_selectors(forced_burn=-1, register_key=1, forced_withdraw=1),
    ),
    "forced_burn/unused_bytes_zero": lambda: violation(
        FORCED,
        _unused(FORCED, forced_burn.RECORD.encode((3, owner_of(3), SHARES, PAID, 1))),
        prepare=pooled,
    ),
}


def _selectors(**values: int) -> dict[str, int]:
    return {f"slot0/type/is_{name}": v for name, v in values.items()}


def _negated_inverse(on: int, v: int) -> list[int]:
    return [-inv(v)]


# a signed operation's selector -1: the signature unit checks A's key negated (the foreign key)
FOREIGN_KEY = {
    "signature/eddsa/public_key/in_subgroup/is_8q_x",
    "signature/eddsa/public_key/in_subgroup/is_8q_y",
    "signature/eddsa/s_g_is_r_plus_c_a_x",
    "signature/eddsa/s_g_is_r_plus_c_a_y",
}

POOL_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {
    "type/is_mint_shares_boolean": (
        lambda: violation(
            mint(),
            minted(mint(), MINTED),
            prepare=pooled,
            inputs=_selectors(mint_shares=-1, register_key=1, forced_withdraw=1),
            hints={
                f"slot0/mint_shares/{n}_inverse": _negated_inverse
                for n in ("amount_positive", "shares_positive")
            },
        ),
        FOREIGN_KEY,
    ),
    "type/is_burn_shares_boolean": (
        lambda: violation(
            burn(),
            paid(burn(), PAID),
            prepare=pooled,
            inputs=_selectors(burn_shares=-1, register_key=1, forced_withdraw=1),
            hints={"slot0/burn_shares/shares_positive_inverse": _negated_inverse},
        ),
        FOREIGN_KEY,
    ),
    # no amount buys shares: the first mint gives ``amount``, a later one a share of it
    "mint_shares/amount_positive": (
        lambda: violation(mint(0), minted(mint(0), 0), prepare=pooled),
        {"mint_shares/shares_positive"},
    ),
}

POOL_FAMILIES: set[str] = set()
