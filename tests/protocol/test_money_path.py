"""Deposit, register key, transfer, withdraw, forced withdraw: success paths and every
rejection, each rejection leaving the state byte-for-byte unchanged."""

from __future__ import annotations

import pytest

from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.errors import (
    AmountOutOfRange,
    Expired,
    InvalidNonce,
    InvalidSignature,
    KeyNotRegistered,
    MalformedTransaction,
    ReservedAccount,
    RiskCheckFailed,
    UnknownAccount,
)
from protocol.events import AccountCreated, Deposited, KeyRegistered, RequestRejected, Withdrawn
from protocol.jubjub import IDENTITY, compress
from protocol.ops.deposit import Deposit
from protocol.ops.forced_withdraw import ForcedWithdraw
from protocol.ops.register_key import RegisterKey
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from tests.protocol.helpers import Env, assert_rejected, key_of, owner_of


def test_first_deposit_creates_the_account_and_later_ones_credit_it() -> None:
    env = Env()
    events = env.run(Deposit(5, owner_of(5), 1_000))
    assert events == (AccountCreated(5, owner_of(5)), Deposited(5, 1_000))
    events = env.run(Deposit(5, owner_of(9), 500))  # anyone may top an account up
    assert events == (Deposited(5, 500),)
    account = env.state.accounts[5]
    assert (account.owner, account.collateral, account.nonce) == (owner_of(5), 1_500, 0)


@pytest.mark.parametrize("amount", [0, -1, 1 << 64])
def test_deposit_amount_must_fit(amount: int) -> None:
    assert_rejected(Env(), Deposit(5, owner_of(5), amount), AmountOutOfRange)


def test_deposit_outside_the_tree_is_rejected() -> None:
    env = Env()
    assert_rejected(env, Deposit(env.state.preset.max_accounts, owner_of(1), 5), UnknownAccount)


def test_register_key_by_the_owner_only() -> None:
    env = Env()
    env.run(Deposit(5, owner_of(5), 1_000))
    pubkey = compress(key_of(5).public_key)
    (event,) = env.run(RegisterKey(5, owner_of(6), pubkey))
    assert isinstance(event, RequestRejected)
    assert not env.state.accounts[5].has_key()
    (event,) = env.run(RegisterKey(5, owner_of(5), pubkey))
    pk = key_of(5).public_key
    assert event == KeyRegistered(5, (pk.x, pk.y))
    (event,) = env.run(RegisterKey(7, owner_of(7), pubkey))  # no such account
    assert isinstance(event, RequestRejected)


def test_register_key_rejects_small_order_and_garbage_keys() -> None:
    env = Env()
    env.run(Deposit(5, owner_of(5), 1_000))
    for bad in (compress(IDENTITY), b"\xff" * 32):
        before = env.snapshot()
        (event,) = env.run(RegisterKey(5, owner_of(5), bad))
        assert isinstance(event, RequestRejected) and env.snapshot() == before


def test_signed_transfer_moves_collateral_and_bumps_the_nonce() -> None:
    env = Env(signatures=True)
    a, b = env.open_many(2, 10_000)
    env.run(env.signed(Transfer, a, to=b, amount=2_500))
    accounts = env.state.accounts
    assert (accounts[a].collateral, accounts[b].collateral) == (7_500, 12_500)
    assert (accounts[a].nonce, accounts[b].nonce) == (1, 0)


def test_transfer_rejections_leave_state_unchanged() -> None:
    env = Env(signatures=True)
    a, b = env.open_many(2, 10_000)
    env.run(Deposit(9, owner_of(9), 100))  # an account without a key
    good = env.signed(Transfer, a, to=b, amount=100)
    assert_rejected(env, env.signed(Transfer, a, to=b, amount=100, nonce=1), InvalidNonce)
    assert_rejected(env, env.signed(Transfer, a, to=b, amount=100, expiry=999), Expired)
    assert_rejected(env, env.signed(Transfer, a, to=b, amount=0), AmountOutOfRange)
    assert_rejected(env, env.signed(Transfer, a, to=b, amount=10_001), RiskCheckFailed)
    assert_rejected(env, env.signed(Transfer, a, to=12, amount=1), UnknownAccount)
    assert_rejected(env, env.signed(Transfer, a, to=a, amount=1), MalformedTransaction)
    assert_rejected(env, env.signed(Transfer, a, to=FUNDING_POOL, amount=1), ReservedAccount)
    assert_rejected(env, Transfer(9, 0, 1 << 39, b, 1), KeyNotRegistered)
    tampered = Transfer(a, good.nonce, good.expiry, b, 101, good.signature)
    assert_rejected(env, tampered, InvalidSignature)
    assert_rejected(env, Transfer(a, 0, good.expiry, b, 100, None), InvalidSignature)
    other_key = env.signed(Transfer, b, to=a, amount=100)  # b's signature, claimed as a's
    assert_rejected(env, Transfer(a, 0, good.expiry, b, 100, other_key.signature), InvalidSignature)
    env.run(good)
    assert_rejected(env, good, InvalidNonce)  # no replay


def test_transfer_into_the_insurance_fund_is_a_donation() -> None:
    env = Env()
    (a,) = env.open_many(1, 1_000)
    env.run(env.signed(Transfer, a, to=INSURANCE_FUND, amount=400))
    assert env.state.accounts[INSURANCE_FUND].collateral == 400
    assert_rejected(env, env.signed(Transfer, INSURANCE_FUND, to=a, amount=1), KeyNotRegistered)


def test_withdraw_and_its_rejections() -> None:
    env = Env(signatures=True)
    (a,) = env.open_many(1, 1_000)
    assert_rejected(env, env.signed(Withdraw, a, amount=1_001), RiskCheckFailed)
    assert_rejected(env, env.signed(Withdraw, a, amount=1 << 64), AmountOutOfRange)
    (event,) = env.run(env.signed(Withdraw, a, amount=1_000))
    assert event == Withdrawn(a, owner_of(a), 1_000)
    assert env.state.accounts[a].collateral == 0


def test_forced_withdraw_caps_at_what_is_withdrawable() -> None:
    env = Env()
    (a,) = env.open_many(1, 1_000)
    (event,) = env.run(ForcedWithdraw(a, owner_of(a), 600))
    assert event == Withdrawn(a, owner_of(a), 600)
    (event,) = env.run(ForcedWithdraw(a, owner_of(a), 600))
    assert event == Withdrawn(a, owner_of(a), 400)
    before = env.snapshot()
    for op in (
        ForcedWithdraw(a, owner_of(a), 1),
        ForcedWithdraw(a, owner_of(7), 1),
        ForcedWithdraw(40, owner_of(7), 1),
    ):
        (event,) = env.run(op)
        assert isinstance(event, RequestRejected)
    assert env.snapshot() == before


def test_forced_withdraw_of_reserved_accounts_is_refused() -> None:
    env = Env()
    env.run(Deposit(FEE_ACCOUNT, owner_of(1), 50))
    (event,) = env.run(ForcedWithdraw(FEE_ACCOUNT, owner_of(1), 50))
    assert event == Withdrawn(FEE_ACCOUNT, owner_of(1), 50)  # the fee account is the operator's
    (event,) = env.run(ForcedWithdraw(INSURANCE_FUND, owner_of(0), 1))
    assert isinstance(event, RequestRejected)
