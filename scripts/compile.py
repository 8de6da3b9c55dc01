"""Compile Solidity through py-solc-x and the solc-js shim, with artifacts cached under build/.

The cache key is a hash of every source and of the compiler settings, so a changed source or
setting recompiles and an unchanged tree is read back from disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError

from scripts.paths import BUILD, CONTRACTS, ROOT, SOLC_SHIM, require

SOLC_VERSION = "0.8.30"
EVM_VERSION = "prague"  # has the EIP-2537 BLS12-381 precompiles
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "viaIR": True,
    "evmVersion": EVM_VERSION,
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}


class CompileError(RuntimeError):
    """Solidity did not compile; the message is the compiler's, with file:line."""


@dataclass(frozen=True)
class Artifact:
    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployed_bytecode": self.deployed_bytecode,
        }


def project_sources(root: Path = CONTRACTS) -> dict[str, str]:
    """Every .sol file under ``root``, keyed by its path relative to the repository."""
    return {
        p.relative_to(ROOT).as_posix(): p.read_text()
        for p in sorted(root.rglob("*.sol"))
        if "node_modules" not in p.parts
    }


def compute_cache_key(sources: Mapping[str, str]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"solc": SOLC_VERSION, "settings": SETTINGS}, sort_keys=True).encode())
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return h.hexdigest()[:32]


def compile_sources(
    sources: Mapping[str, str], cache_dir: Path = BUILD / "contracts"
) -> dict[str, Artifact]:
    """Compile ``sources`` (unit name -> text); artifacts keyed by contract name.

    Raises CompileError with the compiler's formatted messages on failure.
    """
    key = compute_cache_key(sources)
    cached = cache_dir / f"{key}.json"
    if cached.exists():
        return _artifacts_from_json(json.loads(cached.read_text()))
    output = _run_solc(sources)
    artifacts: dict[str, Artifact] = {}
    for unit, contracts in output.get("contracts", {}).items():
        for name, data in contracts.items():
            evm = data.get("evm", {})
            artifacts[name] = Artifact(
                name=name,
                source=unit,
                abi=data.get("abi", []),
                bytecode="0x" + evm.get("bytecode", {}).get("object", ""),
                deployed_bytecode="0x" + evm.get("deployedBytecode", {}).get("object", ""),
            )
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=cache_dir)
    with os.fdopen(fd, "w") as out:  # a file of its own: another process may compile this too
        os.fchmod(out.fileno(), 0o644)  # as a plain write leaves it, not mkstemp's 0600
        out.write(json.dumps({k: a.to_json() for k, a in artifacts.items()}))
    os.replace(tmp, cached)
    return artifacts


def compile_project() -> dict[str, Artifact]:
    """Compile every contract under contracts/."""
    return compile_sources(project_sources())


def write_abi(artifact: Artifact, out_dir: Path = BUILD / "abi") -> Path:
    """Write the artifact's ABI to ``out_dir/<name>.json`` and return the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{artifact.name}.json"
    path.write_text(json.dumps(artifact.abi, indent=1))
    return path


def _run_solc(sources: Mapping[str, str]) -> dict[str, Any]:
    shim = require(SOLC_SHIM, "solc shim")
    require(ROOT / "node_modules" / "solc", "npm package solc")
    request = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }
    try:
        out: dict[str, Any] = solcx.compile_standard(
            request, solc_binary=str(shim), base_path=str(ROOT)
        )
    except SolcError as e:
        errors = getattr(e, "error_dict", None) or []
        text = "\n".join(err.get("formattedMessage", err.get("message", "")) for err in errors)
        raise CompileError(text.strip() or e.message) from None
    return out


def _artifacts_from_json(data: dict[str, Any]) -> dict[str, Artifact]:
    return {k: Artifact(**v) for k, v in data.items()}
