"""Build the native core (``native/zkperp_native.c``): the field, Poseidon and EdDSA verification.

    python -m scripts.build_native [--force] [--best-effort]

The result goes to ``build/native/<digest>`` (``protocol.native.compute_native_digest``: the C
source and the interpreter's tag), built in a temporary directory next to it and renamed into
place, so a failed or interrupted build leaves nothing a later import could load; older builds
are removed, and nothing is done when the current build exists. The compiler's output goes to
``build/native.log``. Needs a C compiler with ``unsigned __int128`` (gcc, clang) and the Python
headers; without them this prints why and exits 1, and the rules run on their Python code.
``--best-effort`` (what ``make setup`` runs) exits 0 after such a failure, except in CI (as
``scripts/build_steps.py``): there the native core must build, so that its differential tests
(``tests/protocol/test_native.py``) run rather than skip.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from protocol import native
from scripts.build_steps import build_into_place, run_build_command
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
    final = native.BUILDS / native.compute_native_digest()
    if native.find_native_build() is not None and not force:
        print(f"native core up to date: {final.relative_to(ROOT)}")
        return final
    return build_into_place("native core", native.BUILDS, native.compute_native_digest, build, LOG)


def main() -> None:
    run_build_command(
        __doc__.split("\n")[0],
        ("native core", "native core"),
        build_native,
        LOG,
        "the rules run on their Python code (slower, same results)",
    )


if __name__ == "__main__":
    main()
