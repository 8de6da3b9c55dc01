"""Where things live: the repository root, build outputs and the node tools."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("ZKPERP_BUILD_DIR", ROOT / "build"))
CONTRACTS = ROOT / "contracts"
NODE_MODULES = ROOT / "node_modules"
SOLC_SHIM = ROOT / "scripts" / "solc_shim.js"
ANVIL = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
SNARKJS = NODE_MODULES / "snarkjs" / "build" / "cli.cjs"
DEVNET_MANIFEST = BUILD / "devnet.json"


class MissingToolError(RuntimeError):
    """A node tool is not installed; `make setup` installs it."""


def require(path: Path, what: str) -> Path:
    """``path`` if it exists, else a MissingToolError telling how to install ``what``."""
    if not path.exists():
        raise MissingToolError(f"{what} not found at {path}; run `make setup` (npm ci) first")
    return path
