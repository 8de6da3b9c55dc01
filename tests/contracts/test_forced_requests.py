"""Forced requests: withdraw, cancel-all, order, pool-share burn and L2-key registration, each
from the account's L1 owner only, at most one unexecuted per account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web3.contract.contract import ContractFunction

from circuits.ops.slot import PROVEN_TYPES
from protocol import pubdata
from protocol.ops.registry import decode_request
from protocol.pubdata import OpType
from scripts import deploy as deploy_module
from scripts.deploy import TRADING_REQUESTS, is_trading_proven
from tests.contracts.support import USDC, Rollup, deploy, owner_bytes, reverts

pytestmark = pytest.mark.devnet

ACCOUNT = 3
PUBKEY = bytes(range(1, 33))

# name -> (the call for an account, the operation it must queue for an owner)
KINDS: dict[str, tuple[Callable[[Any, int], ContractFunction], Callable[[bytes], Any]]] = {
    "register_key": (
        lambda f, a: f.registerL2Key(a, PUBKEY),
        lambda o: (ACCOUNT, o, PUBKEY, 0),
    ),
    "withdraw": (
        lambda f, a: f.requestForcedWithdraw(a, 5 * USDC),
        lambda o: (ACCOUNT, o, 5 * USDC, 0),
    ),
    "cancel_all": (
        lambda f, a: f.requestForcedCancelAll(a),
        lambda o: (ACCOUNT, o, 0),
    ),
    "order": (
        lambda f, a: f.requestForcedOrder(a, 1, pubdata.ORDER_FLAG_ASK, 2**16 - 1, 7),
        lambda o: (ACCOUNT, o, 1, pubdata.ORDER_FLAG_ASK, 2**16 - 1, 7, 0, 0, 0),
    ),
    "burn": (
        lambda f, a: f.requestForcedBurn(a, 9),
        lambda o: (ACCOUNT, o, 9, 0, 0),
    ),
}


@pytest.fixture
def owned(env: Rollup) -> Rollup:
    """users[0] owns ACCOUNT (one deposit, already executed)."""
    env.deposit(env.users[0], ACCOUNT, 10 * USDC)
    env.process(env.records_for(0, 1))
    return env


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_forced_request_queues_what_section_8_says(owned: Rollup, kind: str) -> None:
    call, expected = KINDS[kind]
    alice = owned.users[0]
    receipt = owned.queue(call(owned.rollup.functions, ACCOUNT), alice)
    (event,) = owned.events(receipt, "PriorityRequestQueued")
    assert decode_request(bytes(event["request"])).values == expected(owner_bytes(alice))
    assert (event["requestId"], event["accountIndex"], event["owner"]) == (1, ACCOUNT, alice)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_forced_request_reverts(owned: Rollup, kind: str) -> None:
    call = KINDS[kind][0]
    alice, bob = owned.users[:2]
    functions = owned.rollup.functions
    with reverts("AccountIndexOutOfRange"):
        call(functions, owned.preset.max_accounts).transact({"from": alice})
    # someone else's account, and an account nobody has claimed: rejected on L1
    with reverts("NotAccountOwner"):
        call(functions, ACCOUNT).transact({"from": bob})
    with reverts("NotAccountOwner"):
        call(functions, ACCOUNT + 1).transact({"from": alice})
    owned.queue(call(functions, ACCOUNT), alice)
    # spam protection: one unexecuted forced request per account, whatever its kind
    for other in KINDS.values():
        with reverts("ForcedRequestPending"):
            other[0](functions, ACCOUNT).transact({"from": alice})
    owned.process(owned.records_for(1, 1))
    owned.queue(call(functions, ACCOUNT), alice)


TRADING_KINDS = ("cancel_all", "order", "burn")


def test_without_trading_the_trading_requests_are_refused(env: Rollup) -> None:
    """A deployment whose circuit proves only the money path refuses forced requests that act
    on orders, positions or shares (none can exist there): queued, they could not be proven
    and would stall the operator into desert mode."""
    money_path = deploy(env.w3, trading_enabled=False)
    assert not money_path.rollup.functions.tradingEnabled().call()
    assert env.rollup.functions.tradingEnabled().call()
    alice = money_path.users[0]
    money_path.deposit(alice, ACCOUNT, 10 * USDC)
    money_path.process(money_path.records_for(0, 1))
    for kind in TRADING_KINDS:
        with reverts("TradingNotEnabled"):
            KINDS[kind][0](money_path.rollup.functions, ACCOUNT).transact({"from": alice})
    money_path.queue(KINDS["withdraw"][0](money_path.rollup.functions, ACCOUNT), alice)


def test_a_default_deployment_enables_trading_exactly_when_the_circuit_proves_it(
    env: Rollup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``deploy_rollup``'s default: trading on where the block circuit proves every forced
    trading request (so none queued can stall the operator), as it now does, off otherwise."""
    assert is_trading_proven()
    default = deploy(env.w3, trading_enabled=None)
    assert default.rollup.functions.tradingEnabled().call()
    assert default.rollup.functions.admittedForcedTypes().call() == sum(
        1 << t for t in TRADING_REQUESTS
    )
    monkeypatch.setattr(deploy_module, "PROVEN_TYPES", PROVEN_TYPES - TRADING_REQUESTS)
    money_path = deploy(env.w3, trading_enabled=None)
    assert not money_path.rollup.functions.tradingEnabled().call()
    assert money_path.rollup.functions.admittedForcedTypes().call() == 0


