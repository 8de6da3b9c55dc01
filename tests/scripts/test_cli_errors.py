"""Bad input on the command line gets one clear line and a non-zero exit, never a traceback; a
contract's revert is printed by its name and what to do, never as a raw selector."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from eth_utils import keccak
from typer.main import get_command
from typer.testing import CliRunner, Result
from web3 import Web3

from protocol import pubdata
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.registry import decode_request, get_priority_operation
from protocol.params import MINIMAL
from protocol.pubdata import ORDER_FLAG_ASK, ORDER_FLAG_MARKET
from scripts import chain, devnet
from scripts.cli import app
from scripts.commands.common import cli_errors
from scripts.deploy import ZERO_ADDRESS
from scripts.deployment import KEYS_DIR, Deployment
from sequencer.genesis import RollupConfig
from sequencer.submitter import SubmitError
from tests.contracts.support import USDC, Rollup, deploy

SELECTOR = re.compile(r"0x[0-9a-f]{8}\b")
ERROR_LINE = re.compile(r"^error: \S.*$")


def zkperp(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})


def assert_refused(result: Result, *phrases: str, code: int = 1) -> None:
    """Exit ``code``, no traceback, one ``error:`` line containing every phrase, no selector."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if code == 1:
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and ERROR_LINE.match(lines[0]), result.output
        assert not SELECTOR.search(lines[0]), f"a raw selector in {lines[0]}"
    for phrase in phrases:
        assert phrase in result.output, result.output


def all_commands() -> list[list[str]]:
    """Every leaf command of `zkperp`, as the words that name it."""
    found: list[list[str]] = []

    def walk(command: Any, words: list[str]) -> None:  # typer's own click: duck-typed
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*words, name])
        else:
            found.append(words)

    walk(get_command(app), [])
    return found


@pytest.mark.parametrize("words", all_commands(), ids=" ".join)
def test_every_command_refuses_an_unknown_option_without_a_traceback(words: list[str]) -> None:
    assert_refused(zkperp(*words, "--no-such-option"), "No such option", code=2)


