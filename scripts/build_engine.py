"""Compile the rules (``protocol``) to C with mypyc: the engine the sequencer and the benchmark run.

    python -m scripts.build_engine [--force] [--best-effort]

Every module of ``protocol`` is compiled except the two package ``__init__`` files (they pick
the build at import), ``poseidon_constants`` (tables of numbers, nothing to gain) and ``events``
(named tuples, which stay Python classes when compiled, and whose comparison methods are
assigned after the class is made: a compiled function assigned so would not bind ``self``).
The result goes to ``build/engine/<digest>`` (``protocol.compute_source_digest``): built in a
temporary directory next to it and renamed into place, so a failed or interrupted build leaves
nothing a later import could load; older builds are removed. Nothing is done when the current
build exists. The compiler's output goes to ``build/engine.log``. Needs a C compiler and the
Python headers; without them this prints why and exits 1, and the rules run interpreted.
``--best-effort`` (what ``make setup`` runs) exits 0 after such a failure, except in CI (``CI``
set to anything but empty, ``0`` or ``false``): there the compiled engine must be built, so
the differential test ``tests/protocol/test_compiled_engine.py`` runs rather than skips.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import protocol
from scripts.build_steps import build_into_place, run_build_command
from scripts.paths import ROOT

SKIPPED = {"__init__.py", "poseidon_constants.py", "events.py"}
LOG = ROOT / "build" / "engine.log"  # the compiler's output of the last build
GROUP = "protocol._engine"  # the shared library is protocol/_engine__mypyc.<abi>.so


def compiled_sources() -> list[str]:
    """The modules to compile, as paths relative to the repository root."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in protocol.SOURCE_DIR.rglob("*.py")
        if path.name not in SKIPPED
    )


def build(target: Path) -> None:
    """mypyc + the C compiler, output under ``target`` (``target/protocol/...``)."""
    from mypyc.build import mypycify  # the compiler is needed only here
    from setuptools import Distribution
    from setuptools.command.build_ext import build_ext

    scratch = target / "scratch"
    cwd = Path.cwd()
    os.chdir(ROOT)  # mypyc names modules by their path from here
    try:
        extensions = mypycify(
            compiled_sources(),
            opt_level="3",
            group_name=GROUP,
            target_dir=str(scratch / "c"),
        )
        command = build_ext(Distribution({"ext_modules": extensions, "script_name": "engine"}))
        command.build_lib = str(target)
        command.build_temp = str(scratch / "obj")
        command.ensure_finalized()
        command.run()
    finally:
        os.chdir(cwd)
    shutil.rmtree(scratch)


def build_engine(force: bool = False) -> Path:
    """Builds the engine for the current sources unless it exists; returns its directory."""
    final = protocol.ENGINE_BUILDS / protocol.compute_source_digest()
    if (final / "protocol").is_dir() and not force:
        print(f"compiled engine up to date: {final.relative_to(ROOT)}")
        return final
    builds, digest = protocol.ENGINE_BUILDS, protocol.compute_source_digest
    return build_into_place("compiled engine", builds, digest, build, LOG)


def main() -> None:
    run_build_command(
        __doc__.split("\n")[0],
        ("engine", "compiled engine"),
        build_engine,
        LOG,
        "without a build for these sources the rules run interpreted (slower, same results)",
    )


if __name__ == "__main__":
    main()
