"""Shared fixtures: a session-wide Anvil devnet, and per-test chain isolation by snapshot/revert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from scripts import chain, devnet


@pytest.fixture(scope="session")
def devnet_session() -> Iterator[devnet.Devnet]:
    """One Anvil for the whole test session, on a free loopback port; stopped at the end."""
    net = devnet.start()
    try:
        yield net
    finally:
        net.stop()


@pytest.fixture
def w3(devnet_session: devnet.Devnet) -> Iterator[Web3]:
    """A web3 client on the session devnet; whatever a test does is reverted after it."""
    client = chain.connect(devnet_session.rpc_url)
    snap = chain.snapshot(client)
    try:
        yield client
    finally:
        chain.revert(client, snap)