@pytest.mark.parametrize(
    ("words", "phrase"),
    [
        (["demo", "--preset", "nope"], "unknown preset 'nope'"),
        (["prove", "exit", "--preset", "nope", "--out", "x"], "unknown preset 'nope'"),
        (["prove", "nope", "--out", "x"], "unknown circuit 'nope'"),
        (["prove", "exit", "--backend", "nope", "--out", "x"], "unknown backend 'nope'"),
        (["verify", "/nonexistent"], "cannot read /nonexistent"),
        (["circuit", "info", "exit", "--preset", "nope"], "unknown preset 'nope'"),
        (["circuit", "export", "nope", "--out", "x"], "unknown circuit 'nope'"),
        (["verifier", "solidity", "nope", "--out", "x"], "unknown circuit 'nope'"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_bad_values_are_one_line(words: list[str], phrase: str) -> None:
    result = zkperp(*words)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output and phrase in " ".join(result.output.split())


FILE_COMMANDS = [
    ["exit", "--account", "3"],
    ["desert", "activate"],
    ["desert", "refund"],
    ["reconstruct"],
    ["operator", "run"],
    ["operator", "status"],
]


@pytest.mark.parametrize("words", FILE_COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (None, "no deployment file"),
        ("", "is empty"),
        ("{not json", "is malformed"),
        ('{"rpc_url": "http://127.0.0.1:1"}', "lacks the field 'config'"),
        ("[1, 2]", "is malformed"),
    ],
    ids=["missing", "empty", "not-json", "no-config", "a-list"],
)
def test_a_bad_deployment_file_is_one_line(
    tmp_path: Path, words: list[str], content: str | None, phrase: str
) -> None:
    path = tmp_path / "rollup.json"
    if content is not None:
        path.write_text(content)
    result = zkperp(*words, "--deployment", str(path))
    assert_refused(result, phrase)
    if words[0] in ("exit", "desert", "reconstruct"):  # these need no file: say so
        assert "--rollup ADDRESS --rpc URL" in result.output


@pytest.mark.parametrize(
    ("account", "phrase", "code"),
    [("-1", "greater than or equal to 0", 2), ("0", "insurance fund", 1), ("2", "funding pool", 1)],
)
def test_exit_refuses_a_negative_or_reserved_account(account: str, phrase: str, code: int) -> None:
    assert_refused(zkperp("exit", "--account", account), phrase, code=code)


def test_rollup_and_rpc_go_together() -> None:
    assert_refused(zkperp("desert", "refund", "--rollup", "0x" + "11" * 20), "go together")
    dead = ("--rollup", "0x" + "11" * 20, "--rpc", "http://127.0.0.1:1")
    assert_refused(zkperp("exit", "--account", "3", *dead), "no Ethereum node answers")


# -- against a rollup on the devnet -------------------------------------------------------------


@pytest.fixture
def rollup_file(w3: Web3, tmp_path: Path) -> tuple[Rollup, Path, str]:
    """A rollup with the fee account and an exit key hash recorded; its deployment file."""
    operator = chain.accounts(w3)[0]
    env = deploy(
        w3, reserved_owners=(ZERO_ADDRESS, operator, ZERO_ADDRESS), exit_key_hash=keccak(b"key")
    )
    url = str(getattr(w3.provider, "endpoint_uri", ""))
    config = RollupConfig(MINIMAL, int(w3.eth.chain_id), bytes.fromhex(operator[2:]))
    path = tmp_path / "rollup.json"
    start = int(env.rollup.functions.deploymentBlock().call())
    Deployment(url, config, env.rollup.address, env.token.address, operator, start).write(path)
    rebuilt = Deployment.from_chain(w3, url, env.rollup.address)  # the file, from L1 alone
    assert (rebuilt.config, rebuilt.token, rebuilt.start_block) == (
        config,
        env.token.address,
        start,
    )
    return env, path, url


@pytest.mark.devnet
def test_bad_senders_and_desert_mode_errors_are_one_line(
    rollup_file: tuple[Rollup, Path, str], tmp_path: Path
) -> None:
    env, path, url = rollup_file
    file = ("--deployment", str(path))
    assert_refused(zkperp("desert", "activate", *file, "--sender", "0x12"), "not an L1 address")
    stranger = "0x" + "ab" * 20
    assert_refused(zkperp("desert", "refund", *file, "--sender", stranger), "can sign for")
    env.deposit(env.users[0], 3, USDC)
    assert_refused(  # decoded from the ABI, with what to do
        zkperp("desert", "activate", *file), "NoExpiredPriorityRequest()", "is overdue yet"
    )
    assert_refused(zkperp("exit", "--account", "3", *file), "desert mode is not active")
    chain.increase_time(env.w3, env.preset.priority_expiry_seconds)
    done = zkperp("desert", "activate", *file)
    assert done.exit_code == 0 and "desert mode activated" in done.output, done.output
    assert_refused(zkperp("desert", "activate", *file), "already active", "zkperp exit")
    garbage = tmp_path / "other.exit-key"
    garbage.write_bytes(b"not the key")
    assert_refused(
        zkperp("exit", "--account", "3", *file, "--exit-key", str(garbage)),
        "has keccak256",
        "not the deployment's 0x" + keccak(b"key").hex(),
    )
    assert_refused(zkperp("exit", "--account", "3", *file), "no exit proving key with")
    from_l1 = ("--rollup", env.rollup.address, "--rpc", url)
    assert_refused(zkperp("exit", "--account", "3", *from_l1), "no exit proving key with")
    not_a_rollup = ("--rollup", env.token.address, "--rpc", url)
    assert_refused(zkperp("desert", "refund", *not_a_rollup), "not a zkperp rollup")
    # the stand-in rollup's genesis root is no real genesis: refused, in one line
    assert_refused(zkperp("reconstruct", *from_l1), "not deployed with this genesis")
    refunded = zkperp("desert", "refund", *from_l1)
    assert refunded.exit_code == 0 and "refunded 1.000000 USDC" in refunded.output


# -- the decoder --------------------------------------------------------------------------------


def test_every_custom_error_of_the_contracts_is_named_with_advice() -> None:
    names = {name for name, _, _ in chain.get_error_table().values()}
    assert {"AlreadyExited", "InvalidProof", "TimestampOutOfRange", "ReservedAccount"} <= names
    assert names <= set(chain.ADVICE), f"no advice for {names - set(chain.ADVICE)}"
    already = chain.decode_error("0xf6596278")  # the raw code a user met (issue 12)
    assert already is not None and str(already) == "AlreadyExited()"
    assert chain.decode_error("0xdeadbeef") is None and chain.decode_error("0x12") is None


def test_arguments_are_decoded_by_name() -> None:
    abi = [
        {
            "type": "error",
            "name": "TooLate",
            "inputs": [{"name": "deadline", "type": "uint64"}, {"name": "who", "type": "address"}],
        }
    ]
    table = chain.build_error_table([abi])
    (selector,) = table
    data = selector + (7).to_bytes(32, "big") + bytes(12) + b"\x11" * 20
    decoded = chain.decode_error(data, table)
    assert decoded is not None and decoded.advice == ""
    assert str(decoded) == f"TooLate(deadline=7, who={Web3.to_checksum_address('0x' + '11' * 20)})"
    assert chain.decode_error(data[:-1], table) is None  # truncated arguments


@pytest.mark.devnet
def test_a_revert_behind_the_operators_error_is_named(w3: Web3) -> None:
    """The operator's SubmitError wraps web3's raw error; the command prints the decoded one."""
    env = deploy(w3)
    stale = env.now()  # the genesis batch's time, then two days pass: too old to commit
    chain.increase_time(w3, 2 * 24 * 3600)
    info = (1, stale, 7, b"", 5, pubdata.compute_batch_pubdata([], env.preset.ops_per_block), b"")
    fn = env.rollup.functions.commitBatch(env.batches[0], info)
    try:
        fn.transact({"from": env.operator})
    except Exception as raw:  # whatever web3 raises, as the submitter meets it
        error = SubmitError(f"commit of batch 1 would revert: {raw}")
        error.__cause__ = raw
    else:
        raise AssertionError("a stale batch was committed")
    assert SELECTOR.search(str(error))  # what the operator's message says today

    @cli_errors
    def operator_step() -> None:
        raise error

    with pytest.raises(typer.Exit):
        operator_step()
    revert = chain.describe_revert("commit of batch 1", error)
    assert revert is not None and str(revert).startswith(
        "commit of batch 1 reverted with TimestampOutOfRange() — the batch's timestamp is too old"
    )
    with pytest.raises(chain.RevertedError, match=r"TimestampOutOfRange\(\) — .*re-seal"):
        chain.send(w3, fn, env.operator, "commitBatch")


# -- operator deploy publishes what exits need ----------------------------------------------------


def run_zkperp(build: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZKPERP_BUILD_DIR": str(build), "COLUMNS": "300"}
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip


@pytest.mark.devnet
@pytest.mark.prove  # sets the minimal circuits' keys up unless build/keys has them
def test_operator_deploy_publishes_the_exit_key_and_the_fee_owner(
    w3: Web3, devnet_session: devnet.Devnet, tmp_path: Path
) -> None:
    devnet.write_manifest(devnet_session, tmp_path / "devnet.json")
    KEYS_DIR.mkdir(parents=True, exist_ok=True)  # the cached keys, set up once for all tests
    (tmp_path / "keys").symlink_to(KEYS_DIR.resolve())
    out = tmp_path / "rollup.json"
    done = run_zkperp(tmp_path, "operator", "deploy", "--preset", "minimal", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    deployment = Deployment.read(out)
    rollup = deployment.get_rollup(w3)
    key = tmp_path / "rollup.exit-key"
    digest = keccak(key.read_bytes())
    assert bytes(rollup.functions.exitProvingKeyHash().call()) == digest
    assert (tmp_path / "rollup.exit-key.keccak256").read_text().strip() == "0x" + digest.hex()
    operator = chain.accounts(w3)[0]
    assert [rollup.functions.accountOwners(i).call() for i in range(3)] == [
        ZERO_ADDRESS,
        operator,
        ZERO_ADDRESS,
    ]
    assert Deployment.from_chain(w3, deployment.rpc_url, deployment.rollup).config == (
        deployment.config
    )
    not_yet = run_zkperp(tmp_path, "exit", "--account", "3", "--deployment", str(out))
    assert not_yet.returncode == 1 and "desert mode is not active" in not_yet.stderr


@pytest.mark.devnet
def test_forced_trading_requests_from_the_command_line(
    rollup_file: tuple[Rollup, Path, str], tmp_path: Path
) -> None:
    env, path, _ = rollup_file  # a stand-in rollup that admits every forced request
    file = ("--deployment", str(path), "--wallets", str(tmp_path / "wallets"))
    made = zkperp("wallet", "new", "carol", "--usdc", "5", *file)
    assert made.exit_code == 0, made.output
    assert zkperp("deposit", "carol", "5", *file).exit_code == 0
    assert_refused(zkperp("forced-order", "carol", "hold", "1", "10100", *file), "buy or sell")
    assert_refused(
        zkperp("forced-order", "carol", "sell", "1", "0", *file),
        "requestForcedOrder reverted with InvalidOrder()",
        "check the market",
    )
    placed = zkperp("forced-order", "carol", "sell", "2", "10100", "--ioc", *file)
    assert placed.exit_code == 0 and "forced market sell of 2 lots" in placed.output
    assert_refused(  # one forced request an account at a time
        zkperp("forced-cancel-all", "carol", *file),
        "requestForcedCancelAll reverted with ForcedRequestPending()",
    )
    queued = env.rollup.events.PriorityRequestQueued().get_logs(from_block=0)
    assert len(queued) == 2  # the deposit and the order
    order = get_priority_operation(decode_request(bytes(queued[1]["args"]["request"])))
    assert order == ForcedOrder(3, order.owner, 0, ORDER_FLAG_ASK | ORDER_FLAG_MARKET, 10_100, 2)
