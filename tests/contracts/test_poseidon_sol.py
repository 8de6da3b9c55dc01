"""contracts/Poseidon.sol: generated from protocol/poseidon.py, and equal to it on-chain."""

from __future__ import annotations

import random
import re

import pytest
from web3 import Web3

from protocol import poseidon, pubdata
from protocol.field import R
from protocol.params import PRESETS
from scripts import chain
from scripts.compile import compile_project
from scripts.gen_poseidon_sol import OUTPUT, render
from scripts.paths import CONTRACTS
from tests.contracts.support import reverts

pytestmark = pytest.mark.devnet


def test_the_committed_file_is_the_generator_output() -> None:
    assert OUTPUT.read_text() == render()


def test_the_sponge_equals_the_python_one_on_random_inputs(w3: Web3) -> None:
    contract = chain.deploy(w3, compile_project()["Poseidon"])
    rng = random.Random(2537)
    for length in [0, 1, 3, 4, 5, 8, 9, 10, 17]:
        inputs = [rng.randrange(R) for _ in range(length)]
        if length:
            inputs[0] = R - 1
        domain = rng.randrange(1, 2**64)
        assert contract.functions.sponge(inputs, domain).call() == poseidon.sponge(inputs, domain)
    data = pubdata.compute_batch_pubdata([], 4)
    chunks = [1_700_000_000, *pubdata.compute_chunks(data)]
    assert contract.functions.sponge(chunks, pubdata.DOMAIN_PUBDATA).call() == (
        pubdata.compute_commitment(1_700_000_000, data)
    )


def test_the_sponge_refuses_what_the_python_one_refuses(w3: Web3) -> None:
    contract = chain.deploy(w3, compile_project()["Poseidon"])
    for inputs, domain, error in [
        ([R], 1, f"not a canonical field element: {R}$"),
        ([1, 2**256 - 1], 1, f"not a canonical field element: {2**256 - 1}$"),
        ([1], 0, r"sponge domain must be in \[1, 2\^64\), got 0$"),
        ([1], 2**64, rf"sponge domain must be in \[1, 2\^64\), got {2**64}$"),
    ]:
        with pytest.raises(ValueError, match=error):
            poseidon.sponge(inputs, domain)
        with reverts("NotInField"):
            contract.functions.sponge(inputs, domain).call()


def _constant(source: str, name: str) -> int:
    match = re.search(rf"constant {name} =\s*(0x[0-9a-fA-F]+|\d+)", source)
    assert match, name
    return int(match.group(1), 0)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_config_constants_match_the_protocol(preset: str) -> None:
    p = PRESETS[preset]
    config = (CONTRACTS / "Config.sol").read_text()
    assert _constant(config, "FIELD_ORDER") == R
    assert _constant(config, "OP_BYTES") == pubdata.OP_BYTES
    assert _constant(config, "CHUNK_BYTES") == pubdata.CHUNK_BYTES
    assert _constant(config, "DOMAIN_PUBDATA") == pubdata.DOMAIN_PUBDATA
    assert _constant(config, "TIMESTAMP_BITS") == p.timestamp_bits
    operations = (CONTRACTS / "Operations.sol").read_text()
    for flag in ("ORDER_FLAG_ASK", "ORDER_FLAG_MARKET"):
        assert _constant(operations, flag) == getattr(pubdata, flag)
    for op_type in pubdata.OpType:
        assert _constant(operations, op_type.name) == op_type
