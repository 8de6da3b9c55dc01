"""The disk cache of constraint systems (``circuits.system_cache``)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from circuits import system_cache
from circuits.catalog import build_circuit
from circuits.r1cs import ConstraintSystem
from circuits.system_cache import cache_path, load_or_build
from protocol.params import MINIMAL

KEY = "merkle minimal"


class Builds:
    """A build function that counts its calls (the catalog's Merkle-update circuit)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> ConstraintSystem:
        self.calls += 1
        return build_circuit("merkle", MINIMAL, setup=True)[0]


def test_a_system_is_built_once_then_loaded_back_the_same(tmp_path: Path) -> None:
    build = Builds()
    first = load_or_build(KEY, build, tmp_path)
    assert cache_path(KEY, tmp_path).is_file()
    again = load_or_build(KEY, build, tmp_path)
    assert build.calls == 1
    assert again is not first
    assert again.digest() == first.digest() == build().digest()
    assert (again.num_public, again.num_wires) == (first.num_public, first.num_wires)
    assert again.constraints == first.constraints


def test_keys_and_sources_keep_systems_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = Builds()
    load_or_build(KEY, build, tmp_path)
    load_or_build("merkle devnet", build, tmp_path)  # another key: built, not loaded
    assert build.calls == 2
    assert len(list(tmp_path.glob("*.pickle"))) == 2

    # an edited source file: a new digest, the system is built again, the old files go
    monkeypatch.setattr(system_cache, "compute_circuit_source_digest", lambda: "0" * 20)
    load_or_build(KEY, build, tmp_path)
    assert build.calls == 3
    assert [p.name for p in tmp_path.glob("*.pickle")] == [cache_path(KEY, tmp_path).name]


def test_the_source_digest_follows_the_circuit_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "circuits"
    package.mkdir()
    (package / "gadget.py").write_text("X = 1\n")
    monkeypatch.setattr(system_cache, "PACKAGES", (package,))
    system_cache.compute_circuit_source_digest.cache_clear()
    try:
        before = system_cache.compute_circuit_source_digest()
        (package / "gadget.py").write_text("X = 2\n")
        system_cache.compute_circuit_source_digest.cache_clear()
        assert system_cache.compute_circuit_source_digest() != before
    finally:
        system_cache.compute_circuit_source_digest.cache_clear()


@pytest.mark.parametrize("content", [b"", b"\x80\x05not a pickle", b"\x80\x05K\x07."])
def test_an_unreadable_file_is_built_again_and_replaced(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    build = Builds()
    path = cache_path(KEY, tmp_path)
    path.write_bytes(content)  # cut short, garbage, or a pickle of something else (7)
    with caplog.at_level(logging.WARNING, logger="zkperp.circuits"):
        system = load_or_build(KEY, build, tmp_path)
    assert build.calls == 1 and f"{path}" in caplog.text and "building it again" in caplog.text
    assert load_or_build(KEY, build, tmp_path).digest() == system.digest()
    assert build.calls == 1  # the file was replaced by a good one
    assert list(tmp_path.glob("*.part")) == []


def test_an_unwritable_folder_still_returns_the_system(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be")
    build = Builds()
    with caplog.at_level(logging.WARNING, logger="zkperp.circuits"):
        system = load_or_build(KEY, build, blocked / "systems")
    assert system.digest() == build().digest()
    assert "could not cache the system" in caplog.text


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZKPERP_SYSTEM_CACHE", "off")
    build = Builds()
    load_or_build(KEY, build, tmp_path)
    load_or_build(KEY, build, tmp_path)
    assert build.calls == 2 and list(tmp_path.iterdir()) == []
