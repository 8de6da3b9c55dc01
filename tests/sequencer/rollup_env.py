"""A deployed rollup with its operator and users, for the operator's, the reconstruction's and
the end-to-end tests: the real contracts on the session devnet, an operator on a real SQLite
file, users with L1 addresses and L2 keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from protocol.blob import DataAvailability
from protocol.eddsa import SecretKey
from protocol.jubjub import compress
from protocol.params import MINIMAL, Preset
from scripts import chain
from scripts.commands.operator import KEYS_DIR, deploy_with_circuits
from scripts.deployment import get_data_path, get_validator_key
from scripts.devnet import CHAIN_ID
from sequencer.client import Client
from sequencer.genesis import RollupConfig
from sequencer.operator import L1Link, Operator
from sequencer.progress import Progress
from sequencer.prover_worker import CircuitProvers
from sequencer.store import Store

USDC = 1_000_000


@dataclass(frozen=True)
class User:
    address: str
    account: int
    key: SecretKey

    @property
    def owner(self) -> bytes:
        return bytes.fromhex(self.address[2:])


@dataclass
class RollupEnv:
    w3: Web3
    config: RollupConfig
    rollup: Contract
    token: Contract
    validator: str
    users: list[User]
    start_block: int
    store_path: Path
    provers: CircuitProvers
    progress: list[Progress] = field(default_factory=list)
    operator: Operator | None = None

    # -- L1 ---------------------------------------------------------------------------------

    def send(self, fn: ContractFunction, sender: str) -> TxReceipt:
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
        assert receipt["status"] == 1
        return receipt

    def balance(self, user: User) -> int:
        return int(self.token.functions.balanceOf(user.address).call())

    def deposit(self, user: User, amount: int) -> None:
        self.send(self.token.functions.mint(user.address, amount), self.validator)
        self.send(self.token.functions.approve(self.rollup.address, amount), user.address)
        self.send(self.rollup.functions.deposit(user.account, amount), user.address)

    def register_key(self, user: User) -> None:
        pubkey = compress(user.key.public_key)
        self.send(self.rollup.functions.registerL2Key(user.account, pubkey), user.address)

    def forced_withdraw(self, user: User, amount: int) -> None:
        fn = self.rollup.functions.requestForcedWithdraw(user.account, amount)
        self.send(fn, user.address)

    # -- the operator ---------------------------------------------------------------------------

    def open_operator(self) -> Operator:
        """(Re)opens the operator on its SQLite file, as a restarted process would."""
        if self.operator is not None:
            self.operator.store.close()
        key = get_validator_key(self.validator)
        link = L1Link(self.w3, self.rollup, self.validator, self.start_block, 0, key)
        self.provers.data = get_data_path(self.rollup)  # (the provers are shared: set each time)
        store = Store(self.store_path)
        self.operator = Operator.open(self.config, store, link, self.provers, self.progress.append)
        return self.operator

    def client(self, user: User) -> Client:
        assert self.operator is not None
        return Client(self.operator, user.account, user.key)

    def run_operator(self) -> int:
        """Steps the operator until nothing is left to do; returns how many blocks it sealed."""
        assert self.operator is not None
        sealed = 0
        while self.operator.step() is not None:
            sealed += 1
        return sealed


@cache
def get_provers(preset: Preset = MINIMAL, chain_id: int = CHAIN_ID) -> CircuitProvers:
    """The block and exit circuits' provers (keys set up once, cached under build/keys)."""
    return CircuitProvers.load(preset, chain_id, KEYS_DIR)


def deploy_env(
    w3: Web3,
    tmp_path: Path,
    users: int = 3,
    preset: Preset = MINIMAL,
    data: DataAvailability = DataAvailability.CALLDATA,
) -> RollupEnv:
    """A fresh rollup for ``preset`` with the real verifiers of its block and exit circuits,
    and ``users`` users (accounts 3, 4, ...); the node's first account is the operator, batches
    post their pubdata as ``data`` says."""
    validator = chain.accounts(w3)[0]
    config = RollupConfig(preset, int(w3.eth.chain_id), bytes.fromhex(validator[2:]))
    provers = get_provers(preset, config.chain_id)
    deployment = deploy_with_circuits(w3, config, provers, data)
    cast = [
        User(address, 3 + i, SecretKey.from_seed(bytes([i + 1]) * 32))
        for i, address in enumerate(chain.accounts(w3)[1 : 1 + users])
    ]
    return RollupEnv(
        w3,
        config,
        deployment.get_rollup(w3),
        deployment.get_token(w3),
        validator,
        cast,
        deployment.start_block,
        tmp_path / "op.sqlite",
        provers,
    )
