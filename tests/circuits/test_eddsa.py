from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.eddsa import SignatureVar, assert_valid_signature
from circuits.gadgets.jubjub import PointVar
from circuits.r1cs import Builder, HintFn
from protocol import eddsa, jubjub
from protocol.field import R
from tests.circuits.harness import Run, Wires, asserting, run_gadget

TORSION = jubjub.Point(0, R - 1)


def verify(cs: Builder, ins: Wires) -> None:
    pk, msg = PointVar(ins[0], ins[1]), ins[2]
    assert_valid_signature(cs, pk, msg, SignatureVar(PointVar(ins[3], ins[4]), ins[5]))


def run_verify(
    pk: jubjub.Point,
    msg: int,
    sig: eddsa.Signature,
    overrides: Mapping[str, HintFn] | None = None,
) -> Run:
    return run_gadget(asserting(verify), [*pk, msg, *sig.R, sig.s], overrides)


def signed(seed: int, msg: int) -> tuple[jubjub.Point, eddsa.Signature]:
    sk = eddsa.SecretKey.from_seed(seed.to_bytes(32, "big"))
    return sk.public_key, eddsa.sign(sk, msg)


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 2**64), st.integers(0, R - 1))
def test_valid_signatures_are_accepted(seed: int, msg: int) -> None:
    pk, sig = signed(seed, msg)
    assert eddsa.verify(pk, msg, sig)
    run_verify(pk, msg, sig).check()


def test_a_signature_with_s_plus_order_is_rejected() -> None:
    pk, sig = signed(1, 42)
    forged = eddsa.Signature(sig.R, sig.s + jubjub.ORDER)
    assert not eddsa.verify(pk, 42, forged)
    assert run_verify(pk, 42, forged).rejection().startswith("eddsa/s_below_order/")


MUTATIONS = {
    "message": ("msg", "eddsa/s_g_is_r_plus_c_a_x"),
    "s": ("s", "eddsa/s_g_is_r_plus_c_a_x"),
    "R outside the subgroup": ("R", "eddsa/nonce_point/in_subgroup/is_8q_x"),
    "key outside the subgroup": ("pk", "eddsa/public_key/in_subgroup/is_8q_x"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_wrong_signatures_are_rejected_where_native_rejects_them(mutation: str) -> None:
    pk, sig = signed(2, 7)
    msg, what = 7, MUTATIONS[mutation][0]
    if what == "msg":
        msg += 1
    elif what == "s":
        sig = eddsa.Signature(sig.R, (sig.s + 1) % jubjub.ORDER)
    elif what == "R":
        sig = eddsa.Signature(jubjub.add(sig.R, TORSION), sig.s)
    else:
        pk = jubjub.add(pk, TORSION)
    assert not eddsa.verify(pk, msg, sig)
    assert run_verify(pk, msg, sig).rejection() == MUTATIONS[mutation][1]


def test_the_identity_key_is_rejected() -> None:
    # with A = identity, s = r satisfies s*G == R + c*A; only the small-order check stops it
    r = 123456789
    sig = eddsa.Signature(jubjub.base_mul(r), r)
    assert not eddsa.verify(jubjub.IDENTITY, 5, sig)
    rejected = run_verify(jubjub.IDENTITY, 5, sig).rejection()
    assert rejected == "eddsa/public_key/not_identity/x_invertible"


def test_the_challenge_alias_c_plus_r_is_rejected() -> None:
    msg = next(m for m in range(1000) if challenge_of(3, m) + R < 2**255)  # c + r fits 255 bits
    pk, sig = signed(3, msg)
    alias = {"eddsa/to_bits_canonical/bits": lambda c: [(c + R) >> i & 1 for i in range(255)]}
    rejected = run_verify(pk, msg, sig, alias).rejection()
    assert rejected.startswith("eddsa/to_bits_canonical/canonical/")


def challenge_of(seed: int, msg: int) -> int:
    pk, sig = signed(seed, msg)
    return eddsa.challenge(sig.R, pk, msg)
