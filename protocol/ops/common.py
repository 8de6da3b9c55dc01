"""Checks shared by several operations."""

from __future__ import annotations

from collections.abc import Sequence

from protocol.accounts import FUNDING_POOL, INSURANCE_FUND, Account
from protocol.errors import ReservedAccount, RiskCheckFailed
from protocol.events import Event, Trade
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_SIZE_BYTES
from protocol.pubdata import RecordField
from protocol.risk import Risk, compute_risk, is_valid_risk_change
from protocol.signing import SignedOp, check_signed_tx
from protocol.state import State

# Accounts whose collateral only the rules move (never a signed transfer or withdrawal).
RULE_ONLY_ACCOUNTS = frozenset({INSURANCE_FUND, FUNDING_POOL})


def get_signer(state: State, op: SignedOp) -> Account:
    """The account of a signed operation, after its key, nonce, expiry and signature checks."""
    account = state.get_account(op.account)
    check_signed_tx(state, account, op)
    return account


def require_not_rule_only(account: Account) -> None:
    if account.index in RULE_ONLY_ACCOUNTS:
        raise ReservedAccount(f"account {account.index} moves collateral only by the rules")


def require_valid_risk_change(state: State, account: Account, before: Risk) -> Risk:
    """The account's risk now, after checking the valid-risk-change rule against ``before``."""
    after = compute_risk(account, state.markets)
    if not is_valid_risk_change(before, after):
        raise RiskCheckFailed(
            f"account {account.index}: TAV {after.tav} / IMR {after.imr} / MMR {after.mmr} "
            f"not allowed from TAV {before.tav} / IMR {before.imr} / MMR {before.mmr}"
        )
    return after


def compute_max_withdrawable(state: State, account: Account) -> int:
    """The most collateral that can leave while the account stays healthy (rounded down)."""
    risk = compute_risk(account, state.markets)
    return max(0, risk.tav - risk.imr)


# The result fields of a matching step's record: the maker it filled against and the size.
FILL_FIELDS = (
    RecordField("maker", RECORD_ACCOUNT_BYTES, result=True),
    RecordField("filled", RECORD_SIZE_BYTES, result=True),
)


def compute_fill(events: Sequence[Event]) -> tuple[int, int]:
    """A matching step's maker account and size filled (0, 0 if none)."""
    trades = [e for e in events if isinstance(e, Trade)]
    maker = trades[0].maker if trades else 0
    return maker, sum(t.size for t in trades)
