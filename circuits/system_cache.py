"""Constraint systems kept on disk, so that a fresh process does not build its circuit again.

Building the block circuit's system takes 25 s at ``minimal`` on this machine, and every
process that proves blocks needs it: the operator at each start, each Ray worker, each command
that proves. Loading it back takes about a tenth of that.

A cached system lives in ``build/systems/<source>-<key>.pickle`` (beside the compiled engine's
builds): ``<source>`` hashes every source file of ``circuits`` and ``protocol`` (what defines a
circuit) with the interpreter's tag, and ``<key>`` the caller's description of the circuit (its
name, preset and parameters). An edited source file therefore never loads a stale system: its
digest changes, the system is built again, and files of other sources are deleted as the new
one is written. A file that cannot be read back (cut short, or from another version of the
classes) is built again too; writes go to a temporary file renamed into place, so a reader never
sees half of one. ``ZKPERP_SYSTEM_CACHE=off`` builds every time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import protocol
from circuits.r1cs import ConstraintSystem

FOLDER = protocol.SOURCE_DIR.parent / "build" / "systems"
PACKAGES = (protocol.SOURCE_DIR, Path(__file__).resolve().parent)
_LOG = logging.getLogger("zkperp.circuits")


@cache
def compute_circuit_source_digest() -> str:
    """What a cached system must have been built from: the sources of the packages that define
    circuits, and the interpreter's tag (pickles follow the classes of this interpreter)."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode() + b"\0")
    for package in PACKAGES:
        for path in sorted(package.rglob("*.py")):
            digest.update(f"{package.name}/{path.relative_to(package).as_posix()}\0".encode())
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def cache_path(key: str, folder: Path = FOLDER) -> Path:
    """Where the system described by ``key`` is cached for the current sources."""
    name = hashlib.sha256(key.encode()).hexdigest()[:20]
    return folder / f"{compute_circuit_source_digest()}-{name}.pickle"


def load_or_build(
    key: str, build: Callable[[], ConstraintSystem], folder: Path = FOLDER
) -> ConstraintSystem:
    """The system ``build`` returns for ``key``, from the disk cache where it is there."""
    if os.environ.get("ZKPERP_SYSTEM_CACHE") == "off":
        return build()
    path = cache_path(key, folder)
    try:
        with path.open("rb") as f:
            system = pickle.load(f)
        if isinstance(system, ConstraintSystem):
            return system
        _LOG.warning("%s holds no constraint system: building it again", path)
    except FileNotFoundError:
        pass
    except Exception as e:  # a file cut short or made by other classes: build it again
        _LOG.warning("%s could not be read (%s): building it again", path, e)
    system = build()
    _store(path, system)
    return system


def _store(path: Path, system: ConstraintSystem) -> None:
    system.digest()  # computed once and kept with the system
    part: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as f:
            part = f.name
            pickle.dump(system, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(part, path)
    except OSError as e:  # a read-only or full disk: the system is still returned
        _LOG.warning("could not cache the system at %s: %s", path, e)
        if part is not None:
            Path(part).unlink(missing_ok=True)
        return
    source = compute_circuit_source_digest()
    for other in path.parent.glob("*.pickle"):
        if not other.name.startswith(source):
            other.unlink(missing_ok=True)
