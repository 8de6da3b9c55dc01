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

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import protocol
from scripts.paths import ROOT

SKIPPED = {"__init__.py", "poseidon_constants.py", "events.py"}
LOG = ROOT / "build" / "engine.log"  # the compiler's output of the last build
GROUP = "protocol._engine"  # the shared library is protocol/_engine__mypyc.<abi>.so


def is_ci() -> bool:
    """Whether this runs in continuous integration (``CI``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


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


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Sends this process's stdout and stderr, the C compiler's included, to ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def build_engine(force: bool = False) -> Path:
    """Builds the engine for the current sources unless it exists; returns its directory."""
    digest = protocol.compute_source_digest()
    final = protocol.ENGINE_BUILDS / digest
    if (final / "protocol").is_dir() and not force:
        print(f"compiled engine up to date: {final.relative_to(ROOT)}")
        return final
    protocol.ENGINE_BUILDS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    temporary = Path(tempfile.mkdtemp(prefix=".partial-", dir=protocol.ENGINE_BUILDS))
    try:
        with output_to(LOG):
            build(temporary)
        if protocol.compute_source_digest() != digest:
            raise RuntimeError("protocol/ changed during the build; run it again")
        shutil.rmtree(final, ignore_errors=True)
        temporary.rename(final)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    for old in protocol.ENGINE_BUILDS.iterdir():
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    seconds = time.monotonic() - started
    print(f"compiled engine built in {seconds:.0f} s: {final.relative_to(ROOT)}")
    return final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument(
        "--best-effort", action="store_true", help="exit 0 after a failed build, unless CI is set"
    )
    args = parser.parse_args()
    try:
        build_engine(args.force)
    except Exception as error:
        print(
            f"could not compile the engine ({type(error).__name__}: {error}; the compiler's "
            f"output is in {LOG.relative_to(ROOT)}); without a build for these sources the "
            "rules run interpreted (slower, same results)",
            file=sys.stderr,
        )
        if args.best_effort and not is_ci():
            return
        if is_ci():
            print("CI is set: the compiled engine must build here", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
