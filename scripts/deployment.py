"""A deployment as the tools know it: the file `zkperp operator deploy` writes (build/rollup.json),
the same facts read back from L1 alone, and the exit circuit's proving key published with it.

The exit key is a public artefact of a deployment: ``deploy_with_circuits`` writes it beside the
deployment file (``<name>.exit-key``, with ``<name>.exit-key.keccak256``) and the rollup records
its keccak256 (``exitProvingKeyHash``). ``load_exit_prover`` proves with a key only when its hash
is the one on L1, and never sets a key up: a fresh setup would give proofs the deployed verifier
refuses.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from circuits.exit import build_exit_circuit
from protocol.accounts import FEE_ACCOUNT, FIRST_USER_ACCOUNT, NO_ADDRESS
from protocol.blob import DataAvailability
from protocol.params import UnknownPresetError, get_preset
from prover.groth16 import Prover
from prover.keys import KeyFileError, KeyMismatchError, decode_key, encode_key
from scripts import chain
from scripts.compile import compile_project, compile_sources
from scripts.deploy import ZERO_ADDRESS, deploy_rollup
from scripts.devnet import DEV_VALIDATOR_KEY
from scripts.paths import BUILD
from sequencer.genesis import RollupConfig
from sequencer.prover_worker import CircuitProver, CircuitProvers, ExitCircuitProver

DEPLOYMENT_FILE = BUILD / "rollup.json"
KEYS_DIR = BUILD / "keys"
EXIT_KEY_SUFFIX = ".exit-key"


class DeploymentFileError(ValueError):
    """The deployment file is missing or unreadable; the message says what to do."""


class ExitKeyError(ValueError):
    """No usable exit proving key: missing, or not the deployment's; the message says where to
    get the right one."""


@dataclass(frozen=True)
class Deployment:
    """What build/rollup.json records of a deployment."""

    rpc_url: str
    config: RollupConfig
    rollup: str
    token: str
    validator: str
    start_block: int  # the first L1 block the rollup's events can be in

    def write(self, path: Path = DEPLOYMENT_FILE) -> None:
        body = {
            "rpc_url": self.rpc_url,
            "config": json.loads(self.config.to_json()),
            "rollup": self.rollup,
            "token": self.token,
            "validator": self.validator,
            "start_block": self.start_block,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, indent=2))

    @classmethod
    def read(cls, path: Path = DEPLOYMENT_FILE) -> Deployment:
        """The deployment in ``path``; DeploymentFileError if it is missing or malformed."""
        if not path.is_file():
            raise DeploymentFileError(
                f"no deployment file {path} (`zkperp operator deploy` writes it)"
            )
        try:
            body = json.loads(path.read_text())
            config = RollupConfig.from_json(json.dumps(body.pop("config")))
            deployment = cls(config=config, **body)
            for address in (deployment.rollup, deployment.token):
                if not Web3.is_address(address):
                    raise ValueError(f"{address!r} is not an address")
            return deployment
        except KeyError as e:
            raise DeploymentFileError(f"the deployment file {path} lacks the field {e}") from None
        except (ValueError, TypeError, AttributeError, UnknownPresetError) as e:
            what = "is empty" if not path.read_bytes().strip() else f"is malformed ({e})"
            raise DeploymentFileError(f"the deployment file {path} {what}") from None

    @classmethod
    def from_chain(cls, w3: Web3, rpc_url: str, rollup_address: str) -> Deployment:
        """The deployment of the rollup at ``rollup_address``, from L1 alone: its preset, its
        token, the fee account's genesis owner, the block it was deployed in."""
        if not Web3.is_address(rollup_address):
            raise DeploymentFileError(f"--rollup {rollup_address!r} is not an L1 address")
        address = Web3.to_checksum_address(rollup_address)
        if not w3.eth.get_code(address):
            raise DeploymentFileError(f"no contract at {address} on {rpc_url}")
        rollup = w3.eth.contract(address=address, abi=compile_project()["Rollup"].abi)
        try:
            preset = get_preset(rollup.functions.preset().call())
            reserved = int(rollup.functions.firstUserAccount().call())
            fee_owner = rollup.functions.accountOwners(FEE_ACCOUNT).call()
            token = rollup.functions.token().call()
            start = int(rollup.functions.deploymentBlock().call())
        except Exception as e:
            raise DeploymentFileError(f"{address} is not a zkperp rollup of this version") from e
        owner = bytes.fromhex(fee_owner[2:]) if reserved > FEE_ACCOUNT else NO_ADDRESS
        config = RollupConfig(preset, int(w3.eth.chain_id), owner)
        return cls(rpc_url, config, address, token, ZERO_ADDRESS, start)

    def get_rollup(self, w3: Web3) -> Contract:
        abi = compile_project()["Rollup"].abi
        return w3.eth.contract(address=Web3.to_checksum_address(self.rollup), abi=abi)

    def get_token(self, w3: Web3) -> Contract:
        abi = compile_project()["TestUSDC"].abi
        return w3.eth.contract(address=Web3.to_checksum_address(self.token), abi=abi)


def get_exit_key_path(deployment_file: Path) -> Path:
    """Where the exit proving key of the deployment in ``deployment_file`` is published."""
    return deployment_file.with_name(deployment_file.stem + EXIT_KEY_SUFFIX)


