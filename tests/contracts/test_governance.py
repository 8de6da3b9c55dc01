"""Governance (owner, validator set), the constructor's checks, the deploy script, TestUSDC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from protocol.field import R
from protocol.params import MINIMAL
from scripts import chain, devnet
from scripts.compile import compile_project
from scripts.deploy import ZERO_ADDRESS, DeployError, compute_rollup_params, deploy_rollup
from tests.contracts.support import GENESIS_ROOT, Rollup, get_provers, reverts

pytestmark = pytest.mark.devnet


def test_owner_manages_the_validator_set(env: Rollup) -> None:
    f, owner, alice, bob = env.rollup.functions, env.operator, env.users[0], env.users[1]
    assert f.owner().call() == owner and f.validators(owner).call()
    with reverts("NotOwner"):
        f.setValidator(alice, True).transact({"from": alice})
    with reverts("ZeroAddress"):
        f.setValidator(ZERO_ADDRESS, True).transact({"from": owner})
    receipt = env.send(f.setValidator(alice, True), owner)
    (event,) = env.events(receipt, "ValidatorUpdated")
    assert (event["validator"], event["active"]) == (alice, True)
    env.commit(sender=alice)
    env.send(f.setValidator(alice, False), owner)
    with reverts("NotValidator"):
        env.commit(sender=alice)
    with reverts("NotOwner"):
        f.transferOwnership(alice).transact({"from": alice})
    with reverts("ZeroAddress"):
        f.transferOwnership(ZERO_ADDRESS).transact({"from": owner})
    receipt = env.send(f.transferOwnership(bob), owner)
    (event,) = env.events(receipt, "OwnershipTransferred")
    assert (event["previousOwner"], event["newOwner"]) == (owner, bob)
    with reverts("NotOwner"):
        f.setValidator(alice, True).transact({"from": owner})
    env.send(f.setValidator(alice, True), bob)


def _construct(w3: Web3, **changes: Any) -> None:
    artifacts = compile_project()
    block, exit_ = (chain.deploy(w3, p.verifier).address for p in get_provers())
    args: dict[str, Any] = {
        "params": compute_rollup_params(MINIMAL),
        "token": chain.deploy(w3, artifacts["TestUSDC"]).address,
        "block": block,
        "exit": exit_,
        "root": GENESIS_ROOT,
        "reserved": [],
        "owner": chain.accounts(w3)[0],
        "validators": [chain.accounts(w3)[0]],
        "preset": "minimal",
        "exit_key_hash": bytes(32),
    }
    args.update(changes)
    factory = w3.eth.contract(abi=artifacts["Rollup"].abi, bytecode=artifacts["Rollup"].bytecode)
    factory.constructor(*args.values()).transact({"from": chain.accounts(w3)[0]})


def test_the_constructor_checks_its_arguments(w3: Web3) -> None:
    _construct(w3)
    params = compute_rollup_params(MINIMAL)
    bad_params = [
        (0, *params[1:]),  # account tree depth 0
        (49, *params[1:]),  # deeper than a 48-bit index
        (params[0], 17, *params[2:]),  # market ids are u16
        (*params[:2], 33, *params[3:]),  # prices are u32
        (*params[:3], 0, *params[4:]),  # no operation per block
        (*params[:4], 0, *params[5:]),  # no expiry
        (*params[:5], 0, *params[6:]),  # no room in the queue
        (*params[:6], 0, *params[7:]),  # no minimum deposit
    ]
    for bad in bad_params:
        with reverts("InvalidParams"):
            _construct(w3, params=bad)
    not_a_contract = chain.accounts(w3)[3]
    for name in ("token", "block", "exit"):
        with reverts("InvalidParams"):
            _construct(w3, **{name: not_a_contract})
    with reverts("InvalidParams"):  # reserving every index
        _construct(w3, reserved=[ZERO_ADDRESS] * MINIMAL.max_accounts)
    with reverts("RootNotInField"):
        _construct(w3, root=R)
    with reverts("ZeroAddress"):
        _construct(w3, owner=ZERO_ADDRESS)
    with reverts("ZeroAddress"):
        _construct(w3, validators=[ZERO_ADDRESS])


def test_deploy_refuses_test_only_verifiers(w3: Web3) -> None:
    test_only = compile_project()["FalseReturningToken"]
    assert test_only.source.startswith("contracts/test/")
    block, _ = get_provers()
    with pytest.raises(DeployError, match="test-only"):
        deploy_rollup(w3, MINIMAL, test_only, block.verifier, genesis_state_root=0)
    with pytest.raises(DeployError, match="test-only"):
        deploy_rollup(w3, MINIMAL, block.verifier, test_only, genesis_state_root=0)


def test_deploy_records_itself_in_its_devnet_manifest(
    w3: Web3, devnet_session: devnet.Devnet, tmp_path: Path
) -> None:
    manifest = tmp_path / "devnet.json"
    block, exit_ = get_provers()
    # another devnet's manifest is left alone
    manifest.write_text(json.dumps({"rpc_url": "http://127.0.0.1:1", "contracts": {}}))
    deploy_rollup(
        w3, MINIMAL, block.verifier, exit_.verifier, genesis_state_root=1, manifest=manifest
    )
    assert json.loads(manifest.read_text())["contracts"] == {}
    devnet.write_manifest(devnet_session, manifest)
    deployed = deploy_rollup(
        w3, MINIMAL, block.verifier, exit_.verifier, genesis_state_root=1, manifest=manifest
    )
    contracts = json.loads(manifest.read_text())["contracts"]
    assert set(contracts) == {"Rollup", "USDC", "BlockVerifier", "ExitVerifier"}
    assert contracts["Rollup"]["address"] == deployed.rollup
    abi = json.loads(Path(contracts["Rollup"]["abi"]).read_text())
    rollup = w3.eth.contract(address=deployed.rollup, abi=abi)
    assert rollup.functions.token().call() == deployed.token
    assert rollup.functions.blockVerifier().call() == deployed.block_verifier
    assert rollup.functions.lastVerifiedStateRoot().call() == 1
    assert rollup.functions.preset().call() == "minimal"
    assert (
        rollup.functions.deploymentBlock().call()
        == w3.eth.get_transaction_receipt(
            rollup.events.BatchCommitted().get_logs(from_block=0)[-1]["transactionHash"]
        )["blockNumber"]
    )


def test_test_usdc(env: Rollup) -> None:
    token, alice, bob = env.token, env.users[0], env.users[1]
    assert token.functions.decimals().call() == 6
    with reverts("NotMinter"):
        token.functions.mint(alice, 1).transact({"from": alice})
    env.send(token.functions.mint(alice, 5), env.operator)
    with reverts("InsufficientFunds"):
        token.functions.transfer(bob, 6).transact({"from": alice})
    with reverts("InsufficientFunds"):  # no allowance
        token.functions.transferFrom(alice, bob, 1).transact({"from": bob})
    env.send(token.functions.approve(bob, 3), alice)
    env.send(token.functions.transferFrom(alice, bob, 3), bob)
    env.send(token.functions.transfer(bob, 2), alice)
    assert (env.balance(alice), env.balance(bob), token.functions.totalSupply().call()) == (0, 5, 5)
    assert token.functions.allowance(alice, bob).call() == 0
