"""The toolchain: solc through py-solc-x and the shim, deploy and call on the devnet,
the EIP-2537 pairing precompile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from py_ecc.optimized_bls12_381 import G1, G2, multiply, neg, normalize
from web3 import Web3

from scripts import chain
from scripts.compile import CompileError, compile_sources, project_sources

PAIRING = Web3.to_checksum_address("0x" + "0f".rjust(40, "0"))


@pytest.mark.devnet
def test_compile_deploy_and_call(w3: Web3) -> None:
    artifacts = compile_sources(
        {k: v for k, v in project_sources().items() if k.endswith("Counter.sol")}
    )
    counter = chain.deploy(w3, artifacts["Counter"])
    assert counter.functions.count().call() == 0
    user = chain.accounts(w3)[1]
    tx = counter.functions.increment(41).transact({"from": user})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert counter.functions.count().call() == 41
    (event,) = counter.events.Incremented().process_receipt(receipt)
    assert event["args"]["by"] == user


def test_compile_is_cached_by_content(tmp_path: Path) -> None:
    src = {"A.sol": "// SPDX-License-Identifier: MIT\npragma solidity 0.8.30;\ncontract A {}\n"}
    first = compile_sources(src, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert compile_sources(src, cache_dir=tmp_path) == first
    changed = {"A.sol": src["A.sol"] + "contract B {}\n"}
    assert set(compile_sources(changed, cache_dir=tmp_path)) == {"A", "B"}
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_compile_error_shows_file_and_line(tmp_path: Path) -> None:
    src = {"Broken.sol": "pragma solidity 0.8.30;\ncontract C {\n  uint x = ;\n}\n"}
    with pytest.raises(CompileError) as info:
        compile_sources(src, cache_dir=tmp_path)
    message = str(info.value)
    assert "Broken.sol:3:" in message
    assert "ParserError" in message
    assert not message.lstrip().startswith("{")


def _fp(x: int) -> bytes:
    return x.to_bytes(64, "big")  # EIP-2537: 48-byte field element padded to 64 bytes


def _g1(p: Any) -> bytes:
    x, y = normalize(p)
    return _fp(int(x)) + _fp(int(y))


def _g2(p: Any) -> bytes:
    x, y = normalize(p)
    return b"".join(_fp(int(c)) for c in (*x.coeffs, *y.coeffs))


def _pairing(w3: Web3, data: bytes) -> int:
    return int.from_bytes(w3.eth.call({"to": PAIRING, "data": data}), "big")


@pytest.mark.devnet
def test_eip2537_pairing_precompile(w3: Web3) -> None:
    p, q = multiply(G1, 5), multiply(G2, 7)
    # e(5G1, 7G2) * e(-35G1, G2) == 1
    valid = _g1(p) + _g2(q) + _g1(neg(multiply(G1, 35))) + _g2(G2)
    assert _pairing(w3, valid) == 1
    invalid = _g1(p) + _g2(q) + _g1(neg(multiply(G1, 34))) + _g2(G2)
    assert _pairing(w3, invalid) == 0
