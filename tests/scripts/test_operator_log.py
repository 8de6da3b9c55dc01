"""`zkperp operator run` leaves a log when nobody watches: every stage of every batch, with its
level, on stderr and in a rotating file (build/operator.log or ``--log-file``)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from protocol.blob import DataAvailability
from protocol.ops.transfer import Transfer
from protocol.params import MINIMAL
from protocol.signing import sign_tx
from scripts.commands.common import CommandError
from scripts.commands.operator import (
    LOG_FILE,
    Deployment,
    configure_logging,
    open_operator,
    run_step,
)
from scripts.paths import BUILD, ROOT
from sequencer.client import NEVER, submit_to_file
from sequencer.genesis import RollupConfig
from sequencer.progress import ignore_progress
from tests.contracts.support import deploy
from tests.sequencer.rollup_env import USDC, deploy_env


@pytest.fixture
def restore_logging() -> Iterator[logging.Logger]:
    logger = logging.getLogger("zkperp")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    for handler in logger.handlers:
        if handler not in handlers:
            handler.close()
    logger.handlers, logger.level = handlers, level


def test_the_log_goes_to_stderr_and_a_rotating_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: logging.Logger
) -> None:
    assert LOG_FILE.parent == BUILD
    path = tmp_path / "logs" / "operator.log"
    configure_logging(path, logging.INFO, max_bytes=400)
    configure_logging(path, logging.INFO, max_bytes=400)  # a second call replaces the first
    log = logging.getLogger("zkperp.operator")
    log.debug("not at INFO")
    for n in range(12):
        log.info("block %d sealed", n)
    log.warning("block 11 dropped transaction #3: InvalidNonce")
    err = capsys.readouterr().err
    assert err.count("block 11 sealed") == 1 and "not at INFO" not in err
    assert "WARNING zkperp.operator: block 11 dropped transaction #3" in err
    assert (tmp_path / "logs" / "operator.log.1").exists()  # rotated at 400 bytes
    assert "WARNING" in path.read_text()


class FlakyOperator:
    """Stands in for the operator in ``run_step``: a step that fails once, then works."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def step(self) -> object:
        self.calls.append("step")
        if self.calls.count("step") == 1:
            raise ConnectionError("the L1 node went away")
        return None

    def rebuild(self) -> None:
        self.calls.append("rebuild")


def test_a_failed_step_is_logged_and_the_next_starts_from_the_store(
    caplog: pytest.LogCaptureFixture,
) -> None:
    operator = FlakyOperator()
    with caplog.at_level(logging.INFO, logger="zkperp"):
        assert run_step(operator, rebuild=False) == "failed"  # type: ignore[arg-type]
        assert run_step(operator, rebuild=True) == "idle"  # type: ignore[arg-type]
    assert operator.calls == ["step", "rebuild", "step"]
    (record,) = caplog.records
    assert record.levelname == "ERROR" and "the step failed" in record.message
    assert record.exc_info is not None and "the L1 node went away" in caplog.text


@pytest.mark.devnet
@pytest.mark.prove
def test_operator_run_logs_every_stage_of_a_batch(w3: Web3, tmp_path: Path) -> None:
    env = deploy_env(w3, tmp_path, users=1, data=DataAvailability.BLOBS)  # the CLI's default
    (alice,) = env.users
    deployment = tmp_path / "rollup.json"
    url = str(getattr(w3.provider, "endpoint_uri", ""))
    Deployment(
        url, env.config, env.rollup.address, env.token.address, env.validator, env.start_block
    ).write(deployment)
    env.deposit(alice, 10 * USDC)
    env.register_key(alice)
    wrong_nonce = sign_tx(
        Transfer(alice.account, 5, NEVER, 4, USDC), alice.key, env.config.chain_id
    )
    submit_to_file(env.store_path, wrong_nonce)
    log_file = tmp_path / "logs" / "op.log"
    with (tmp_path / "stdout.txt").open("w") as stdout:  # unattended: stdout to a file
        done = subprocess.run(
            [sys.executable, "-m", "scripts.cli", "operator", "run", "--deployment",
             str(deployment), "--db", str(env.store_path), "--confirmations", "0", "--once",
             "--log-file", str(log_file)],
            cwd=ROOT, env={**os.environ}, stdout=stdout, stderr=subprocess.PIPE, text=True,
            timeout=540, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = log_file.read_text()
    for line in [
        "INFO    zkperp.operator: block 1 sealed",
        "WARNING zkperp.operator: block 1 dropped transaction #1: InvalidNonce",
        "INFO    zkperp.prover: block 1 witness built",
        "INFO    zkperp.prover: block proof of batch 1 made in",
        # the in-process prover's proof is made first: one transaction settles the batch
        "INFO    zkperp.operator: block 1 committed, verified and executed in one call",
    ]:
        assert line in text
        assert line in done.stderr


@pytest.mark.devnet
def test_operator_run_refuses_a_blob_deployment_without_the_validators_key(
    w3: Web3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blob path signs its commits: without the validator's key the operator does not
    start (one clear error, before any key or state is loaded)."""
    rollup = deploy(w3, data=DataAvailability.BLOBS).rollup
    stranger = list(w3.eth.accounts)[5]  # a validator whose key this machine does not hold
    config = RollupConfig(MINIMAL, int(w3.eth.chain_id), fee_owner=bytes.fromhex(stranger[2:]))
    url = str(getattr(w3.provider, "endpoint_uri", ""))
    deployment = Deployment(url, config, rollup.address, rollup.address, stranger, 0)
    monkeypatch.delenv("ZKPERP_VALIDATOR_KEY", raising=False)
    with pytest.raises(CommandError, match="set ZKPERP_VALIDATOR_KEY"):
        open_operator(deployment, tmp_path / "op.sqlite", 0, ignore_progress)
    assert not (tmp_path / "op.sqlite").exists()
