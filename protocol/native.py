"""Where the native core is chosen: ``native/zkperp_native.c``, a CPython extension with the field,
Poseidon and Jubjub EdDSA verification in C, built by ``make setup`` (``scripts/build_native.py``).

Like the compiled engine (``protocol/__init__.py``), a build lives in ``build/native/<digest>``,
where ``<digest>`` hashes the C source and the interpreter's tag, so an edited source never runs a
stale build: without a build for the current source the rules run on their Python code, which is
the reference (``tests/protocol/test_native.py`` compares the two). ``ZKPERP_NATIVE`` = ``pure``
forces the Python code, ``native`` requires the build (ImportError without it), anything else or
unset uses the build if present. ``NATIVE`` is the loaded module or None; ``protocol.poseidon``
and ``protocol.eddsa`` hand it their constants at import and call it where it is not None.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import protocol

MODULE = "zkperp_native"
SOURCE = protocol.SOURCE_DIR.parent / "native" / f"{MODULE}.c"
BUILDS = protocol.SOURCE_DIR.parent / "build" / "native"


def compute_native_digest() -> str:
    """What a native build must have been built from: the C source and the interpreter's tag."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode() + b"\0")
    digest.update(SOURCE.read_bytes() if SOURCE.is_file() else b"")
    return digest.hexdigest()[:20]


def find_native_build() -> Path | None:
    """The shared library built for the current source, if there is one."""
    if not SOURCE.is_file():
        return None
    folder = BUILDS / compute_native_digest()
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"{MODULE}{suffix}"
        if path.is_file():
            return path
    return None


def load_native() -> Any:
    """The native module per ``ZKPERP_NATIVE`` (see the module docstring), or None."""
    choice = os.environ.get("ZKPERP_NATIVE", "auto")
    if choice == "pure":
        return None
    path = find_native_build()
    if path is None:
        if choice == "native":
            raise ImportError(
                f"ZKPERP_NATIVE=native but no native build for {SOURCE} under {BUILDS}: "
                "run `make setup` or `python -m scripts.build_native`"
            )
        return None
    spec = importlib.util.spec_from_file_location(MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NATIVE: Any = load_native()
