"""Differential tests: arkworks and py_ecc agree on every operation and on every byte, and both
refuse the same invalid points."""

from __future__ import annotations

import random

import pytest
from py_ecc.bls.hash_to_curve import map_to_curve_G2
from py_ecc.fields import optimized_bls12_381_FQ2 as FQ2

from protocol.field import R
from prover.arkworks import MIN_CHUNK
from prover.backend import (
    Backend,
    InvalidPointError,
    P,
    UnknownBackendError,
    get_backend,
)
from prover.setup import keys_from_secrets
from tests.prover.circuits import toy

ARK = get_backend("arkworks")
REF = get_backend("py_ecc")
SCALARS = [0, 1, 2, R - 1, *(random.Random(1).randrange(R) for _ in range(4))]


def test_fixed_base_and_serialization_agree() -> None:
    g1a, g1r = ARK.g1_fixed_base(SCALARS), REF.g1_fixed_base(SCALARS)
    assert [ARK.g1_to_bytes(p) for p in g1a] == [REF.g1_to_bytes(p) for p in g1r]
    g2a, g2r = ARK.g2_fixed_base(SCALARS[:5]), REF.g2_fixed_base(SCALARS[:5])
    assert [ARK.g2_to_bytes(p) for p in g2a] == [REF.g2_to_bytes(p) for p in g2r]
    assert ARK.g1_to_bytes(g1a[0]) == bytes(96) and ARK.g2_to_bytes(g2a[0]) == bytes(192)


@pytest.mark.parametrize("backend", [ARK, REF], ids=lambda b: b.name)
def test_bytes_round_trip(backend: Backend) -> None:
    for k in SCALARS[:4]:
        g1 = backend.g1_to_bytes(backend.g1_fixed_base([k])[0])
        g2 = backend.g2_to_bytes(backend.g2_fixed_base([k])[0])
        assert backend.g1_to_bytes(backend.g1_from_bytes(g1)) == g1
        assert backend.g2_to_bytes(backend.g2_from_bytes(g2)) == g2


def test_msm_agrees() -> None:
    rng = random.Random(2)
    ks, ss = [rng.randrange(R) for _ in range(6)], [rng.randrange(R) for _ in range(6)]
    ss[2] = 0
    g1 = [ARK.g1_to_bytes(p) for p in ARK.g1_fixed_base(ks)]
    g2 = [ARK.g2_to_bytes(p) for p in ARK.g2_fixed_base(ks[:3])]
    for be in (ARK, REF):
        assert be.g1_to_bytes(be.g1_msm([be.g1_from_bytes(p) for p in g1], ss)) == ARK.g1_to_bytes(
            ARK.g1_fixed_base([sum(k * s for k, s in zip(ks, ss, strict=True)) % R])[0]
        )
    msm2 = [
        be.g2_to_bytes(be.g2_msm([be.g2_from_bytes(p) for p in g2], ss[:3])) for be in (ARK, REF)
    ]
    assert msm2[0] == msm2[1]


def test_threaded_msm_equals_the_scalar_product() -> None:
    """Large enough to be split across threads: sum s_i (k_i G) == (sum s_i k_i) G."""
    rng = random.Random(3)
    n = 2 * MIN_CHUNK + 5
    ks, ss = [rng.randrange(R) for _ in range(n)], [rng.randrange(R) for _ in range(n)]
    expected = (sum(k * s for k, s in zip(ks, ss, strict=True))) % R
    got = ARK.g1_msm(ARK.g1_fixed_base(ks), ss)
    assert ARK.g1_to_bytes(got) == ARK.g1_to_bytes(ARK.g1_fixed_base([expected])[0])


