"""Shared fixtures: a session-wide Anvil devnet, and per-test chain isolation by snapshot/revert.
A test that uses the devnet (through any fixture) must carry the ``devnet`` marker, so that
``-m "not devnet"`` runs without Anvil: collection stops with the list of those that do not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from scripts import chain, devnet


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if "devnet_session" in getattr(item, "fixturenames", ())
        and item.get_closest_marker("devnet") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests use the devnet without @pytest.mark.devnet: " + ", ".join(unmarked)
        )


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
