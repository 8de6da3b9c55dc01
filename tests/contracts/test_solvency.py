"""The L1 solvency invariant as a hypothesis state machine against the devnet:

    token balance of the rollup >= pending balances + total L2 collateral of the last verified
                                    state + queued deposits (not in that state, not refunded)

under random sequences of deposits, forced withdrawals, batches (commit + verify, execute
later), withdrawals of pending balances, desert mode, refunds and exits. The machine plays an
honest operator over a model of the L2 balances; a stricter equality (the gap is exactly the
withdrawals of verified, unexecuted batches) is checked too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from web3 import Web3

from protocol import pubdata
from protocol.ops import withdraw
from protocol.ops.registry import decode_request
from scripts import chain
from tests.contracts.support import USDC, Rollup, StoredBatchInfo, deploy, owner_bytes

pytestmark = pytest.mark.devnet

USERS = 3  # user i owns account i + 1


@dataclass
class Model:
    """The L2 as the honest operator sees it, and what L1 owes outside it."""

    collateral: dict[int, int] = field(default_factory=dict)  # last verified state
    next_request: int = 0  # first request no verified batch consumed
    unexecuted: list[tuple[StoredBatchInfo, int]] = field(default_factory=list)  # with payout
    forced_open: dict[int, int] = field(default_factory=dict)  # account -> its request id
    refunded_to: int = 0  # desert mode: requests before this are refunded (or in the state)
    exited: set[int] = field(default_factory=set)


def make_machine(base: Rollup) -> type[RuleBasedStateMachine]:
    class Solvency(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot(base.w3)
            self.env = replace(base, requests=[], batches=list(base.batches), pubdata_of={}, gas=[])
            self.model = Model()
            self.desert = False

        def teardown(self) -> None:
            chain.revert(base.w3, self.snapshot)

        def user(self, i: int) -> str:
            return self.env.users[i]

        def open_requests(self) -> int:
            return (
                len(self.env.requests) - self.env.rollup.functions.firstPriorityRequestId().call()
            )

        # -- users --
        @precondition(lambda self: not self.desert)
        @rule(i=st.integers(0, USERS - 1), amount=st.integers(1, 50))
        def deposit(self, i: int, amount: int) -> None:
            if self.open_requests() < self.env.preset.max_open_priority_requests:
                self.env.deposit(self.user(i), i + 1, amount * USDC, fund=False)

        @precondition(lambda self: not self.desert)
        @rule(i=st.integers(0, USERS - 1), amount=st.integers(1, 60))
        def forced_withdraw(self, i: int, amount: int) -> None:
            env, account = self.env, i + 1
            owned = env.rollup.functions.accountOwners(account).call() == self.user(i)
            full = self.open_requests() >= env.preset.max_open_priority_requests
            if owned and account not in self.model.forced_open and not full:
                self.model.forced_open[account] = len(env.requests)
                env.queue(
                    env.rollup.functions.requestForcedWithdraw(account, amount * USDC), self.user(i)
                )

        @rule(i=st.integers(0, USERS - 1))
        def withdraw_pending(self, i: int) -> None:
            if self.env.pending(self.user(i)):
                self.env.send(
                    self.env.rollup.functions.withdrawPendingBalance(self.user(i)), self.user(i)
                )

        # -- the operator --
        @precondition(lambda self: not self.desert)
        @rule(
            take=st.integers(0, 4),
            withdrawals=st.lists(
                st.tuples(st.integers(0, USERS - 1), st.integers(1, 30)), max_size=4
            ),
        )
        def prove_batch(self, take: int, withdrawals: list[tuple[int, int]]) -> None:
            env, m = self.env, self.model
            ops = env.preset.ops_per_block
            requests = env.requests[m.next_request : m.next_request + min(take, ops)]
            records, payout = [], 0
            for request in requests:
                op = decode_request(request)
                account = op.get_int("account")
                if op.op_type == pubdata.OpType.DEPOSIT:
                    m.collateral[account] = m.collateral.get(account, 0) + op.get_int("amount")
                    records.append(request.ljust(pubdata.OP_BYTES, b"\0"))
                else:
                    assert op.op_type == pubdata.OpType.FORCED_WITHDRAW
                    paid = min(op.get_int("requested"), m.collateral.get(account, 0))
                    m.collateral[account] = m.collateral.get(account, 0) - paid
                    records.append(op.layout.encode((*op.values[:-1], paid)))
                    payout += paid
            for i, amount in withdrawals[: ops - len(records)]:
                paid = min(amount * USDC, m.collateral.get(i + 1, 0))
                m.collateral[i + 1] = m.collateral.get(i + 1, 0) - paid
                records.append(withdraw.RECORD.encode((i + 1, owner_bytes(self.user(i)), paid)))
                payout += paid
            batch = env.commit(records)
            env.verify(batch)
            m.next_request += len(requests)
            m.unexecuted.append((batch, payout))

        @precondition(lambda self: bool(self.model.unexecuted))
        @rule()
        def execute(self) -> None:
            batch, _ = self.model.unexecuted.pop(0)
            self.env.execute(batch)
            first = self.env.rollup.functions.firstPriorityRequestId().call()
            self.model.forced_open = {a: r for a, r in self.model.forced_open.items() if r >= first}

        # -- the escape hatch --
        # the operator vanishes, but only after a few batches, so that runs have some history
        @precondition(lambda self: not self.desert and len(self.env.batches) > 2)
        @rule()
        def desert_mode(self) -> None:
            if self.open_requests():
                self.env.expire_and_activate()
                self.desert = True
                self.model.refunded_to = self.model.next_request

        @precondition(lambda self: self.desert)
        @rule(n=st.integers(1, 3))
        def refund(self, n: int) -> None:
            m, env = self.model, self.env
            n = min(n, len(env.requests) - m.refunded_to)
            if n:
                page = env.requests[m.refunded_to : m.refunded_to + n]
                env.send(env.rollup.functions.cancelOutstandingDeposits(n, page), env.operator)
                m.refunded_to += n

        @precondition(lambda self: self.desert)
        @rule(i=st.integers(0, USERS - 1))
        def exit(self, i: int) -> None:
            m, env, account = self.model, self.env, i + 1
            if account not in m.exited and account in m.collateral:
                amount = m.collateral[account]
                proof = env.exit_proof(account, self.user(i), amount)
                env.send(
                    env.rollup.functions.performDesert(account, self.user(i), amount, proof),
                    env.operator,
                )
                m.exited.add(account)

        # -- the invariant --
        @invariant()
        def solvent(self) -> None:
            env, m = self.env, self.model
            vault = env.balance(env.rollup.address)
            pending = sum(env.pending(self.user(i)) for i in range(USERS))
            collateral = sum(v for a, v in m.collateral.items() if a not in m.exited)
            start = m.refunded_to if self.desert else m.next_request
            queued = sum(
                op.get_int("amount")
                for op in map(decode_request, env.requests[start:])
                if op.op_type == pubdata.OpType.DEPOSIT
            )
            assert vault >= pending + collateral + queued
            unpaid = sum(payout for _, payout in m.unexecuted)
            assert vault == pending + collateral + queued + unpaid

    return Solvency


def test_the_rollup_stays_solvent(w3: Web3) -> None:
    base = deploy(w3)
    for i in range(USERS):  # enough tokens for any run; approvals given once
        base.fund(base.users[i], 10_000 * USDC)
    machine = make_machine(replace(base, w3=w3))
    machine.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    run_state_machine_as_test(machine)
