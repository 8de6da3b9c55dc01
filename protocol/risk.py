"""Margin and risk: total account value, margin requirements, health, the valid-risk-change rule.

For an account with collateral ``C`` and positions ``s_m`` (signed lots) at mark prices ``P_m``:

    TAV = C + sum_m s_m * P_m - sum_m unsettled_funding_m
    IMR = sum_m ceil(|s_m| * P_m * max(imf_m, chosen_imf_m) / 1e6)
    MMR = sum_m ceil(|s_m| * P_m * mmf_m / 1e6),   CMR likewise with cmf_m

with ``unsettled_funding = ceil(s * (F - f) / FUNDING_INDEX_SCALE)`` for the market's
cumulative index ``F`` and the position's snapshot ``f`` (what settling would charge: payers
round up, receivers down). Margins round up: every rounding favours the system.

Health: healthy (TAV >= IMR), pre-liquidation (MMR <= TAV < IMR), partial liquidation
(CMR <= TAV < MMR), full liquidation (0 <= TAV < CMR), bankrupt (TAV < 0).

Valid risk change (every trade, transfer, withdrawal, leverage change): a healthy account must
be healthy afterwards; an unhealthy one may change only if afterwards it is healthy, or its MMR
did not grow and its TAV / MMR did not fall. With no margin before (MMR = 0: an account with
negative value and no position) the ratio means nothing, and its TAV may only grow.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from protocol.accounts import Account, Position
from protocol.markets import Market
from protocol.types import FUNDING_INDEX_SCALE, PPM


class Health(IntEnum):
    HEALTHY = 0
    PRE_LIQUIDATION = 1
    PARTIAL_LIQUIDATION = 2
    FULL_LIQUIDATION = 3
    BANKRUPT = 4


class Risk(NamedTuple):
    """TAV and the margin requirements of one account (a tuple: cheap on the hot path)."""

    tav: int
    imr: int
    mmr: int
    cmr: int

    @property
    def health(self) -> Health:
        if self.tav >= self.imr:
            return Health.HEALTHY
        if self.tav >= self.mmr:
            return Health.PRE_LIQUIDATION
        if self.tav >= self.cmr:
            return Health.PARTIAL_LIQUIDATION
        if self.tav >= 0:
            return Health.FULL_LIQUIDATION
        return Health.BANKRUPT


def compute_unsettled_funding(position: Position, market: Market) -> int:
    """What settling the position's funding now would charge (negative: pay out)."""
    delta = market.data.funding_index - position.funding_index
    return -(-position.size * delta // FUNDING_INDEX_SCALE)


def compute_risk(account: Account, markets: list[Market]) -> Risk:
    """TAV and the three margin requirements of ``account`` at the current mark prices."""
    tav = account.collateral
    imr = mmr = cmr = 0
    for index, position in account.positions.items():
        size = position.size
        if size == 0:
            continue
        market = markets[index]
        mark = market.data.mark_price
        params = market.params
        tav += size * mark - compute_unsettled_funding(position, market)
        notional = (size if size > 0 else -size) * mark
        imf = params.imf if position.imf < params.imf else position.imf
        imr += -(-notional * imf // PPM)
        mmr += -(-notional * params.mmf // PPM)
        cmr += -(-notional * params.cmf // PPM)
    return Risk(tav, imr, mmr, cmr)


def compute_free_margin(account: Account, markets: list[Market]) -> int:
    """``TAV - IMR`` of ``compute_risk``, exactly, without MMR, CMR or a ``Risk``: the hot
    path's test (healthy iff ``>= 0``), about 3x cheaper. Subtracting a ceiling is adding the
    floor of the negation, so ``-ceil(x / d) == (-x) // d`` below."""
    free = account.collateral
    for index, position in account.positions.items():
        size = position.size
        if size:
            market = markets[index]
            data, imf = market.data, market.params.imf
            if position.imf > imf:
                imf = position.imf
            mark, delta = data.mark_price, data.funding_index - position.funding_index
            notional = (size if size > 0 else -size) * mark
            free += size * mark + (-notional * imf) // PPM
            if delta:
                free += (-size * delta) // FUNDING_INDEX_SCALE
    return free


def is_valid_risk_change(before: Risk, after: Risk) -> bool:
    """The valid-risk-change rule of the module docstring."""
    if after.tav >= after.imr:
        return True
    if before.tav >= before.imr or after.mmr > before.mmr:
        return False
    if before.mmr == 0:
        return after.tav >= before.tav
    return after.tav * before.mmr >= before.tav * after.mmr


def compute_zero_price(risk: Risk, market: Market, is_long: bool) -> int:
    """The price at which closing part of a position leaves TAV / MMR unchanged.

    Closing q lots at price p moves TAV by q * (p - P) (long) and MMR by -q * P * mmf, so the
    ratio is unchanged at p = P * (1 - mmf * TAV / MMR) for a long and P * (1 + mmf * TAV / MMR)
    for a short (requires MMR > 0). Rounded against the account: down when it sells, up when it
    buys. Above the mark for a bankrupt long (TAV < 0): the system absorbs the deficit there.
    """
    mark, mmf = market.data.mark_price, market.params.mmf
    scale = risk.mmr * PPM
    if is_long:
        return max(0, mark * (scale - mmf * risk.tav) // scale)
    return -(-mark * (scale + mmf * risk.tav) // scale)
