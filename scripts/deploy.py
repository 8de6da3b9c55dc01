"""Deploy the rollup: the USDC token (unless one is given), the two verifiers, Rollup.

``deploy_rollup`` takes the verifier artifacts (from ``prover.solidity.generate_verifier``,
compiled with ``scripts.compile.compile_sources``) and refuses any artifact compiled from
``contracts/test/``: test-only verifiers never reach a deployment made here. When the
manifest of a running devnet (``build/devnet.json``) names the node ``w3`` talks to, the
addresses and ABI paths are recorded in it (``scripts.devnet.update_manifest_contracts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_typing import ChecksumAddress
from web3 import Web3

from circuits.ops.slot import PROVEN_TYPES
from protocol.accounts import FIRST_USER_ACCOUNT
from protocol.blob import DataAvailability
from protocol.params import Preset
from protocol.pubdata import OpType
from scripts import chain, devnet
from scripts.compile import Artifact, compile_project, write_abi
from scripts.paths import DEVNET_MANIFEST

TEST_ONLY_SOURCES = "contracts/test/"
DEFAULT_MIN_DEPOSIT = 1_000_000  # 1 USDC in micro-units
ZERO_ADDRESS = "0x" + "00" * 20
# The reserved accounts of protocol/accounts.py, with no L1 owner unless the deployer names them.
UNOWNED_RESERVED = (ZERO_ADDRESS,) * FIRST_USER_ACCOUNT
# the forced trading requests, which Config admits one type at a time (``forcedTypes``, read
# back as ``admittedForcedTypes``; Rollup.sol's onlyAdmitted); ``tradingEnabled()``: all three
TRADING_REQUESTS = frozenset({OpType.FORCED_CANCEL_ALL, OpType.FORCED_ORDER, OpType.FORCED_BURN})


class DeployError(RuntimeError):
    """The deployment was refused or failed; the message says why."""


@dataclass(frozen=True)
class RollupDeployment:
    """Addresses of one deployment (checksummed)."""

    rollup: ChecksumAddress
    token: ChecksumAddress
    block_verifier: ChecksumAddress
    exit_verifier: ChecksumAddress


def is_trading_proven(proven: frozenset[int] | None = None) -> bool:
    """Whether the block circuit proves every forced trading request (forced cancel-all,
    forced order, forced burn; ``PROVEN_TYPES`` unless ``proven`` is given)."""
    return TRADING_REQUESTS.issubset(PROVEN_TYPES if proven is None else proven)


def compute_forced_types(trading_enabled: bool | None = None) -> int:
    """``Config.Params.forcedTypes``: bit ``t`` for each forced trading request of type ``t``
    admitted. All three when ``trading_enabled``, none when it is False, and by default those
    the block circuit proves (``PROVEN_TYPES``), so that a request it cannot prove is never
    queued while one it proves is taken at once."""
    if trading_enabled is None:
        admitted = TRADING_REQUESTS & PROVEN_TYPES
    else:
        admitted = TRADING_REQUESTS if trading_enabled else frozenset()
    return sum(1 << t for t in admitted)


def compute_rollup_params(
    preset: Preset,
    min_deposit: int = DEFAULT_MIN_DEPOSIT,
    trading_enabled: bool | None = None,
    data: DataAvailability = DataAvailability.CALLDATA,
) -> tuple[int, ...]:
    """The constructor's ``Config.Params`` tuple for ``preset``. ``trading_enabled``: the
    forced trading requests admitted (``compute_forced_types``: by default each one the block
    circuit proves, never one a queued request of could not be proven: PROTOCOL 9.2); ``data``
    is where batches post their pubdata (PROTOCOL 9.9: blobs need a chain with EIP-4844)."""
    return (
        preset.account_tree_depth,
        preset.market_tree_depth,
        preset.price_bits,
        preset.ops_per_block,
        preset.priority_expiry_seconds,
        preset.max_open_priority_requests,
        min_deposit,
        compute_forced_types(trading_enabled),
        data is DataAvailability.BLOBS,
    )


def deploy_rollup(
    w3: Web3,
    preset: Preset,
    block_verifier: Artifact,
    exit_verifier: Artifact,
    *,
    genesis_state_root: int,
    owner: str | None = None,
    validators: Sequence[str] | None = None,
    token: str | None = None,
    min_deposit: int = DEFAULT_MIN_DEPOSIT,
    reserved_owners: Sequence[str] = UNOWNED_RESERVED,
    trading_enabled: bool | None = None,
    data: DataAvailability = DataAvailability.CALLDATA,
    exit_key_hash: bytes = bytes(32),
    manifest: Path = DEVNET_MANIFEST,
) -> RollupDeployment:
    """Deploy the two verifiers, the token (a fresh TestUSDC unless ``token`` is
    given) and the Rollup for ``preset``. ``owner`` and ``validators`` default to the node's
    first account. ``reserved_owners`` are the L1 owners of the genesis accounts 0 .. n-1
    (protocol/accounts.py; the zero address for none), as the genesis state records them.
    ``trading_enabled``: the forced trading requests admitted, by default those the block
    circuit proves (``compute_forced_types``).
    ``exit_key_hash`` is the keccak256 of the exit circuit's proving key file, recorded on L1
    (``exitProvingKeyHash``) so that exits check the key they prove with.
    The deployment is recorded in ``manifest`` when that manifest's devnet is the node ``w3``
    talks to.
    """
    for artifact in (block_verifier, exit_verifier):
        if artifact.source.startswith(TEST_ONLY_SOURCES):
            raise DeployError(f"{artifact.name} is test-only ({artifact.source}); not deploying")
    artifacts = compile_project()
    deployer = chain.accounts(w3)[0]
    token = token or chain.deploy(w3, artifacts["TestUSDC"]).address
    block = chain.deploy(w3, block_verifier)
    exit_ = chain.deploy(w3, exit_verifier)
    rollup = chain.deploy(
        w3,
        artifacts["Rollup"],
        compute_rollup_params(preset, min_deposit, trading_enabled, data),
        token,
        block.address,
        exit_.address,
        genesis_state_root,
        list(reserved_owners),
        owner or deployer,
        list(validators) if validators is not None else [deployer],
        preset.name,
        exit_key_hash,
    )
    deployment = RollupDeployment(
        rollup=rollup.address,
        token=Web3.to_checksum_address(token),
        block_verifier=block.address,
        exit_verifier=exit_.address,
    )
    _record(w3, deployment, artifacts, manifest)
    return deployment


def _record(
    w3: Web3, deployment: RollupDeployment, artifacts: dict[str, Artifact], manifest: Path
) -> None:
    """Records the deployment in ``manifest`` if that is the devnet ``w3`` talks to."""
    data = devnet.read_manifest(manifest)
    if data is None or data.get("rpc_url") != getattr(w3.provider, "endpoint_uri", None):
        return
    by_name = {
        "Rollup": (deployment.rollup, "Rollup"),
        "USDC": (deployment.token, "TestUSDC"),
        "BlockVerifier": (deployment.block_verifier, "IVerifier"),
        "ExitVerifier": (deployment.exit_verifier, "IVerifier"),
    }
    abi_dir = manifest.parent / "abi"
    devnet.update_manifest_contracts(
        {
            name: {"address": address, "abi": str(write_abi(artifacts[artifact], abi_dir))}
            for name, (address, artifact) in by_name.items()
        },
        manifest,
    )