def test_each_forced_trading_request_is_admitted_once_its_type_is_proven(
    env: Rollup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment admits the forced requests of the types its block circuit proves, one type
    at a time: with forced order and forced burn unproven, forced cancel-all is queued and the
    other two are refused."""
    unproven = {OpType.FORCED_ORDER, OpType.FORCED_BURN}
    monkeypatch.setattr(deploy_module, "PROVEN_TYPES", PROVEN_TYPES - unproven)
    partial = deploy(env.w3, trading_enabled=None)
    functions = partial.rollup.functions
    admitted = {t for t in TRADING_REQUESTS if functions.isForcedTypeAdmitted(t).call()}
    assert admitted == {OpType.FORCED_CANCEL_ALL}
    assert functions.admittedForcedTypes().call() == 1 << OpType.FORCED_CANCEL_ALL
    assert not functions.tradingEnabled().call()
    alice = partial.users[0]
    partial.deposit(alice, ACCOUNT, 10 * USDC)
    partial.process(partial.records_for(0, 1))
    for kind in ("order", "burn"):
        with reverts("TradingNotEnabled"):
            KINDS[kind][0](functions, ACCOUNT).transact({"from": alice})
    partial.queue(KINDS["cancel_all"][0](functions, ACCOUNT), alice)


def test_committing_is_not_executing_for_spam_protection(owned: Rollup) -> None:
    alice = owned.users[0]
    withdraw = owned.rollup.functions.requestForcedWithdraw
    owned.queue(withdraw(ACCOUNT, USDC), alice)
    batch = owned.commit(owned.records_for(1, 1))
    owned.verify(batch)
    with reverts("ForcedRequestPending"):
        withdraw(ACCOUNT, USDC).transact({"from": alice})
    owned.execute(batch)
    owned.queue(withdraw(ACCOUNT, USDC), alice)


def test_argument_checks(owned: Rollup) -> None:
    alice = owned.users[0]
    f = owned.rollup.functions
    max_price = 2**owned.preset.price_bits - 1
    with reverts("InvalidPubkey"):
        f.registerL2Key(ACCOUNT, bytes(32)).transact({"from": alice})
    with reverts("AmountOutOfRange"):
        f.requestForcedWithdraw(ACCOUNT, 0).transact({"from": alice})
    with reverts("AmountOutOfRange"):
        f.requestForcedBurn(ACCOUNT, 0).transact({"from": alice})
    bad_orders = [
        (owned.preset.max_markets, 0, 1, 1),  # market out of range
        (0, 4, 1, 1),  # unknown flag
        (0, 0, 0, 1),  # price 0
        (0, 0, max_price + 1, 1),  # price out of range
        (0, 0, 1, 0),  # size 0
    ]
    for market, flags, price, size in bad_orders:
        with reverts("InvalidOrder"):
            f.requestForcedOrder(ACCOUNT, market, flags, price, size).transact({"from": alice})
    owned.queue(f.requestForcedOrder(ACCOUNT, 1, 3, max_price, 2**48 - 1), alice)


def test_forced_requests_share_the_bounded_queue(owned: Rollup) -> None:
    for _ in range(owned.preset.max_open_priority_requests):
        owned.deposit(owned.users[1], 8, USDC)
    with reverts("PriorityQueueFull"):
        owned.rollup.functions.requestForcedCancelAll(ACCOUNT).transact({"from": owned.users[0]})
