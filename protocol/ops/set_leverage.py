"""Set leverage (type 21, L2 signed): the initial margin fraction of one of the signer's
positions, ``market.imf <= imf <= 1e6`` ppm (max leverage = 1e6 / imf), or 0 for the market's.

The account must pass the valid-risk-change rule afterwards (raising the fraction raises the
IMR: a healthy account must stay healthy). Applies to the position and to its resting orders'
margin checks from now on; the maintenance and close-out fractions stay the market's.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.errors import MalformedTransaction
from protocol.events import Event, LeverageSet
from protocol.ops.common import get_signer, require_not_rule_only, require_valid_risk_change
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_MARKET_BYTES, RECORD_RATE_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.risk import compute_risk
from protocol.state import State
from protocol.types import PPM


@dataclass(frozen=True, slots=True)
class SetLeverage:
    account: int
    nonce: int
    expiry: int
    market: int
    imf: int
    signature: Signature | None = None

    def payload(self) -> tuple[int, ...]:
        return (self.market, self.imf)

    @classmethod
    def op_type(cls) -> int:
        return OpType.SET_LEVERAGE


RECORD = Layout(
    OpType.SET_LEVERAGE,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("imf", RECORD_RATE_BYTES),
    ),
)


def process_set_leverage(state: State, op: SetLeverage) -> tuple[Event, ...]:
    account = get_signer(state, op)
    require_not_rule_only(account)
    market = state.get_market(op.market)
    if type(op.imf) is not int or not (op.imf == 0 or market.params.imf <= op.imf <= PPM):
        raise MalformedTransaction(f"imf {op.imf!r} outside [{market.params.imf}, {PPM}] (or 0)")
    before = compute_risk(account, state.markets)
    state.increment_nonce(account)
    state.set_position_field(account, market.index, "imf", op.imf)
    state.drop_empty_position(account, market.index)
    require_valid_risk_change(state, account, before)
    return (LeverageSet(account.index, market.index, op.imf),)


def compute_set_leverage_record(op: SetLeverage, events: tuple[Event, ...]) -> bytes:
    return RECORD.encode((op.account, op.market, op.imf))


DESCRIPTOR = Descriptor(
    SetLeverage,
    RECORD,
    Origin.L2_SIGNED,
    process_set_leverage,
    compute_set_leverage_record,
    get_single_account,
)
