from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import field
from protocol.field import FieldError, R

elements = st.integers(min_value=0, max_value=R - 1)


def test_modulus_is_the_bls12_381_scalar_field() -> None:
    assert R == 52435875175126190479447740508185965837690552500527637822603658699938581184513
    assert (R - 1) % (1 << field.TWO_ADICITY) == 0
    assert field.ODD_PART % 2 == 1
    assert not field.is_square(field._NON_SQUARE)


@settings(max_examples=50)
@given(elements)
def test_bytes_round_trip(x: int) -> None:
    encoded = field.to_bytes(x)
    assert len(encoded) == 32
    assert field.from_bytes(encoded) == x


def test_encoding_is_big_endian() -> None:
    assert field.to_bytes(1) == bytes(31) + b"\x01"
    assert field.to_bytes(R - 1).hex() == f"{R - 1:064x}"


@pytest.mark.parametrize("value", [R, R + 1, 2**256 - 1])
def test_from_bytes_rejects_values_at_or_above_r(value: int) -> None:
    with pytest.raises(FieldError, match="non-canonical"):
        field.from_bytes(value.to_bytes(32, "big"))


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_from_bytes_rejects_other_lengths(length: int) -> None:
    with pytest.raises(FieldError, match="32 bytes"):
        field.from_bytes(bytes(length))


@pytest.mark.parametrize("value", [-1, R, R + 5, True, 1.0, "1"])
def test_non_canonical_values_are_rejected(value: object) -> None:
    assert not field.is_canonical(value)
    error = re.escape(f"not a canonical field element: {value!r}") + "$"
    with pytest.raises(FieldError, match=error):
        field.require_canonical(value)
    with pytest.raises(FieldError, match=error):
        field.to_bytes(value)


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=R - 1))
def test_inverse(x: int) -> None:
    assert x * field.inv(x) % R == 1


def test_zero_has_no_inverse() -> None:
    with pytest.raises(FieldError, match="0 has no inverse"):
        field.inv(0)


@settings(max_examples=50)
@given(elements)
def test_sqrt_of_a_square(x: int) -> None:
    root = field.sqrt(x * x % R)
    assert root is not None
    assert root * root % R == x * x % R


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=R - 1))
def test_non_squares_have_no_root(x: int) -> None:
    non_square = x * x * field._NON_SQUARE % R
    assert not field.is_square(non_square)
    assert field.sqrt(non_square) is None


@settings(max_examples=50)
@given(st.integers(min_value=-field.HALF, max_value=field.HALF))
def test_signed_round_trip(v: int) -> None:
    x = field.from_signed(v)
    assert field.is_canonical(x)
    assert x == v % R
    assert field.to_signed(x) == v


def test_signed_range_is_symmetric_and_checked() -> None:
    assert field.to_signed(R - 1) == -1
    assert field.to_signed(field.HALF) == field.HALF
    assert field.to_signed(field.HALF + 1) == -field.HALF
    for v in (field.HALF + 1, -field.HALF - 1):
        with pytest.raises(FieldError, match=f"signed value out of range: {v}$"):
            field.from_signed(v)
