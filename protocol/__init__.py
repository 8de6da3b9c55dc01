"""The rules of zkperp, written once: pure, deterministic, no I/O.

The same source runs in one of two ways. Interpreted, as written; or compiled to C by mypyc
(``scripts/build_engine.py``, run by ``make setup``), which makes the engine several times
faster and changes nothing it computes (``tests/protocol/test_compiled_engine.py`` runs both
and compares every event and root). A compiled build lives in ``build/engine/<digest>``, where
``<digest>`` hashes every source file of this package and the interpreter's tag, so an edited
source file can never run stale compiled code: the digest no longer matches and the package
runs interpreted until the engine is rebuilt. Selection happens here, before any submodule is
imported, by putting the build's directory first on this package's ``__path__`` (and on
``protocol.ops``'s); ``ZKPERP_ENGINE`` = ``pure`` forces the interpreted rules, ``compiled``
requires the build (ImportError without it), anything else or unset uses the build if present.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent
ENGINE_BUILDS = SOURCE_DIR.parent / "build" / "engine"


def compute_source_digest() -> str:
    """What a compiled build must have been built from: this package's sources and the
    interpreter (its cache tag, e.g. ``cpython-311``)."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for path in sorted(SOURCE_DIR.rglob("*.py")):
        digest.update(path.relative_to(SOURCE_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def find_compiled_engine() -> Path | None:
    """The compiled build to use, per ``ZKPERP_ENGINE``; None to run interpreted."""
    choice = os.environ.get("ZKPERP_ENGINE", "auto")
    if choice == "pure":
        return None
    build = ENGINE_BUILDS / compute_source_digest()
    if (build / "protocol").is_dir():
        return build
    if choice == "compiled":
        raise ImportError(
            f"ZKPERP_ENGINE=compiled but no compiled engine for these sources ({build}): "
            "run `make setup` or `python -m scripts.build_engine`"
        )
    return None


ENGINE = find_compiled_engine()
if ENGINE is not None:
    __path__.insert(0, str(ENGINE / "protocol"))
