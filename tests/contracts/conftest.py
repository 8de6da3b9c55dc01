"""Fixtures of the contract tests: a fresh rollup per test on the session devnet (the `w3`
fixture reverts whatever a test did)."""

from __future__ import annotations

import pytest
from web3 import Web3

from tests.contracts.support import Rollup, deploy


@pytest.fixture
def env(w3: Web3) -> Rollup:
    """The rollup at the test preset (minimal, 8 open requests at most), with TestUSDC."""
    return deploy(w3)
