"""Circuit-specific Groth16 setup.

``setup`` draws tau, alpha, beta, gamma and delta from the operating system's CSPRNG, uses them,
and lets them go: they are never written, logged or returned. Whoever runs ``setup`` alone is
trusted not to have kept them; ``prover.phase2`` lets further parties re-randomize delta so
that one honest contributor suffices for the delta part.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from circuits.r1cs import ConstraintSystem
from protocol.field import R
from prover.backend import Backend, get_backend
from prover.keys import ProvingKey, VerifyingKey, read_key, write_key
from prover.ntt import GENERATOR
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
    n = domain.size
    z_tau = (pow(tau, n, R) - 1) % R
    h_scale = z_tau * delta_inv * pow(pow(GENERATOR, n, R) - 1, R - 2, R) % R
    h = [x * h_scale % R for x in coset_lagrange_at(domain, tau)]
    g1_scalars = [alpha, beta, delta, *u, *v, *(x * gamma_inv % R for x in k[:public])]
    g1_scalars += [x * delta_inv % R for x in k[public:]] + h
    g1 = [backend.g1_to_bytes(p) for p in backend.g1_fixed_base(g1_scalars)]
    g2 = [backend.g2_to_bytes(p) for p in backend.g2_fixed_base([beta, gamma, delta, *v])]
    m = cs.num_wires
    a_query, b_g1_query = tuple(g1[3 : 3 + m]), tuple(g1[3 + m : 3 + 2 * m])
    ic, rest = g1[3 + 2 * m : 3 + 2 * m + public], g1[3 + 2 * m + public :]
    vk = VerifyingKey(g1[0], g2[0], g2[1], g2[2], tuple(ic))
    c_query, h_query = tuple(rest[: m - public]), tuple(rest[m - public :])
    return ProvingKey(
        cs.digest(), domain.log_size, m, vk, g1[1], g1[2],
        a_query, b_g1_query, tuple(g2[3:]), c_query, h_query,
    )  # fmt: skip


def key_path(cache_dir: Path, name: str, preset: str, cs: ConstraintSystem) -> Path:
    """Where the key of circuit ``name`` at ``preset`` is cached: named by its digest too, so a
    changed circuit never picks up a stale key."""
    return cache_dir / f"{name}-{preset}-{cs.digest().hex()[:16]}.zkey"


def load_or_setup(
    cs: ConstraintSystem, name: str, preset: str, cache_dir: Path, backend: Backend | None = None
) -> ProvingKey:
    """The cached key for ``cs`` if there is one, else a fresh one (then cached)."""
    path = key_path(cache_dir, name, preset, cs)
    if path.exists():
        return read_key(path, cs.digest())
    pk = setup(cs, backend)
    write_key(pk, path)
    return pk
