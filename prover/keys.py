"""Groth16 keys and their versioned binary file format (docs/PROTOCOL.md section 10).

Points are kept in the backends' canonical bytes (prover.backend): the key file is the same
whichever backend wrote or reads it. A key file carries the digest of the circuit it belongs to,
and loading it for another circuit is refused with ``KeyMismatchError``.

File layout (integers big-endian)::

    magic "ZKPERPK\\0" | version u16 | digest_len u16 | digest | log_size u8
    | num_wires u32 | num_public u32
    | alpha_g1 | beta_g2 | gamma_g2 | delta_g2 | ic: u32 count, G1 each
    | beta_g1 | delta_g1 | a, b_g1, b_g2, c, h queries: u32 count, points each
    | contributions: u32 count, each delta_g1 | delta_g2 | s_g1 | r_delta_g2
    | sha256 of everything above
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from prover.backend import G1_BYTES, G2_BYTES

MAGIC = b"ZKPERPK\0"
VERSION = 1


class KeyFileError(ValueError):
    """A file that is not a readable key file of this version (wrong magic, version, checksum)."""


class KeyMismatchError(ValueError):
    """A key that belongs to a different circuit than the one it is used with."""


@dataclass(frozen=True)
class VerifyingKey:
    alpha_g1: bytes
    beta_g2: bytes
    gamma_g2: bytes
    delta_g2: bytes
    ic: tuple[bytes, ...]  # one G1 point per public wire, the constant wire first

    @property
    def num_public(self) -> int:
        return len(self.ic) - 1


@dataclass(frozen=True)
class Contribution:
    """One phase-2 contribution: delta after it, and its proof of knowledge (prover.phase2)."""

    delta_g1: bytes
    delta_g2: bytes
    s_g1: bytes  # d * G1 for the contributor's secret d
    r_delta_g2: bytes  # d * hash_to_g2(challenge)


@dataclass(frozen=True)
class ProvingKey:
    circuit_digest: bytes
    log_size: int  # the evaluation domain has 2^log_size points
    num_wires: int
    vk: VerifyingKey
    beta_g1: bytes
    delta_g1: bytes
    a_query: tuple[bytes, ...]  # u_i(tau) G1, every wire
    b_g1_query: tuple[bytes, ...]  # v_i(tau) G1, every wire
    b_g2_query: tuple[bytes, ...]  # v_i(tau) G2, every wire
    c_query: tuple[bytes, ...]  # (beta u_i + alpha v_i + w_i)(tau) / delta G1, private wires
    h_query: tuple[bytes, ...]  # coset Lagrange basis * Z(tau) / (delta (7^n - 1)) G1
    contributions: tuple[Contribution, ...] = ()

    @property
    def num_public(self) -> int:
        return self.vk.num_public

    def require_circuit(self, digest: bytes, what: str = "this circuit") -> None:
        """Raise KeyMismatchError unless the key was made for the circuit with ``digest``."""
        if digest != self.circuit_digest:
            raise KeyMismatchError(
                f"this key was made for circuit {self.circuit_digest.hex()[:16]}…, but "
                f"{what} has digest {digest.hex()[:16]}…; run setup for it (or delete the "
                "cached key)"
            )


def encode_key(pk: ProvingKey) -> bytes:
    """The key file's bytes."""
    out = io.BytesIO()
    out.write(MAGIC + VERSION.to_bytes(2, "big"))
    out.write(len(pk.circuit_digest).to_bytes(2, "big") + pk.circuit_digest)
    out.write(pk.log_size.to_bytes(1, "big") + pk.num_wires.to_bytes(4, "big"))
    out.write(pk.num_public.to_bytes(4, "big"))
    vk = pk.vk
    out.write(vk.alpha_g1 + vk.beta_g2 + vk.gamma_g2 + vk.delta_g2)
    for section in (vk.ic, (pk.beta_g1, pk.delta_g1)):
        _write_points(out, section)
    for query in (pk.a_query, pk.b_g1_query, pk.b_g2_query, pk.c_query, pk.h_query):
        _write_points(out, query)
    out.write(len(pk.contributions).to_bytes(4, "big"))
    for c in pk.contributions:
        out.write(c.delta_g1 + c.delta_g2 + c.s_g1 + c.r_delta_g2)
    body = out.getvalue()
    return body + hashlib.sha256(body).digest()


def decode_key(data: bytes) -> ProvingKey:
    """Parse a key file's bytes; raises KeyFileError for anything but a well-formed v1 key."""
    body, checksum = data[:-32], data[-32:]
    if data[:8] != MAGIC:
        raise KeyFileError("not a zkperp key file (bad magic)")
    version = int.from_bytes(data[8:10], "big")
    if version != VERSION:
        raise KeyFileError(f"key file version {version}; this prover reads version {VERSION}")
    if hashlib.sha256(body).digest() != checksum:
        raise KeyFileError("key file is corrupted (checksum mismatch)")
    try:
        return _parse(_Reader(body[10:]))
    except (IndexError, ValueError) as e:
        raise KeyFileError(f"key file is malformed: {e}") from None


def write_key(pk: ProvingKey, path: Path) -> None:
    """Write atomically (a reader never sees half a key), through a temporary file of this
    writer's own, so that two processes writing the same key never mix their bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o644)  # as a plain write would leave it, not mkstemp's 0600
            out.write(encode_key(pk))
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_key(path: Path, circuit_digest: bytes | None = None) -> ProvingKey:
    """Load a key file; with ``circuit_digest``, refuse a key made for another circuit."""
    pk = decode_key(path.read_bytes())
    if circuit_digest is not None:
        pk.require_circuit(circuit_digest, f"the circuit given for {path}")
    return pk


def _write_points(out: io.BytesIO, points: tuple[bytes, ...]) -> None:
    out.write(len(points).to_bytes(4, "big"))
    out.write(b"".join(points))


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def points(self, size: int) -> tuple[bytes, ...]:
        count = self.uint(4)
        blob = self.take(count * size)
        return tuple(blob[i : i + size] for i in range(0, len(blob), size))


def _parse(r: _Reader) -> ProvingKey:
    digest = r.take(r.uint(2))
    log_size, num_wires, num_public = r.uint(1), r.uint(4), r.uint(4)
    alpha, beta2, gamma2, delta2 = (r.take(n) for n in (G1_BYTES, G2_BYTES, G2_BYTES, G2_BYTES))
    vk = VerifyingKey(alpha, beta2, gamma2, delta2, r.points(G1_BYTES))
    beta1, delta1 = r.points(G1_BYTES)
    sizes = (G1_BYTES, G1_BYTES, G2_BYTES, G1_BYTES, G1_BYTES)
    a, b1, b2, c, h = (r.points(size) for size in sizes)
    contributions = tuple(
        Contribution(r.take(G1_BYTES), r.take(G2_BYTES), r.take(G1_BYTES), r.take(G2_BYTES))
        for _ in range(r.uint(4))
    )
    if r.pos != len(r.data) or vk.num_public != num_public:
        raise ValueError("inconsistent sizes")
    return ProvingKey(
        digest, log_size, num_wires, vk, beta1, delta1, a, b1, b2, c, h, contributions
    )
