"""`make setup`'s engine step: a failed build leaves the rules interpreted, except in CI, where
it fails the run (so the compiled-engine differential test cannot skip there unnoticed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.build_steps import is_ci
from scripts.paths import ROOT


@pytest.fixture
def broken_checkout(tmp_path: Path) -> Path:
    """A copy of the rules, the scripts and the Makefile where the build must fail: build/engine
    is a file, so the build directory cannot be made."""
    for folder in ("protocol", "scripts"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "engine").write_text("not a directory\n")
    return tmp_path


def make_engine(checkout: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "MAKEFLAGS")}
    env["PYTHONPATH"] = str(checkout)
    if ci is not None:
        env["CI"] = ci
    # -o: take the virtual environment as installed (it is the shared one)
    return subprocess.run(
        ["make", "-o", ".venv/.installed", "engine"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("ci", ["1", "true"])
def test_a_failed_engine_build_fails_the_run_in_ci(broken_checkout: Path, ci: str) -> None:
    done = make_engine(broken_checkout, ci)
    assert done.returncode != 0
    assert "could not compile the engine (FileExistsError" in done.stderr
    assert "CI is set: the compiled engine must build here" in done.stderr


@pytest.mark.parametrize("ci", [None, "", "0", "false"])
def test_outside_ci_a_failed_engine_build_leaves_the_rules_interpreted(
    broken_checkout: Path, ci: str | None
) -> None:
    done = make_engine(broken_checkout, ci)
    assert done.returncode == 0, done.stderr
    assert "could not compile the engine (FileExistsError" in done.stderr


def test_is_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in [("true", True), ("1", True), ("yes", True), ("", False),
                            ("0", False), ("False", False)]:  # fmt: skip
        monkeypatch.setenv("CI", value)
        assert is_ci() is expected
    monkeypatch.delenv("CI")
    assert is_ci() is False
