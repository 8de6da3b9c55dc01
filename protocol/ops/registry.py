"""Every operation type, by class: its process function and its pubdata record function.

Type bytes: 0 noop, 1 deposit, 2 register key, 3 transfer, 4 withdraw, 5 forced withdraw,
6 forced cancel-all, 7 forced order, 8 forced burn (the L1 and money-path types of
``protocol.pubdata``); 16 create order, 17 claim, 18 cancel order, 19 cancel all, 20 modify
order, 21 set leverage, 22 trigger order, 23 pre-execution, 24 liquidate, 25 takeover,
26 deleverage, 27 mint shares, 28 burn shares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocol import pubdata
from protocol.events import Event
from protocol.ops.burn_shares import BurnShares, compute_burn_shares_record, process_burn_shares
from protocol.ops.cancel_all import CancelAll, compute_cancel_all_record, process_cancel_all
from protocol.ops.cancel_order import CancelOrder, compute_cancel_order_record, process_cancel_order
from protocol.ops.claim import Claim, compute_claim_record, process_claim
from protocol.ops.create_order import CreateOrder, compute_create_order_record, process_create_order
from protocol.ops.deleverage import Deleverage, compute_deleverage_record, process_deleverage
from protocol.ops.deposit import Deposit, compute_deposit_record, process_deposit
from protocol.ops.forced_burn import ForcedBurn, compute_forced_burn_record, process_forced_burn
from protocol.ops.forced_cancel_all import (
    ForcedCancelAll,
    compute_forced_cancel_all_record,
    process_forced_cancel_all,
)
from protocol.ops.forced_order import ForcedOrder, compute_forced_order_record, process_forced_order
from protocol.ops.forced_withdraw import (
    ForcedWithdraw,
    compute_forced_withdraw_record,
    process_forced_withdraw,
)
from protocol.ops.liquidate import Liquidate, compute_liquidate_record, process_liquidate
from protocol.ops.mint_shares import MintShares, compute_mint_shares_record, process_mint_shares
from protocol.ops.modify_order import ModifyOrder, compute_modify_order_record, process_modify_order
from protocol.ops.noop import Noop, compute_noop_record, process_noop
from protocol.ops.pre_execution import (
    PreExecution,
    compute_pre_execution_record,
    process_pre_execution,
)
from protocol.ops.register_key import RegisterKey, compute_register_key_record, process_register_key
from protocol.ops.set_leverage import SetLeverage, compute_set_leverage_record, process_set_leverage
from protocol.ops.takeover import Takeover, compute_takeover_record, process_takeover
from protocol.ops.transfer import Transfer, compute_transfer_record, process_transfer
from protocol.ops.trigger_order import (
    FireTrigger,
    compute_trigger_order_record,
    process_trigger_order,
)
from protocol.ops.withdraw import Withdraw, compute_withdraw_record, process_withdraw
from protocol.state import State

Operation = (
    Noop
    | Deposit
    | RegisterKey
    | Transfer
    | Withdraw
    | ForcedWithdraw
    | ForcedCancelAll
    | ForcedOrder
    | ForcedBurn
    | CreateOrder
    | Claim
    | CancelOrder
    | CancelAll
    | ModifyOrder
    | SetLeverage
    | FireTrigger
    | PreExecution
    | Liquidate
    | Takeover
    | Deleverage
    | MintShares
    | BurnShares
)

Handler = tuple[
    Callable[[State, Any], tuple[Event, ...]], Callable[[Any, tuple[Event, ...]], bytes]
]
HANDLERS: dict[type, Handler] = {
    Noop: (process_noop, compute_noop_record),
    Deposit: (process_deposit, compute_deposit_record),
    RegisterKey: (process_register_key, compute_register_key_record),
    Transfer: (process_transfer, compute_transfer_record),
    Withdraw: (process_withdraw, compute_withdraw_record),
    ForcedWithdraw: (process_forced_withdraw, compute_forced_withdraw_record),
    ForcedCancelAll: (process_forced_cancel_all, compute_forced_cancel_all_record),
    ForcedOrder: (process_forced_order, compute_forced_order_record),
    ForcedBurn: (process_forced_burn, compute_forced_burn_record),
    CreateOrder: (process_create_order, compute_create_order_record),
    Claim: (process_claim, compute_claim_record),
    CancelOrder: (process_cancel_order, compute_cancel_order_record),
    CancelAll: (process_cancel_all, compute_cancel_all_record),
    ModifyOrder: (process_modify_order, compute_modify_order_record),
    SetLeverage: (process_set_leverage, compute_set_leverage_record),
    FireTrigger: (process_trigger_order, compute_trigger_order_record),
    PreExecution: (process_pre_execution, compute_pre_execution_record),
    Liquidate: (process_liquidate, compute_liquidate_record),
    Takeover: (process_takeover, compute_takeover_record),
    Deleverage: (process_deleverage, compute_deleverage_record),
    MintShares: (process_mint_shares, compute_mint_shares_record),
    BurnShares: (process_burn_shares, compute_burn_shares_record),
}

PriorityOperation = (
    Deposit | RegisterKey | ForcedWithdraw | ForcedCancelAll | ForcedOrder | ForcedBurn
)


def get_priority_operation(request: pubdata.Operation) -> PriorityOperation:
    """The operation an L1 priority request asks for (a request, or its record in pubdata).

    Raises PubdataError for a record of a type that is not a priority request."""
    match request:
        case pubdata.Deposit(account, owner, amount):
            return Deposit(account, owner, amount)
        case pubdata.RegisterKey(account, owner, pubkey):
            return RegisterKey(account, owner, pubkey)
        case pubdata.ForcedWithdraw(account, owner, requested):
            return ForcedWithdraw(account, owner, requested)
        case pubdata.ForcedCancelAll(account, owner):
            return ForcedCancelAll(account, owner)
        case pubdata.ForcedOrder(account, owner, market, flags, price, size):
            return ForcedOrder(account, owner, market, flags, price, size)
        case pubdata.ForcedBurn(account, owner, shares):
            return ForcedBurn(account, owner, shares)
    raise pubdata.PubdataError(f"a {type(request).__name__} record is not a priority request")
