"""What the contract tests share: stand-in circuits with real Groth16 proofs, a deployed rollup
with its users, and helpers to queue requests and run batches through commit / verify / execute.

The rollup circuits do not exist yet, so the verifiers are generated (prover.solidity) from two
small stand-in circuits with the real public-input shapes: 6 inputs for a block (old root, new
root, timestamp, data digest d, challenge z, evaluation e), 4 for an exit (root, account,
owner, amount). Each input enters a constraint, so a proof binds all of them; the circuit
checks nothing else, which is what lets these tests play an operator (honest or not) without
the rules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD
from web3.types import TxReceipt

from circuits.r1cs import Builder, ConstraintSystem
from protocol import blob, pubdata
from protocol.blob import DataAvailability
from protocol.field import R
from protocol.ops import deposit, withdraw
from protocol.params import MINIMAL, Preset
from prover.backend import get_backend
from prover.encoding import proof_from_bytes, proof_to_bytes
from prover.groth16 import Proof, Prover
from prover.keys import VerifyingKey
from prover.setup import keys_from_secrets
from prover.solidity import generate_verifier
from scripts import chain
from scripts.compile import Artifact, compile_project, compile_sources
from scripts.deploy import deploy_rollup
from sequencer import kzg
from sequencer.blob_tx import BlobSidecar, send_blob_transaction

BLOCK_INPUTS = 6
EXIT_INPUTS = 4
GENESIS_ROOT = 0x1234
USDC = 1_000_000  # one USDC in micro-units
TEST_PRESET = MINIMAL.with_overrides(max_open_priority_requests=8)

StoredBatchInfo = tuple[int, int, int, int, int, int, int, bytes]
# Anvil's account 0 (the operator here): blob transactions are signed locally (sequencer.blob_tx)
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


# -- stand-in circuits and their provers ------------------------------------------------------


def build_standin(num_public: int, inputs: Sequence[int] | None) -> tuple[ConstraintSystem, Any]:
    """``x_i * y = z_i`` for each public input ``x_i`` and a private ``y`` with ``y * y``."""
    b = Builder(witness=inputs is not None)
    xs = [b.public(f"x{i}", None if inputs is None else inputs[i]) for i in range(num_public)]
    y = b.private("y", None if inputs is None else 1)
    b.mul(y, y, "y_squared")
    for i, x in enumerate(xs):
        b.mul(x, y, f"x{i}_times_y")
    return b.finalize()


class StandInProver:
    """Keys once, then Groth16 proofs for any public inputs of the stand-in circuit.

    The keys come from fixed secrets (``keys_from_secrets``), so the generated verifier's source
    is the same every run and its compiled artifact is cached; a test circuit's toxic waste
    being known is harmless, and the proofs are still real Groth16 proofs.
    """

    def __init__(self, num_public: int, name: str) -> None:
        self.num_public = num_public
        cs, _ = build_standin(num_public, None)
        secrets = [int.from_bytes(keccak(text=f"{name}/{k}"), "big") % R for k in range(5)]
        self.key = keys_from_secrets(cs, get_backend(), *secrets)
        self.prover = Prover(self.key)
        source = generate_verifier(self.key.vk, name)
        self.verifier: Artifact = compile_sources({f"{name}.sol": source})[name]

    @property
    def vk(self) -> VerifyingKey:
        return self.key.vk

    def prove(self, inputs: Sequence[int]) -> bytes:
        cs, witness = build_standin(self.num_public, inputs)
        return proof_to_bytes(self.prover.prove(cs, witness))


@cache
def get_provers() -> tuple[StandInProver, StandInProver]:
    """The block and exit stand-in provers (one setup per test session)."""
    return StandInProver(BLOCK_INPUTS, "BlockVerifier"), StandInProver(EXIT_INPUTS, "ExitVerifier")


def rerandomize(proof: bytes, vk: VerifyingKey, r: int = 5, s: int = 7) -> bytes:
    """Another valid proof of the same statement: ``(A/r, r*B + s*delta, C + (s/r)*A)``."""
    be = get_backend()
    p = proof_from_bytes(proof)
    a, b, c = be.g1_from_bytes(p.a), be.g2_from_bytes(p.b), be.g1_from_bytes(p.c)
    r_inv = pow(r, R - 2, R)
    delta = be.g2_from_bytes(vk.delta_g2)
    b2 = be.g2_add(be.g2_mul(b, r), be.g2_mul(delta, s))
    c2 = be.g1_add(c, be.g1_mul(a, s * r_inv % R))
    return proof_to_bytes(
        Proof(be.g1_to_bytes(be.g1_mul(a, r_inv)), be.g2_to_bytes(b2), be.g1_to_bytes(c2))
    )


# -- reverts ---------------------------------------------------------------------------------


def selector(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()[:8]


@contextlib.contextmanager
def reverts(error: str) -> Iterator[None]:
    """Expects the block to revert with the custom error ``error`` (no arguments)."""
    try:
        yield
    except ContractCustomError as e:
        data = e.data if isinstance(e.data, str) else str(e.data)
        assert data.startswith(selector(f"{error}()")), f"reverted with {data}, not {error}"
        return
    raise AssertionError(f"did not revert (expected {error})")


def reverted_with(fn: ContractFunction, sender: str, receipt: TxReceipt, error: str) -> None:
    """``receipt`` failed, and replaying ``fn`` on its block shows the custom error ``error``."""
    assert receipt["status"] == 0
    with reverts(error):
        fn.call({"from": sender}, block_identifier=receipt["blockNumber"])


# -- a deployed rollup ------------------------------------------------------------------------


@dataclass
class Rollup:
    """A fresh deployment and its cast: the operator (owner and validator) and users."""

    w3: Web3
    preset: Preset
    rollup: Contract
    token: Contract
    operator: str
    users: list[str]
    block_prover: StandInProver
    exit_prover: StandInProver
    requests: list[bytes] = field(default_factory=list)  # every queued request, by id
    batches: list[StoredBatchInfo] = field(default_factory=list)  # by batch number
    pubdata_of: dict[int, bytes] = field(default_factory=dict)
    root: int = GENESIS_ROOT  # the state root of the last committed batch
    gas: list[int] = field(default_factory=list)  # gas of every transaction sent, in order
    data: DataAvailability = DataAvailability.CALLDATA  # the deployment's data path

    def send(self, fn: ContractFunction, sender: str) -> TxReceipt:
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
        assert receipt["status"] == 1
        self.gas.append(receipt["gasUsed"])
        return receipt

    def send_blobs(self, fn: ContractFunction, blobs_of: Sequence[bytes]) -> TxReceipt:
        """Sends ``fn`` from the operator as a type-3 transaction carrying one blob per
        pubdata of ``blobs_of``."""
        tx = {"to": fn.address, "data": fn._encode_transaction_data(), "gas": 3_000_000}
        sidecar = BlobSidecar.of([blob.compute_blob(d) for d in blobs_of])
        tx_hash = send_blob_transaction(self.w3, tx, ANVIL_KEY, sidecar)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        self.gas.append(receipt["gasUsed"])
        return receipt

    def send_at(self, timestamp: int, fn: ContractFunction, sender: str) -> TxReceipt:
        """Mines ``fn`` in a block of exactly ``timestamp``, reverted or not (no gas estimate,
        which would run at the latest block's time); ``reverted_with`` tells why it reverted."""
        chain.rpc(self.w3, "evm_setNextBlockTimestamp", timestamp)
        tx = fn.transact({"from": sender, "gas": 5_000_000})
        return self.w3.eth.wait_for_transaction_receipt(tx)

    def events(self, receipt: TxReceipt, name: str) -> list[Any]:
        event = getattr(self.rollup.events, name)()
        return [e["args"] for e in event.process_receipt(receipt, errors=DISCARD)]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    # -- users and the queue --
    def fund(self, user: str, amount: int) -> None:
        self.send(self.token.functions.mint(user, amount), self.operator)
        self.send(self.token.functions.approve(self.rollup.address, 2**256 - 1), user)

    def queue(self, fn: ContractFunction, sender: str) -> TxReceipt:
        """Sends a request and records the bytes of what it queued."""
        receipt = self.send(fn, sender)
        for event in self.events(receipt, "PriorityRequestQueued"):
            assert event["requestId"] == len(self.requests)
            self.requests.append(bytes(event["request"]))
        return receipt

    def deposit(self, user: str, account: int, amount: int, fund: bool = True) -> TxReceipt:
        if fund:
            self.fund(user, amount)
        return self.queue(self.rollup.functions.deposit(account, amount), user)

    def pending(self, owner: str) -> int:
        return int(self.rollup.functions.pendingBalances(owner).call())

    def balance(self, owner: str) -> int:
        return int(self.token.functions.balanceOf(owner).call())

    # -- batches --
    def commit(
        self,
        records: Sequence[bytes] = (),
        *,
        root: int | None = None,
        timestamp: int | None = None,
        sender: str | None = None,
        prove: bool = False,
    ) -> StoredBatchInfo:
        """Commits the next batch of ``records`` (noop-padded); returns its StoredBatchInfo.
        With ``prove``, the batch is proven first and committed, verified and executed in one
        transaction (``commitVerifyExecuteBatch``); every earlier batch must be verified."""
        data = pubdata.compute_batch_pubdata(list(records), self.preset.ops_per_block)
        last = self.batches[-1]
        new_root = root if root is not None else (self.root * 7 + 1) % R
        ts = timestamp or self.now()
        source = kzg.compute_source_hash(self.data, data)
        bound = blob.compute_batch_data(source, data, ts, last[3], new_root)
        z = bound.challenge
        l1 = blob.get_l1_records(data)
        f = self.rollup.functions
        inputs = [last[3], new_root, ts, bound.data_hash, z, bound.evaluation]
        proof = [self.block_prover.prove(inputs)] if prove else []
        call = f.commitVerifyExecuteBatch if prove else f.commitBatch
        if self.data is DataAvailability.CALLDATA:
            info = (last[0] + 1, ts, new_root, l1, z, data, b"")
            receipt = self.send(call(last, info, *proof), sender or self.operator)
        else:
            assert sender is None, "blob batches are sent by the operator (its key signs them)"
            opening = kzg.open_blob(data, z)
            kzg_proof = opening.y.to_bytes(32, "big") + opening.commitment + opening.proof
            info = (last[0] + 1, ts, new_root, l1, z, b"", kzg_proof)
            receipt = self.send_blobs(call(last, info, *proof), [data])
        (event,) = self.events(receipt, "BatchCommitted")
        stored = stored_info(event)
        self.batches.append(stored)
        self.pubdata_of[stored[0]] = data
        self.root = new_root
        return stored

    def block_inputs(self, batch: StoredBatchInfo) -> list[int]:
        old = GENESIS_ROOT if batch[0] == 1 else self.batches[batch[0] - 1][3]
        return [old, batch[3], batch[1], batch[4], batch[5], batch[6]]

    def verify(self, batch: StoredBatchInfo, proof: bytes | None = None) -> TxReceipt:
        proof = proof or self.block_prover.prove(self.block_inputs(batch))
        return self.send(self.rollup.functions.verifyBatch(batch, proof), self.operator)

    def execute(self, batch: StoredBatchInfo, sender: str | None = None) -> TxReceipt:
        withdrawals = pubdata.get_l1_withdrawals(self.pubdata_of[batch[0]])
        return self.send(
            self.rollup.functions.executeBatch(batch, withdrawals), sender or self.operator
        )

    def process(self, records: Sequence[bytes] = ()) -> StoredBatchInfo:
        """Commit, verify and execute one batch."""
        batch = self.commit(records)
        self.verify(batch)
        self.execute(batch)
        return batch

    def records_for(self, first: int, count: int) -> list[bytes]:
        """Records consuming queued requests ``first .. first+count-1`` (results left zero)."""
        return [r.ljust(pubdata.OP_BYTES, b"\0") for r in self.requests[first : first + count]]

    # -- desert mode --
    def expire_and_activate(self) -> TxReceipt:
        head = self.rollup.functions.firstPriorityRequestId().call()
        expires = self.rollup.functions.priorityRequests(head).call()[1]
        chain.increase_time(self.w3, max(0, expires - self.now()))
        return self.send(self.rollup.functions.activateDesertMode(), self.users[-1])

    def exit_proof(self, account: int, owner: str, amount: int) -> bytes:
        root = self.rollup.functions.lastVerifiedStateRoot().call()
        return self.exit_prover.prove([root, account, int(owner, 16), amount])


def stored_info(event: Any) -> StoredBatchInfo:
    return (
        event["batchNumber"],
        event["timestamp"],
        event["priorityRequests"],
        event["stateRoot"],
        event["dataHash"],
        event["challenge"],
        event["evaluation"],
        bytes(event["withdrawalsHash"]),
    )


def deploy(
    w3: Web3,
    preset: Preset = TEST_PRESET,
    token_contract: str = "TestUSDC",
    **overrides: Any,
) -> Rollup:
    """A fresh rollup on the devnet, with a token of kind ``token_contract``."""
    artifacts = compile_project()
    operator, *users = chain.accounts(w3)
    token = chain.deploy(w3, artifacts[token_contract])
    block_prover, exit_prover = get_provers()
    # every index claimable and every forced request accepted, unless asked otherwise
    options: dict[str, Any] = {"reserved_owners": (), "trading_enabled": True}
    options.update(overrides)
    deployment = deploy_rollup(
        w3,
        preset,
        block_prover.verifier,
        exit_prover.verifier,
        genesis_state_root=GENESIS_ROOT,
        token=token.address,
        **options,
    )
    rollup = w3.eth.contract(address=deployment.rollup, abi=artifacts["Rollup"].abi)
    env = Rollup(w3, preset, rollup, token, operator, users, block_prover, exit_prover)
    env.data = options.get("data", DataAvailability.CALLDATA)
    (genesis,) = rollup.events.BatchCommitted().get_logs(from_block=0)
    env.batches.append(stored_info(genesis["args"]))
    return env


def owner_bytes(address: str) -> bytes:
    return bytes.fromhex(address[2:])


def deposit_record(account: int, owner: str, amount: int) -> bytes:
    return deposit.RECORD.encode((account, owner_bytes(owner), amount))


def withdraw_record(account: int, owner: str, amount: int) -> bytes:
    return withdraw.RECORD.encode((account, owner_bytes(owner), amount))
