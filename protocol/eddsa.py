"""EdDSA on Jubjub with a Poseidon challenge: what signs every L2 transaction.

Messages are field elements (the engine hashes a transaction to one with Poseidon). For a secret
scalar ``a``, public key ``A = a*G`` and message ``m`` (docs/PROTOCOL.md section 5):

    r = blake2b-512(nonce_key || m) mod ORDER        deterministic nonce
    R = r*G
    c = sponge([R.x, R.y, A.x, A.y, m], DOMAIN_EDDSA)  a field element, used as an integer
    s = (r + c*a) mod ORDER

and a signature ``(R, s)`` is valid when ``s < ORDER``, ``R`` and ``A`` are curve points in the
prime-order subgroup, ``A`` is not of small order, and ``s*G == R + c*A``.

``verify`` checks the curve conditions and the equation in the native core where it is built
(``protocol.native``: the same checks, in C, without holding the GIL), else with
``protocol.jubjub``'s arithmetic (``verify_reference``, what the tests compare it with).
``verify_many`` verifies a batch whose messages are sponges of given inputs: in the native core,
both sponges and the equation of every item run in one call without the GIL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from protocol.field import BYTES, is_canonical, to_bytes
from protocol.jubjub import (
    ORDER,
    Point,
    PointError,
    add,
    base_mul,
    compress,
    decompress,
    is_in_subgroup,
    is_on_curve,
    is_small_order,
    scalar_mul,
)
from protocol.native import NATIVE
from protocol.poseidon import sponge, sponge_tag

DOMAIN_EDDSA = int.from_bytes(b"eddsa", "big")  # the challenge's sponge domain
SEED_BYTES = 32
SIGNATURE_BYTES = 2 * BYTES


def _blake2b(data: bytes, person: bytes, size: int) -> bytes:
    return hashlib.blake2b(data, digest_size=size, person=person).digest()


@dataclass(frozen=True, repr=False)
class SecretKey:
    """A signing key: the scalar ``a`` and the key of its deterministic nonces."""

    scalar: int
    nonce_key: bytes

    @classmethod
    def from_seed(cls, seed: bytes) -> SecretKey:
        """Derives a key from 32 secret bytes (blake2b, personalised per output)."""
        if len(seed) != SEED_BYTES:
            raise ValueError(f"a seed is {SEED_BYTES} bytes, got {len(seed)}")
        scalar = int.from_bytes(_blake2b(seed, b"zkperp_eddsa_key", 64), "big") % ORDER
        return cls(scalar, _blake2b(seed, b"zkperp_eddsa_nky", 32))

    @property
    def public_key(self) -> Point:
        return base_mul(self.scalar)


@dataclass(frozen=True)
class Signature:
    R: Point
    s: int

    def to_bytes(self) -> bytes:
        """64 bytes: ``compress(R) || s`` (s big-endian)."""
        return compress(self.R) + self.s.to_bytes(BYTES, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """Parses 64 bytes; ``R`` must be a canonical point encoding (``s`` is checked by
        ``verify``)."""
        if len(data) != SIGNATURE_BYTES:
            raise PointError(f"a signature is {SIGNATURE_BYTES} bytes, got {len(data)}")
        return cls(decompress(data[:BYTES]), int.from_bytes(data[BYTES:], "big"))


def challenge(r: Point, a: Point, msg: int) -> int:
    """``c = sponge([R.x, R.y, A.x, A.y, msg], DOMAIN_EDDSA)``."""
    return sponge([r.x, r.y, a.x, a.y, msg], DOMAIN_EDDSA)


def nonce(sk: SecretKey, msg: int) -> int:
    """The deterministic nonce ``r = blake2b-512(nonce_key || msg) mod ORDER``."""
    digest = _blake2b(sk.nonce_key + to_bytes(msg), b"zkperp_eddsa_nce", 64)
    return int.from_bytes(digest, "big") % ORDER


def sign(sk: SecretKey, msg: int) -> Signature:
    """Signs a field element; the same key and message always give the same signature."""
    r = nonce(sk, msg)
    big_r = base_mul(r)
    c = challenge(big_r, sk.public_key, msg)
    return Signature(big_r, (r + c * sk.scalar) % ORDER)


def _as_point(p: Point | bytes) -> Point | None:
    if isinstance(p, bytes):
        try:
            return decompress(p)
        except PointError:
            return None
    return p if is_on_curve(p) else None


def _as_signature(sig: Signature | bytes) -> Signature | None:
    if isinstance(sig, bytes):
        try:
            return Signature.from_bytes(sig)
        except PointError:
            return None
    return sig


def is_valid_equation(a: Point, big_r: Point, s: int, c: int) -> bool:
    """For on-curve ``A``, ``R`` and ``s < ORDER``: ``A`` not of small order, ``A`` and ``R`` in
    the prime subgroup, and ``s*G == R + c*A``."""
    if is_small_order(a) or not is_in_subgroup(a) or not is_in_subgroup(big_r):
        return False
    return base_mul(s) == add(big_r, scalar_mul(c, a))


def verify_reference(pk: Point | bytes, msg: int, sig: Signature | bytes) -> bool:
    """``verify`` on ``protocol.jubjub``'s arithmetic, whatever core is built."""
    return _verify(pk, msg, sig, native=False)


def verify(pk: Point | bytes, msg: int, sig: Signature | bytes) -> bool:
    """True for a valid signature; False for anything else, malformed input included."""
    return _verify(pk, msg, sig, native=NATIVE is not None)


def verify_many(domain: int, items: Sequence[tuple[Point, Sequence[int], Signature]]) -> list[bool]:
    """For each ``(A, inputs, sig)``: ``verify(A, sponge(inputs, domain), sig)``."""
    if NATIVE is None:
        return [verify(a, sponge(inputs, domain), sig) for a, inputs, sig in items]
    rows = []
    for a, inputs, sig in items:
        big_r, s = sig.R, sig.s
        if not isinstance(a, Point) or not isinstance(big_r, Point) or type(s) is not int:
            raise TypeError("verify_many takes (Point, inputs, Signature) items")
        rows.append((inputs, sponge_tag(domain, len(inputs)), a.x, a.y, big_r.x, big_r.y, s))
    return list(NATIVE.eddsa_verify_many(rows, sponge_tag(DOMAIN_EDDSA, 5)))


def _verify(pk: Point | bytes, msg: int, sig: Signature | bytes, native: bool) -> bool:
    a, parsed = _as_point(pk), _as_signature(sig)
    if a is None or parsed is None or not is_canonical(msg):
        return False
    big_r, s = parsed.R, parsed.s
    if not (type(s) is int and 0 <= s < ORDER) or not is_on_curve(big_r):
        return False
    c = challenge(big_r, a, msg)
    if native:
        return bool(NATIVE.eddsa_verify(a.x, a.y, big_r.x, big_r.y, s, c))
    return is_valid_equation(a, big_r, s, c)
