"""Build the native core (``native/zkperp_native.c``): the field, Poseidon and EdDSA verification.

    python -m scripts.build_native [--force] [--best-effort]

The result goes to ``build/native/<digest>`` (``protocol.native.compute_native_digest``: the C
source and the interpreter's tag), built in a temporary directory next to it and renamed into
place, so a failed or interrupted build leaves nothing a later import could load; older builds
are removed, and nothing is done when the current build exists. The compiler's output goes to
``build/native.log``. Needs a C compiler with ``unsigned __int128`` (gcc, clang) and the Python
headers; without them this prints why and exits 1, and the rules run on their Python code.
``--best-effort`` (what ``make setup`` runs) exits 0 after such a failure, except in CI (as
``scripts/build_engine.py``): there the native core must build, so that its differential tests
(``tests/protocol/test_native.py``) run rather than skip.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from protocol import native
from scripts.build_engine import is_ci, output_to
from scripts.paths import ROOT

LOG = ROOT / "build" / "native.log"


def build(target: Path) -> None:
    """The C compiler through setuptools, the shared library directly under ``target``."""
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    extension = Extension(
        native.MODULE,
        sources=[str(native.SOURCE)],
        extra_compile_args=["-O3", "-Wall"],
    )
    command = build_ext(Distribution({"ext_modules": [extension], "script_name": "native"}))
    command.build_lib = str(target)
    command.build_temp = str(target / "scratch")
    command.ensure_finalized()
    command.run()
    shutil.rmtree(target / "scratch")


def build_native(force: bool = False) -> Path:
    """Builds the native core for the current source unless it exists; returns its directory."""
    digest = native.compute_native_digest()
    final = native.BUILDS / digest
    if native.find_native_build() is not None and not force:
        print(f"native core up to date: {final.relative_to(ROOT)}")
        return final
    native.BUILDS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    temporary = Path(tempfile.mkdtemp(prefix=".partial-", dir=native.BUILDS))
    try:
        with output_to(LOG):
            build(temporary)
        if native.compute_native_digest() != digest:
            raise RuntimeError(f"{native.SOURCE.name} changed during the build; run it again")
        shutil.rmtree(final, ignore_errors=True)
        temporary.rename(final)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    for old in native.BUILDS.iterdir():
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    seconds = time.monotonic() - started
    print(f"native core built in {seconds:.1f} s: {final.relative_to(ROOT)}")
    return final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument(
        "--best-effort", action="store_true", help="exit 0 after a failed build, unless CI is set"
    )
    args = parser.parse_args()
    try:
        build_native(args.force)
    except Exception as error:
        print(
            f"could not compile the native core ({type(error).__name__}: {error}; the "
            f"compiler's output is in {LOG.relative_to(ROOT)}); the rules run on their Python "
            "code (slower, same results)",
            file=sys.stderr,
        )
        if args.best_effort and not is_ci():
            return
        if is_ci():
            print("CI is set: the native core must build here", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