def test_group_operations_agree() -> None:
    for be in (ARK, REF):
        g = be.g1_generator()
        three = be.g1_add(be.g1_mul(g, 2), g)
        assert be.g1_to_bytes(three) == ARK.g1_to_bytes(ARK.g1_fixed_base([3])[0])
        assert be.g1_to_bytes(be.g1_add(three, be.g1_neg(three))) == bytes(96)
        h = be.g2_generator()
        assert be.g2_to_bytes(be.g2_add(be.g2_mul(h, 4), h)) == ARK.g2_to_bytes(
            ARK.g2_fixed_base([5])[0]
        )


@pytest.mark.parametrize("backend", [ARK, REF], ids=lambda b: b.name)
def test_pairing_check_is_bilinear(backend: Backend) -> None:
    a, b = 0x1234567, 0x89ABCDEF
    g1, g2 = backend.g1_generator(), backend.g2_generator()
    ab_g1 = backend.g1_mul(g1, a * b % R)
    pairs = [(backend.g1_mul(g1, a), backend.g2_mul(g2, b)), (backend.g1_neg(ab_g1), g2)]
    assert backend.pairing_check(pairs)
    assert not backend.pairing_check([(backend.g1_mul(g1, a), backend.g2_mul(g2, b)), (ab_g1, g2)])


def test_hash_to_g2_agrees() -> None:
    msg, dst = b"zkperp", b"ZKPERP-TEST_BLS12381G2_XMD:SHA-256_SSWU_RO_"
    assert ARK.g2_to_bytes(ARK.hash_to_g2(msg, dst)) == REF.g2_to_bytes(REF.hash_to_g2(msg, dst))


def g1_off_subgroup() -> bytes:
    """A point on the G1 curve outside the prime-order subgroup."""
    x = 1
    while True:
        x += 1
        rhs = (x**3 + 4) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            return x.to_bytes(48, "big") + y.to_bytes(48, "big")


def _invalid_g1() -> dict[str, bytes]:
    g = ARK.g1_to_bytes(ARK.g1_generator())
    return {
        "short": g[:-1],
        "off_curve": g[:-1] + bytes([g[-1] ^ 1]),
        "x_not_below_p": (int.from_bytes(g[:48], "big") + P).to_bytes(48, "big") + g[48:],
        "off_subgroup": g1_off_subgroup(),
    }


def _invalid_g2() -> dict[str, bytes]:
    g = ARK.g2_to_bytes(ARK.g2_generator())
    off_subgroup = REF.g2_to_bytes(map_to_curve_G2(FQ2([1, 2])))
    return {
        "short": g[:100],
        "off_curve": g[:-1] + bytes([g[-1] ^ 1]),
        "y_not_below_p": g[:144] + (int.from_bytes(g[144:], "big") + P).to_bytes(48, "big"),
        "off_subgroup": off_subgroup,
    }


@pytest.mark.parametrize("backend", [ARK, REF], ids=lambda b: b.name)
@pytest.mark.parametrize("case", ["short", "off_curve", "x_not_below_p", "off_subgroup"])
def test_invalid_g1_points_are_refused(backend: Backend, case: str) -> None:
    with pytest.raises(InvalidPointError):
        backend.g1_from_bytes(_invalid_g1()[case])


@pytest.mark.parametrize("backend", [ARK, REF], ids=lambda b: b.name)
@pytest.mark.parametrize("case", ["short", "off_curve", "y_not_below_p", "off_subgroup"])
def test_invalid_g2_points_are_refused(backend: Backend, case: str) -> None:
    with pytest.raises(InvalidPointError):
        backend.g2_from_bytes(_invalid_g2()[case])


def test_unknown_backend() -> None:
    with pytest.raises(UnknownBackendError, match="arkworks"):
        get_backend("gnark")


@pytest.mark.prove
def test_setup_from_the_same_secrets_agrees_byte_for_byte() -> None:
    cs, _ = toy(num_public=1)
    secrets = (11, 22, 33, 44, 55)
    ark, ref = (keys_from_secrets(cs, be, *secrets) for be in (ARK, REF))
    assert ark == ref
    assert ark.vk.alpha_g1 == ARK.g1_to_bytes(ARK.g1_fixed_base([22])[0])
