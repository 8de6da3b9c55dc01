"""Shared fixtures: a session-wide Anvil devnet, and per-test chain isolation by snapshot/revert.
A test that uses the devnet (through any fixture) must carry the ``devnet`` marker, so that
``-m "not devnet"`` runs without Anvil: collection stops with the list of those that do not.

``make test`` runs the tests on two workers (pytest-xdist, ``-n 2 --dist loadgroup``): each
worker has its own devnet, temporary folders and in-process caches, and takes the next test
when it is free, except that the modules of ``TOGETHER`` run each on one worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3

from scripts import chain, devnet

# Modules whose tests run on one worker, as one unit: they share a fixture of module (or class)
# scope, made once (a settled chain, proven circuits), or they start a local Ray instance (one
# group: never two at once). Collection refuses a module that needs to be here and is not.
TOGETHER = {
    "tests/prover/test_catalog.py": "tests/prover/test_catalog.py",
    "tests/prover/test_groth16.py": "tests/prover/test_groth16.py",
    "tests/prover/test_phase2.py": "tests/prover/test_phase2.py",
    "tests/protocol/test_state_machine.py": "tests/protocol/test_state_machine.py",
    "tests/test_end_to_end.py": "tests/test_end_to_end.py",
    "tests/sequencer/test_ray_pool.py": "ray",
}


# Modules of tests that take a minute or more each (the --durations of CI's runs,
# docs/PERFORMANCE.md), slowest first: the workers take them before the many short tests (after
# the groups of TOGETHER, which xdist hands out first, the largest first), so that neither
# worker is left running one of them at the end while the other has nothing to do.
SLOW_FIRST = (
    "tests/scripts/test_wallet_cli.py",
    "tests/bench/test_benchmarks.py",
    "tests/sequencer/test_operator.py",
    "tests/sequencer/test_recovery.py",
    "tests/scripts/test_cli_errors.py",
    "tests/sequencer/test_explorer.py",
    "tests/scripts/test_operator_log.py",
    "tests/scripts/test_reconstruct.py",
)


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
    ungrouped = sorted({m for m in map(get_required_group, items) if m and m not in TOGETHER})
    if ungrouped:
        raise pytest.UsageError(
            "these modules share a fixture wider than a test, or start Ray: list them in "
            "TOGETHER (tests/conftest.py), so that their tests run on one worker: "
            + ", ".join(ungrouped)
        )


def get_module(nodeid: str) -> str:
    return nodeid.split("::")[0]


def get_required_group(item: pytest.Item) -> str | None:
    """``item``'s module where its tests must stay on one worker, else None."""
    info = getattr(item, "_fixtureinfo", None)
    defs = [d for ds in info.name2fixturedefs.values() for d in ds] if info is not None else []
    shared = any(d.scope in ("package", "module", "class") for d in defs)
    return get_module(item.nodeid) if shared or item.get_closest_marker("ray") else None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with the groups of ``TOGETHER`` (xdist's own reads ``xdist_group``
    marks through a node id that pytest 9 no longer lets it change)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class TogetherScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return TOGETHER.get(get_module(nodeid), nodeid)

        ordered = False

        def _assign_work_unit(self, node: Any) -> None:
            if not self.ordered:  # the first time: the groups, then the slow modules' tests
                self.ordered = True
                units = sorted(self.workqueue.items(), key=lambda unit: get_unit_rank(*unit))
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return TogetherScheduling(config, log)


def get_unit_rank(scope: str, nodeids: dict[str, bool]) -> int:
    """A unit of work's place: a group of TOGETHER first (xdist put them first, the largest
    first: a stable sort keeps that), then a test of ``SLOW_FIRST``'s modules in its order, then
    every other test."""
    if len(nodeids) > 1:
        return -1
    module = get_module(scope)
    return SLOW_FIRST.index(module) if module in SLOW_FIRST else len(SLOW_FIRST)


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
