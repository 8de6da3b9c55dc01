"""The key file: round trip, refusal of another circuit's key, of corruption, of other versions;
the on-disk cache."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import prover.setup
from circuits.r1cs import ConstraintSystem
from prover.keys import (
    MAGIC,
    VERSION,
    KeyFileError,
    KeyMismatchError,
    ProvingKey,
    decode_key,
    encode_key,
    read_key,
    write_key,
)
from prover.setup import key_path, load_or_setup
from tests.prover.circuits import toy


def test_round_trip(toy_key: ProvingKey, tmp_path: Path) -> None:
    assert decode_key(encode_key(toy_key)) == toy_key
    write_key(toy_key, tmp_path / "k.zkey")
    assert read_key(tmp_path / "k.zkey", toy_key.circuit_digest) == toy_key


def test_a_key_for_another_circuit_is_refused(toy_key: ProvingKey, tmp_path: Path) -> None:
    other, _ = toy(num_public=3)
    write_key(toy_key, tmp_path / "k.zkey")
    with pytest.raises(KeyMismatchError, match="made for circuit"):
        read_key(tmp_path / "k.zkey", other.digest())


def test_corruption_version_and_magic_are_refused(toy_key: ProvingKey) -> None:
    data = bytearray(encode_key(toy_key))
    data[200] ^= 1
    with pytest.raises(KeyFileError, match="corrupted"):
        decode_key(bytes(data))
    with pytest.raises(KeyFileError, match="version 2"):
        decode_key(MAGIC + (VERSION + 1).to_bytes(2, "big") + encode_key(toy_key)[10:])
    with pytest.raises(KeyFileError, match="magic"):
        decode_key(b"NOTAKEY!" + encode_key(toy_key)[8:])
    with pytest.raises(KeyFileError):
        decode_key(b"")


def test_cache_sets_up_once_and_keys_by_digest(
    toy_circuit: tuple[ConstraintSystem, list[int]], tmp_path: Path
) -> None:
    cs = toy_circuit[0]
    first = load_or_setup(cs, "toy", "minimal", tmp_path)
    assert key_path(tmp_path, "toy", "minimal", cs).exists()
    assert load_or_setup(cs, "toy", "minimal", tmp_path) == first
    other, _ = toy(num_public=3)
    assert key_path(tmp_path, "toy", "minimal", other) != key_path(tmp_path, "toy", "minimal", cs)


def test_processes_wanting_the_same_missing_key_set_it_up_once(
    toy_circuit: tuple[ConstraintSystem, list[int]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two at once (the lock is on the file, so threads stand in for processes): the second
    waits for the first's key and reads it; no temporary file is left behind."""
    cs = toy_circuit[0]
    made: list[ProvingKey] = []
    first_in = threading.Event()
    setup = prover.setup.setup

    def slow_setup(system: ConstraintSystem, backend: object = None) -> ProvingKey:
        first_in.set()
        time.sleep(0.3)  # long enough for the other to reach the lock
        made.append(setup(system))
        return made[-1]

    monkeypatch.setattr(prover.setup, "setup", slow_setup)
    keys: list[ProvingKey] = []

    def want() -> None:
        keys.append(load_or_setup(cs, "toy", "minimal", tmp_path))

    first = threading.Thread(target=want)
    first.start()
    assert first_in.wait(10)
    second = threading.Thread(target=want)
    second.start()
    first.join()
    second.join()
    assert len(made) == 1 and keys == [made[0], made[0]]
    path = key_path(tmp_path, "toy", "minimal", cs)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, path.name + ".lock"]
