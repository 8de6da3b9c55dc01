"""Fixtures: a toy circuit with its key, made once per session (setup takes milliseconds)."""

from __future__ import annotations

import pytest

from circuits.r1cs import ConstraintSystem
from prover.keys import ProvingKey
from prover.setup import setup
from tests.prover.circuits import toy


@pytest.fixture(scope="session")
def toy_circuit() -> tuple[ConstraintSystem, list[int]]:
    return toy(num_public=2)


@pytest.fixture(scope="session")
def toy_key(toy_circuit: tuple[ConstraintSystem, list[int]]) -> ProvingKey:
    return setup(toy_circuit[0])
