"""The escape hatch, from a user's side: activate desert mode once a priority request has
expired, refund the deposits no verified batch consumed, exit an account with a proof built from
the state reconstructed from L1 (``scripts.reconstruct``), and pull the pending balance. An
account exits with ``protocol.exits.compute_exit_amount``: its open positions valued at the
verified state's marks with their unsettled funding, and its pool share (PROTOCOL 9.4).

Every step is a transaction anyone may send (the funds only ever go to the owner the contract
or the proof names); each receipt is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from protocol import pubdata
from protocol.accounts import FUNDING_POOL, INSURANCE_FUND
from protocol.exits import NEVER_EXIT, compute_exit_amount
from protocol.state import State
from scripts import chain
from scripts.reconstruct import Reconstruction


class ExitError(RuntimeError):
    """A desert-mode step was refused; the message names it."""


class ExitProver(Protocol):
    """Proves that ``account`` holds ``amount`` for ``owner`` in ``state`` (the reconstructed
    last verified state); returns ``(owner, amount, 512-byte proof)``."""

    def prove_exit(self, state: State, account: int) -> tuple[bytes, int, bytes]: ...


@dataclass(frozen=True)
class ExitResult:
    account: int
    owner: str
    amount: int
    gas: int
    positions: int  # open positions valued at the verified state's marks


@dataclass(frozen=True)
class ExitProof:
    owner: bytes
    amount: int
    proof: bytes
    positions: int


def send(w3: Web3, fn: ContractFunction, sender: str, what: str) -> TxReceipt:
    """Sends ``fn`` from ``sender``; ExitError naming the contract's error (decoded by
    ``chain.send``) and what to do, if it would revert or reverted."""
    try:
        return chain.send(w3, fn, sender, what)
    except chain.RevertedError as e:
        raise ExitError(str(e)) from e


def activate_desert_mode(w3: Web3, rollup: Contract, sender: str) -> bool:
    """Activates desert mode if it is not on yet; True if this call turned it on."""
    if rollup.functions.desertMode().call():
        return False
    send(w3, rollup.functions.activateDesertMode(), sender, "activateDesertMode")
    return True


def get_outstanding_requests(rollup: Contract) -> list[bytes]:
    """The queued requests no verified batch consumed and no refund has cancelled yet."""
    first = int(rollup.functions.desertRefundCursor().call())
    logs = rollup.events.PriorityRequestQueued().get_logs(from_block=0)
    by_id = {int(e["args"]["requestId"]): bytes(e["args"]["request"]) for e in logs}
    total = int(rollup.functions.totalPriorityRequests().call())
    return [by_id[i] for i in range(first, total)]


def refund_deposits(w3: Web3, rollup: Contract, sender: str) -> dict[str, int]:
    """Cancels every outstanding request, refunding deposits to their depositors' pending
    balances; returns what was refunded per L1 address."""
    requests = get_outstanding_requests(rollup)
    if not requests:
        return {}
    fn = rollup.functions.cancelOutstandingDeposits(len(requests), requests)
    receipt = send(w3, fn, sender, "cancelOutstandingDeposits")
    refunded: dict[str, int] = {}
    for event in rollup.events.DepositRefunded().process_receipt(receipt, errors=DISCARD):
        owner = event["args"]["owner"]
        refunded[owner] = refunded.get(owner, 0) + int(event["args"]["amount"])
    return refunded


def execute_verified_batches(
    w3: Web3, rollup: Contract, rebuilt: Reconstruction, sender: str
) -> list[int]:
    """Executes the verified batches L1 has not executed yet (their withdrawals are out of the
    state exits prove against, so they are paid this way), with the pubdata the reconstruction
    read; returns their numbers."""
    done = int(rollup.functions.totalBatchesExecuted().call())
    executed = []
    for batch in rebuilt.batches[done:]:
        withdrawals = pubdata.get_l1_withdrawals(batch.pubdata)
        fn = rollup.functions.executeBatch(batch.info.as_tuple(), withdrawals)
        send(w3, fn, sender, f"executeBatch {batch.info.batch_number}")
        executed.append(batch.info.batch_number)
    return executed


WHY_NEVER_EXIT = {
    INSURANCE_FUND: "account 0 is the insurance fund: it never exits; its value belongs to the "
    "pool-share holders (PROTOCOL 9.4)",
    FUNDING_POOL: "account 2 is the funding pool: it never exits; its balance backs the "
    "unsettled funding the users' exit amounts count (PROTOCOL 9.4)",
}


def check_exit_allowed(account: int) -> None:
    """ExitError for the accounts that never exit (``protocol.exits.NEVER_EXIT``): the insurance
    fund and the funding pool (the contract refuses them with ReservedAccount, the exit circuit
    at ``not_reserved``)."""
    if account in NEVER_EXIT:
        raise ExitError(WHY_NEVER_EXIT[account])


def prove_account_exit(state: State, account: int, prover: ExitProver) -> ExitProof:
    """The exit proof of ``account`` in ``state`` (the reconstructed last verified state): its
    positions valued at the state's marks with their unsettled funding, its pool share; the
    circuit's amount checked against the rules' (``protocol.exits``) before anything is sent."""
    check_exit_allowed(account)
    if account not in state.accounts:
        raise ExitError(f"account {account} does not exist in the verified state")
    expected = compute_exit_amount(state, account)
    owner, amount, proof = prover.prove_exit(state, account)
    if amount != expected:
        raise ExitError(
            f"the exit circuit proves {amount} but the rules give {expected} for account "
            f"{account}: the exit key does not match these rules; nothing was sent"
        )
    positions = sum(1 for p in state.accounts[account].positions.values() if p.size)
    return ExitProof(owner, amount, proof, positions)


def exit_account(
    w3: Web3,
    rollup: Contract,
    rebuilt: Reconstruction,
    account: int,
    prover: ExitProver,
    sender: str,
) -> ExitResult:
    """Proves ``account``'s balance in the reconstructed state and submits performDesert."""
    check_exit_allowed(account)
    if int(rollup.functions.lastVerifiedStateRoot().call()) != rebuilt.state_root:
        raise ExitError("the reconstruction is not of the last verified state")
    proven = prove_account_exit(rebuilt.state, account, prover)
    owner = Web3.to_checksum_address(proven.owner)
    fn = rollup.functions.performDesert(account, owner, proven.amount, proven.proof)
    receipt = send(w3, fn, sender, f"performDesert for account {account}")
    return ExitResult(account, owner, proven.amount, int(receipt["gasUsed"]), proven.positions)


def withdraw_pending_balance(w3: Web3, rollup: Contract, owner: str, sender: str) -> int:
    """Pays ``owner``'s pending balance out to ``owner``; returns the amount (0: nothing)."""
    amount = int(rollup.functions.pendingBalances(owner).call())
    if amount:
        send(w3, rollup.functions.withdrawPendingBalance(owner), sender, "withdrawPendingBalance")
    return amount
