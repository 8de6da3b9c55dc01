"""Pool shares of the liquidity pool (the insurance fund, account 0).

The fund's ``pool_shares`` field is the total supply; a user's is what they hold. The pool's
value is the fund's TAV. Minting ``amount`` of collateral gives ``amount * supply / value``
shares (rounded down); burning ``shares`` pays ``shares * max(0, value) / supply`` (rounded
down). Minting into a pool that has a supply needs a solvent pool (value > 0) and keeps the
supply below ``2^pool_share_bits``; a burn must leave the fund with ``TAV >= MMR`` and the
user's account passes the valid-risk-change rule for a mint (its collateral falls).

The first mint (no supply) prices a share at one micro-USDC: the minter gets ``amount`` shares,
and the value the fund already holds (liquidation fees, say) is issued to nobody as ``value``
unowned shares, so it stays the pool's: without them, the first minter would own all of it
(1 micro-USDC buying the whole fund). A fund in debt (value < 0) takes no first mint.
"""

from __future__ import annotations

from protocol.accounts import INSURANCE_FUND, Account
from protocol.errors import InsufficientShares, RiskCheckFailed
from protocol.events import Event, SharesBurned, SharesMinted
from protocol.risk import compute_risk
from protocol.state import State
from protocol.types import check_unsigned


def compute_pool_value(state: State) -> int:
    return compute_risk(state.accounts[INSURANCE_FUND], state.markets).tav


def compute_shares_for(state: State, amount: int) -> int:
    supply, value = state.accounts[INSURANCE_FUND].pool_shares, compute_pool_value(state)
    if supply == 0 and value >= 0:
        return amount
    if value <= 0:
        raise InsufficientShares("the pool is insolvent: no minting")
    return amount * supply // value


def compute_unowned_shares(state: State) -> int:
    """The shares a mint issues to nobody: the fund's value before the first mint (0 after)."""
    fund = state.accounts[INSURANCE_FUND]
    return 0 if fund.pool_shares else max(0, compute_pool_value(state))


def compute_payout_for(state: State, shares: int) -> int:
    """``floor(shares * max(0, value) / supply)``: nothing for an insolvent pool."""
    supply = state.accounts[INSURANCE_FUND].pool_shares
    return shares * max(0, compute_pool_value(state)) // supply


def mint_shares(state: State, account: Account, amount: int, out: list[Event]) -> None:
    """Moves ``amount`` of collateral into the pool for shares (checks shares > 0)."""
    shares, unowned = compute_shares_for(state, amount), compute_unowned_shares(state)
    if shares <= 0:
        raise InsufficientShares(f"{amount} buys no share")
    fund = state.accounts[INSURANCE_FUND]
    supply = fund.pool_shares + unowned + shares
    check_unsigned(supply, state.preset.pool_share_bits, "the share supply")
    state.decrease_collateral(account, amount)
    state.increase_collateral(fund, amount)
    state.set_account_field(account, "pool_shares", account.pool_shares + shares)
    state.set_account_field(fund, "pool_shares", supply)
    out.append(SharesMinted(account.index, amount, shares))


def burn_shares(state: State, account: Account, shares: int, out: list[Event]) -> None:
    """Redeems ``shares`` for collateral; the fund must keep TAV >= MMR."""
    if not 0 < shares <= account.pool_shares:
        raise InsufficientShares(f"account {account.index} holds {account.pool_shares} shares")
    amount = compute_payout_for(state, shares)
    fund = state.accounts[INSURANCE_FUND]
    state.decrease_collateral(fund, amount)
    state.increase_collateral(account, amount)
    state.set_account_field(account, "pool_shares", account.pool_shares - shares)
    state.set_account_field(fund, "pool_shares", fund.pool_shares - shares)
    after = compute_risk(fund, state.markets)
    if after.tav < after.mmr:
        raise RiskCheckFailed("the burn would leave the insurance fund under maintenance margin")
    out.append(SharesBurned(account.index, shares, amount))
