"""What ``scripts/build_engine.py`` and ``scripts/build_native.py`` share: a build made in a
temporary directory next to ``<builds>/<digest>`` and renamed into place (so a failed or
interrupted build leaves nothing a later import could load; older builds are removed), the
compiler's output sent to a log, and the command line whose ``--best-effort`` (what ``make
setup`` runs) exits 0 after a failed build except in CI, where the build must succeed."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.paths import ROOT


def is_ci() -> bool:
    """Whether this runs in continuous integration (``CI``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


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


def build_into_place(
    what: str,
    builds: Path,
    compute_digest: Callable[[], str],
    build: Callable[[Path], None],
    log: Path,
) -> Path:
    """Runs ``build(directory)`` for the sources of ``compute_digest()`` and installs the result
    as ``builds/<digest>``, the only build left there; returns that directory."""
    digest = compute_digest()
    final = builds / digest
    builds.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    temporary = Path(tempfile.mkdtemp(prefix=".partial-", dir=builds))
    try:
        with output_to(log):
            build(temporary)
        if compute_digest() != digest:
            raise RuntimeError(f"the {what}'s sources changed during the build; run it again")
        shutil.rmtree(final, ignore_errors=True)
        temporary.rename(final)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    for old in builds.iterdir():
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    seconds = time.monotonic() - started
    print(f"{what} built in {seconds:.1f} s: {final.relative_to(ROOT)}")
    return final


def run_build_command(
    description: str, names: tuple[str, str], build: Callable[[bool], Path], log: Path, without: str
) -> None:
    """The command line of a build script: ``names`` are what is compiled and what the build
    is ("engine", "compiled engine"), ``without`` what runs when the build fails."""
    compiled, what = names
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument(
        "--best-effort", action="store_true", help="exit 0 after a failed build, unless CI is set"
    )
    args = parser.parse_args()
    try:
        build(args.force)
    except Exception as error:
        print(
            f"could not compile the {compiled} ({type(error).__name__}: {error}; the "
            f"compiler's output is in {log.relative_to(ROOT)}); {without}",
            file=sys.stderr,
        )
        if args.best_effort and not is_ci():
            return
        if is_ci():
            print(f"CI is set: the {what} must build here", file=sys.stderr)
        sys.exit(1)
