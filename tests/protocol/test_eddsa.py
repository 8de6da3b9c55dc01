from __future__ import annotations

import contextlib
import itertools
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import eddsa
from protocol.eddsa import SecretKey, Signature, challenge, sign, verify
from protocol.field import R
from protocol.jubjub import (
    GENERATOR,
    IDENTITY,
    ORDER,
    Point,
    PointError,
    add,
    base_mul,
    compress,
    decompress,
    scalar_mul,
)
from protocol.poseidon import sponge

seeds = st.binary(min_size=32, max_size=32)
messages = st.integers(min_value=0, max_value=R - 1)

KEY = SecretKey.from_seed(bytes(range(32)))
PK = KEY.public_key
MSG = 0x1234
SIG = sign(KEY, MSG)


def small_order_points() -> list[Point]:
    """The eight points of order dividing 8, found as ORDER * P for curve points P."""
    found, y = {IDENTITY}, 2
    while len(found) < 8:
        with contextlib.suppress(PointError):
            found.add(scalar_mul(ORDER, decompress(y.to_bytes(32, "big"))))
        y += 1
    return sorted(found)


@settings(max_examples=5, deadline=None)
@given(seeds, messages)
def test_sign_then_verify(seed: bytes, msg: int) -> None:
    sk = SecretKey.from_seed(seed)
    sig = sign(sk, msg)
    assert verify(sk.public_key, msg, sig)
    assert verify(compress(sk.public_key), msg, sig.to_bytes())


def test_the_documented_equation() -> None:
    c = sponge([SIG.R.x, SIG.R.y, PK.x, PK.y, MSG], eddsa.DOMAIN_EDDSA)
    assert challenge(SIG.R, PK, MSG) == c
    assert eddsa.DOMAIN_EDDSA == 0x6564647361  # ASCII "eddsa"
    assert base_mul(SIG.s) == add(SIG.R, scalar_mul(c, PK))
    assert base_mul(eddsa.nonce(KEY, MSG)) == SIG.R
    assert base_mul(KEY.scalar) == PK


def test_signatures_are_deterministic() -> None:
    assert sign(KEY, MSG) == SIG
    assert sign(SecretKey.from_seed(bytes(range(32))), MSG) == SIG
    assert sign(KEY, MSG + 1).R != SIG.R
    assert SecretKey.from_seed(bytes(32)).scalar != KEY.scalar


def test_the_secret_key_is_not_printed() -> None:
    assert str(KEY.scalar) not in repr(KEY)


def test_wrong_message_key_or_s_fails() -> None:
    assert not verify(PK, MSG + 1, SIG)
    assert not verify(SecretKey.from_seed(bytes(32)).public_key, MSG, SIG)
    assert not verify(PK, MSG, replace(SIG, s=(SIG.s + 1) % ORDER))
    assert not verify(PK, MSG, replace(SIG, R=add(SIG.R, GENERATOR)))


def test_s_at_or_above_the_order_is_rejected() -> None:
    # s + ORDER satisfies the equation (s*G only depends on s mod ORDER); it must still fail
    forged = replace(SIG, s=SIG.s + ORDER)
    assert base_mul(forged.s) == base_mul(SIG.s)
    assert not verify(PK, MSG, forged)
    assert not verify(PK, MSG, compress(SIG.R) + forged.s.to_bytes(32, "big"))
    assert not verify(PK, MSG, replace(SIG, s=-1))


def test_message_must_be_a_field_element() -> None:
    assert not verify(PK, MSG + R, SIG)
    with pytest.raises(ValueError, match=f"not a canonical field element: {R}$"):
        sign(KEY, R)


def test_points_off_the_curve_are_rejected() -> None:
    assert not verify(Point(PK.x, PK.y + 1), MSG, SIG)
    assert not verify(PK, MSG, replace(SIG, R=Point(SIG.R.x, SIG.R.y + 1)))
    assert not verify(Point(PK.x + R, PK.y), MSG, SIG)


def test_points_outside_the_subgroup_are_rejected() -> None:
    for t in small_order_points()[1:]:
        assert not verify(add(PK, t), MSG, SIG)
        assert not verify(PK, MSG, replace(SIG, R=add(SIG.R, t)))


def forge_for_small_order_key(t: Point) -> Signature:
    """With A of small order, c*A has at most 8 values: try R = s*G until c*A is the identity."""
    for s in itertools.count(1):
        big_r = base_mul(s)
        if scalar_mul(challenge(big_r, t, MSG), t) == IDENTITY:
            return Signature(big_r, s)
    raise AssertionError("unreachable")


def test_small_order_keys_are_rejected() -> None:
    for t in small_order_points():
        forged = forge_for_small_order_key(t)
        assert base_mul(forged.s) == add(forged.R, scalar_mul(challenge(forged.R, t, MSG), t))
        assert not verify(t, MSG, forged)
        assert not verify(compress(t), MSG, forged.to_bytes())


def test_non_canonical_encodings_are_rejected() -> None:
    pk_bytes, sig_bytes = compress(PK), SIG.to_bytes()
    scalar = next(k for k in range(1, 100) if base_mul(k).y + R < 1 << 255)
    small_y = SecretKey(scalar, bytes(32))  # a key whose y still fits 255 bits after adding r
    y, sign_bit = small_y.public_key.y, small_y.public_key.x & 1
    sig = sign(small_y, MSG)
    assert verify((y | sign_bit << 255).to_bytes(32, "big"), MSG, sig)
    assert not verify((y + R | sign_bit << 255).to_bytes(32, "big"), MSG, sig)
    assert not verify((1 << 255 | 1).to_bytes(32, "big"), MSG, SIG)  # identity with sign bit
    assert not verify(pk_bytes[:31], MSG, SIG)
    assert not verify(pk_bytes, MSG, sig_bytes[:63])
    flipped = bytes([sig_bytes[0] ^ 0x80]) + sig_bytes[1:]  # the other x: a different R
    assert not verify(pk_bytes, MSG, flipped)
    assert Signature.from_bytes(sig_bytes) == SIG
    assert verify(pk_bytes, MSG, sig_bytes)


def test_seed_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SecretKey.from_seed(bytes(31))


def test_vector_of_protocol_section_5() -> None:
    key = SecretKey.from_seed(bytes(range(32)))
    assert compress(key.public_key).hex() == (
        "1bdeed7f409d75d0bc687e0f275ada2509a759d434be5fc31bd5a9c4efab0678"
    )
    assert sign(key, 0x1234).to_bytes().hex() == (
        "6ea6c27284a761e9ebb444268b9a0dec00807431a44a2351936929ff47aa7871"
        "02c9a03dedf4e7c6805e5607a43c938691d74e50271ee1cb8763c0ce3937b9a5"
    )
