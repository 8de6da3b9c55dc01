"""Circuit-specific Groth16 setup.

``setup`` draws tau, alpha, beta, gamma and delta from the operating system's CSPRNG, uses them,
and lets them go: they are never written, logged or returned. Whoever runs ``setup`` alone is
trusted not to have kept them; ``prover.phase2`` lets further parties re-randomize delta so
that one honest contributor suffices for the delta part.
"""

from __future__ import annotations

import fcntl
import secrets
from collections.abc import Callable
from pathlib import Path

from circuits.r1cs import ConstraintSystem
from protocol.field import R
from prover.backend import Backend, Point, get_backend
from prover.keys import ProvingKey, VerifyingKey, read_key, write_key
from prover.ntt import GENERATOR, Domain
from prover.qap import coset_lagrange_at, domain_for, wire_polynomials_at


def random_nonzero() -> int:
    """A uniformly random element of Fr*, from the OS's CSPRNG."""
    return 1 + secrets.randbelow(R - 1)


def setup(cs: ConstraintSystem, backend: Backend | None = None) -> ProvingKey:
    """A fresh proving key (with its verifying key) for ``cs``."""
    domain = domain_for(cs)
    tau = random_nonzero()
    while pow(tau, domain.size, R) in (1, pow(GENERATOR, domain.size, R)):
        tau = random_nonzero()  # tau must lie outside H and the coset 7H
    return keys_from_secrets(
        cs, backend or get_backend(), tau, *(random_nonzero() for _ in range(4))
    )


def keys_from_secrets(
    cs: ConstraintSystem, backend: Backend, tau: int, alpha: int, beta: int, gamma: int, delta: int
) -> ProvingKey:
    """The keys for given secrets (``setup`` draws them; tests may pass their own)."""
    domain = domain_for(cs)
    u, v, w = wire_polynomials_at(cs, domain, tau)
    gamma_inv, delta_inv = pow(gamma, R - 2, R), pow(delta, R - 2, R)
    k = [(beta * ui + alpha * vi + wi) % R for ui, vi, wi in zip(u, v, w, strict=True)]
    public = cs.num_public + 1
    ic = [x * gamma_inv % R for x in k[:public]]
    c = [x * delta_inv % R for x in k[public:]]
    g1 = _batches(
        backend.g1_fixed_base,
        backend.g1_to_bytes,
        [[alpha, beta, delta], u, v, ic, c, h_query_scalars(domain, tau, delta_inv)],
    )
    g2 = _batches(backend.g2_fixed_base, backend.g2_to_bytes, [[beta, gamma, delta], v])
    (alpha1, beta1, delta1), a_query, b_g1_query, ic_query, c_query, h_query = g1
    (beta2, gamma2, delta2), b_g2_query = g2
    vk = VerifyingKey(alpha1, beta2, gamma2, delta2, ic_query)
    return ProvingKey(
        cs.digest(), domain.log_size, cs.num_wires, vk, beta1, delta1,
        a_query, b_g1_query, b_g2_query, c_query, h_query,
    )  # fmt: skip


def h_query_scalars(domain: Domain, tau: int, delta_inv: int) -> list[int]:
    """The coset Lagrange basis at tau, times ``Z(tau) / (delta * (7^n - 1))`` (prover.qap)."""
    n = domain.size
    z_tau = (pow(tau, n, R) - 1) % R
    scale = z_tau * delta_inv * pow(pow(GENERATOR, n, R) - 1, R - 2, R) % R
    return [x * scale % R for x in coset_lagrange_at(domain, tau)]


def _batches(
    fixed_base: Callable[[list[int]], list[Point]],
    to_bytes: Callable[[Point], bytes],
    groups: list[list[int]],
) -> list[tuple[bytes, ...]]:
    """``k * G`` for every scalar of every group, in one batch, split back into the groups."""
    points = [to_bytes(p) for p in fixed_base([k for group in groups for k in group])]
    out, start = [], 0
    for group in groups:
        out.append(tuple(points[start : start + len(group)]))
        start += len(group)
    return out


def key_path(cache_dir: Path, name: str, preset: str, cs: ConstraintSystem) -> Path:
    """Where the key of circuit ``name`` at ``preset`` is cached: named by its digest too, so a
    changed circuit never picks up a stale key."""
    return cache_dir / f"{name}-{preset}-{cs.digest().hex()[:16]}.zkey"


def load_or_setup(
    cs: ConstraintSystem, name: str, preset: str, cache_dir: Path, backend: Backend | None = None
) -> ProvingKey:
    """The cached key for ``cs`` if there is one, else a fresh one (then cached). Processes
    that want the same missing key at once take turns on a lock file beside it: one sets it up,
    the others then read it, so it is set up once and never read half-written."""
    path = key_path(cache_dir, name, preset, cs)
    if path.exists():
        return read_key(path, cs.digest())
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():
            return read_key(path, cs.digest())
        pk = setup(cs, backend)
        write_key(pk, path)
        return pk
