"""The compiled engine (``protocol/__init__.py``, ``scripts/build_engine.py``) computes exactly
what the interpreted rules compute, and is never used for sources it was not built from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import protocol
from scripts.build_steps import is_ci
from scripts.paths import ROOT

OPERATIONS_COVERED = {
    "BurnShares",
    "CancelAll",
    "CancelOrder",
    "CreateOrder",
    "Deleverage",
    "DeleverageEnd",
    "DeleverageStep",
    "Deposit",
    "FireTrigger",
    "Liquidate",
    "MintShares",
    "ModifyOrder",
    "PreExecution",
    "Takeover",
    "Transfer",
    "Withdraw",
}


def run_python(
    code_or_module: list[str], cwd: Path, engine: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZKPERP_ENGINE": engine, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, *code_or_module], cwd=cwd, env=env, capture_output=True, text=True
    )


def trace(engine: str) -> list[str]:
    done = run_python(["-m", "tests.protocol.engine_trace"], ROOT, engine)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def require_engine_build() -> None:
    """Skips the calling test when no compiled engine exists for these sources, except in CI
    (``scripts.build_steps.is_ci``), where that fails it: there the engine must be built."""
    build = protocol.ENGINE_BUILDS / protocol.compute_source_digest()
    if (build / "protocol").is_dir():
        return
    reason = f"no compiled engine for these sources ({build}; `make setup` builds it)"
    if is_ci():
        pytest.fail(f"CI is set and there is {reason}")
    pytest.skip(reason)


def test_without_a_build_the_differential_test_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "ENGINE_BUILDS", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set and there is no compiled engine"):
        require_engine_build()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no compiled engine for these sources"):
        require_engine_build()
    (tmp_path / protocol.compute_source_digest() / "protocol").mkdir(parents=True)
    monkeypatch.setenv("CI", "true")
    require_engine_build()


def test_compiled_engine_computes_what_the_rules_compute() -> None:
    require_engine_build()
    pure, compiled = trace("pure"), trace("compiled")
    assert pure[0] == "engine: pure" and compiled[0] == "engine: compiled"
    assert pure[1:] == compiled[1:]
    applied = dict(item.split("=") for item in pure[-1].removeprefix("applied: ").split())
    assert set(applied) >= OPERATIONS_COVERED


def where_from(tree: Path, engine: str) -> str:
    """Which copy of ``protocol.marker`` the package at ``tree`` imports (or the error)."""
    done = run_python(["-c", "import protocol.marker as m; print(m.WHERE)"], tree, engine)
    return done.stdout.strip() if done.returncode == 0 else done.stderr.strip().splitlines()[-1]


def test_a_build_is_used_only_for_the_sources_it_was_built_from(tmp_path: Path) -> None:
    """A copy of the package, with a stand-in build (a plain module where compiled ones would
    be): used when its digest matches, never once a source changed, never when ``pure``."""
    shutil.copytree(protocol.SOURCE_DIR, tmp_path / "protocol")
    (tmp_path / "protocol" / "marker.py").write_text('WHERE = "source"\n')
    digest = run_python(
        ["-c", "import protocol; print(protocol.compute_source_digest())"], tmp_path, "pure"
    ).stdout.strip()
    build = tmp_path / "build" / "engine" / digest / "protocol"
    (build / "ops").mkdir(parents=True)
    (build / "marker.py").write_text('WHERE = "build"\n')

    assert where_from(tmp_path, "auto") == "build"
    assert where_from(tmp_path, "compiled") == "build"
    assert where_from(tmp_path, "pure") == "source"

    with (tmp_path / "protocol" / "risk.py").open("a") as source:
        source.write("# edited\n")
    assert where_from(tmp_path, "auto") == "source"
    assert where_from(tmp_path, "compiled").startswith("ImportError: ZKPERP_ENGINE=compiled")