def compute_exit_key_hash(provers: CircuitProvers) -> bytes:
    """keccak256 of the exit circuit's proving key file."""
    return keccak(encode_key(provers.exit.exit.key))


def export_exit_key(provers: CircuitProvers, deployment_file: Path) -> Path:
    """Writes the exit proving key file, and its keccak256 in hex, beside ``deployment_file``."""
    path = get_exit_key_path(deployment_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = encode_key(provers.exit.exit.key)
    path.write_bytes(data)
    path.with_name(path.name + ".keccak256").write_text("0x" + keccak(data).hex() + "\n")
    return path


def deploy_with_circuits(
    w3: Web3,
    config: RollupConfig,
    provers: CircuitProvers,
    data: DataAvailability = DataAvailability.CALLDATA,
) -> Deployment:
    """Deploys the rollup for ``config`` with the real verifiers of ``provers``' circuits, the
    reserved accounts' genesis owners (the fee account's is ``config.fee_owner``; the insurance
    fund and the funding pool have none), the exit proving key's hash and the data path
    ``data`` (PROTOCOL 9.9)."""
    sources = provers.generate_verifiers()
    artifacts = compile_sources({f"{name}.sol": text for name, text in sources.items()})
    validator = chain.accounts(w3)[0]
    start = int(w3.eth.block_number) + 1
    fee_owner = Web3.to_checksum_address(config.fee_owner)
    reserved = [ZERO_ADDRESS] * FIRST_USER_ACCOUNT
    reserved[FEE_ACCOUNT] = fee_owner
    deployed = deploy_rollup(
        w3,
        config.preset,
        artifacts["BlockVerifier"],
        artifacts["ExitVerifier"],
        genesis_state_root=config.compute_genesis_root(),
        reserved_owners=reserved,
        exit_key_hash=compute_exit_key_hash(provers),
        data=data,
    )
    # the block prover binds the data the contract digests (PROTOCOL 9.9): this deployment's
    # path; provers shared between deployments are proving for the latest one
    provers.data = data
    url = str(getattr(w3.provider, "endpoint_uri", ""))
    return Deployment(url, config, deployed.rollup, deployed.token, validator, start)


def load_exit_prover(
    config: RollupConfig, rollup: Contract, key_file: Path | None, deployment_file: Path | None
) -> ExitCircuitProver:
    """The exit prover with the deployment's exit key: ``key_file`` if given, else the one
    published beside ``deployment_file``, else the local cache's; ExitKeyError unless its
    keccak256 is the rollup's ``exitProvingKeyHash``. Never sets a key up."""
    expected = bytes(rollup.functions.exitProvingKeyHash().call())
    if expected == bytes(32):
        raise ExitKeyError(f"the rollup at {rollup.address} records no exit proving key hash")
    cs, _ = build_exit_circuit(config.preset)
    candidates = _exit_key_candidates(config, cs.digest(), key_file, deployment_file)
    where = "the file `<deployment>.exit-key` that `zkperp operator deploy` published with it"
    for path in candidates:
        data = path.read_bytes() if path.is_file() else None
        if data is not None and keccak(data) == expected:
            return _make_exit_prover(config, data, cs.digest(), path)
        if key_file is not None:
            found = "is missing" if data is None else f"has keccak256 0x{keccak(data).hex()}"
            raise ExitKeyError(
                f"the exit key {path} {found}, not the deployment's 0x{expected.hex()}; get {where}"
            )
    tried = ", ".join(str(p) for p in candidates)
    raise ExitKeyError(
        f"no exit proving key with the deployment's keccak256 0x{expected.hex()} (looked at "
        f"{tried}); get {where} and pass it with --exit-key FILE"
    )


def _exit_key_candidates(
    config: RollupConfig, digest: bytes, key_file: Path | None, deployment_file: Path | None
) -> list[Path]:
    if key_file is not None:
        return [key_file]
    paths = [] if deployment_file is None else [get_exit_key_path(deployment_file)]
    return [*paths, KEYS_DIR / f"exit-{config.preset.name}-{digest.hex()[:16]}.zkey"]


def _make_exit_prover(
    config: RollupConfig, data: bytes, digest: bytes, path: Path
) -> ExitCircuitProver:
    try:
        key = decode_key(data)
        key.require_circuit(digest, f"the exit circuit of preset {config.preset.name}")
    except (KeyFileError, KeyMismatchError) as e:
        raise ExitKeyError(f"the exit key {path} cannot be used: {e}") from None
    timings = Path(tempfile.gettempdir()) / "zkperp-exit-timings.json"
    return ExitCircuitProver(config.preset, CircuitProver("exit", key, Prover(key), timings))


def get_data_path(rollup: Contract) -> DataAvailability:
    """The deployment's data path, as its contract records it (``blobData``)."""
    blobs = bool(rollup.functions.blobData().call())
    return DataAvailability.BLOBS if blobs else DataAvailability.CALLDATA


def get_validator_key(validator: str) -> str | None:
    """The validator's private key: ``$ZKPERP_VALIDATOR_KEY``, else the devnet's own where the
    validator is Anvil's account 0; None otherwise (the blob path then refuses to commit)."""
    key = os.environ.get("ZKPERP_VALIDATOR_KEY")
    if key:
        return key
    if Account.from_key(DEV_VALIDATOR_KEY).address == Web3.to_checksum_address(validator):
        return DEV_VALIDATOR_KEY
    return None
