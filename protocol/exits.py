"""What each account may take out of a frozen rollup (desert mode, PROTOCOL 9.4).

An account exits with ``max(0, TAV)`` at the last verified state's marks (its collateral, its
positions at the mark, minus unsettled funding), plus, for a liquidity-pool share holder, its
part of the insurance fund's value: ``floor(shares * max(0, TAV_fund) / supply)``. The
insurance fund and the funding pool never exit themselves: the fund's value belongs to the
share holders, and the funding pool's balance is the other side of the unsettled funding the
users' TAVs already count. The fee account exits like a user, to its genesis owner.

Positions are valued as the risk rules do (``protocol.risk.compute_risk``): ``size x mark`` less
the unsettled funding ``ceil(size x (F - f) / FUNDING_INDEX_SCALE)``, at the marks and cumulative
funding indexes of the market leaves in the verified state root; nothing is closed or settled,
so the open interest stays behind in the frozen state (PROTOCOL 9.4).

Since no liquidation leaves a debt behind (``protocol.liquidation``), these amounts add up to no
more than the rollup holds (``tests/protocol/test_state_machine.py``). The exit circuit
(``circuits/exit.py``) proves exactly these amounts, and refuses the two accounts of
``NEVER_EXIT``.
"""

from __future__ import annotations

from protocol.accounts import FUNDING_POOL, INSURANCE_FUND
from protocol.risk import compute_risk
from protocol.state import State

NEVER_EXIT = frozenset({INSURANCE_FUND, FUNDING_POOL})


def compute_exit_amount(state: State, index: int) -> int:
    """Micro-USDC account ``index`` exits with (0 for the fund and the funding pool)."""
    if index in NEVER_EXIT:
        return 0
    account = state.accounts[index]
    amount = max(0, compute_risk(account, state.markets).tav)
    if account.pool_shares:
        fund = state.accounts[INSURANCE_FUND]
        value = max(0, compute_risk(fund, state.markets).tav)
        amount += account.pool_shares * value // fund.pool_shares
    return amount
