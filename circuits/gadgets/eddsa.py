"""EdDSA verification in constraints: the twin of ``protocol.eddsa.verify``.

For a public key ``A``, a message ``m`` and a signature ``(R, s)`` it proves exactly what the
native verifier checks:

- ``s < ORDER`` (``s`` decomposed into 253 bits, then bounded by ``ORDER - 1``);
- ``A`` and ``R`` in the prime-order subgroup (hence on the curve), ``A`` not the identity
  (within the subgroup, the only point of small order);
- ``s*G == R + c*A`` with ``c = sponge([R.x, R.y, A.x, A.y, m], DOMAIN_EDDSA)`` taken as an
  integer through its canonical bits (the alias ``c + r`` would be another scalar).
"""

from __future__ import annotations

from typing import NamedTuple

from circuits.gadgets.bits import assert_bits_at_most, to_bits, to_bits_canonical
from circuits.gadgets.jubjub import (
    PointVar,
    add,
    assert_equal_points,
    assert_in_subgroup,
    assert_not_identity_in_subgroup,
    base_mul,
    scalar_mul,
)
from circuits.gadgets.poseidon import sponge
from circuits.r1cs import Builder, LinearCombination
from protocol import eddsa as native
from protocol.jubjub import ORDER

S_BITS = ORDER.bit_length() + 1  # room for s + ORDER, so that a too-large s meets the bound


class SignatureVar(NamedTuple):
    R: PointVar
    s: LinearCombination


def assert_valid_signature(
    cs: Builder, pk: PointVar, msg: LinearCombination, sig: SignatureVar
) -> None:
    """Constrain ``protocol.eddsa.verify(pk, msg, sig)`` to hold."""
    with cs.scope("eddsa"):
        s_bits = to_bits(cs, sig.s, S_BITS)
        assert_bits_at_most(cs, s_bits, ORDER - 1, "s_below_order")
        with cs.scope("public_key"):
            assert_in_subgroup(cs, pk)
            assert_not_identity_in_subgroup(cs, pk)
        with cs.scope("nonce_point"):
            assert_in_subgroup(cs, sig.R)
        c = sponge(cs, [sig.R.x, sig.R.y, pk.x, pk.y, msg], native.DOMAIN_EDDSA)
        c_bits = to_bits_canonical(cs, c)
        lhs = base_mul(cs, s_bits[: S_BITS - 1])  # the top bit is 0 below ORDER
        rhs = add(cs, sig.R, scalar_mul(cs, c_bits, pk))
        assert_equal_points(cs, lhs, rhs, "s_g_is_r_plus_c_a")
