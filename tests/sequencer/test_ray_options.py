"""`zkperp operator run --provers N`: a count below one is refused with one clear error, before
anything is opened or started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.paths import ROOT


def test_fewer_than_one_prover_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no-rollup.json"
    run = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "operator", "run", "--provers", "0",
         "--deployment", str(missing), "--log-file", str(tmp_path / "op.log")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert "--provers must be at least 1, not 0" in run.stdout
    assert "no-rollup.json" not in run.stdout  # refused before the deployment is read
    assert not (tmp_path / "op.log").exists()
