"""The BLS12-381 scalar field Fr: the circuits' native field and the field of every hash.

Elements are plain Python ints in canonical form ``0 <= x < R``. Anything that crosses a
boundary (bytes from the wire, a public input, a leaf) is checked here and rejected with
``FieldError`` when it is not canonical; nothing is silently reduced, so ``x`` and ``x + R``
never alias. Signed quantities ``v`` are carried as ``v mod R`` (``from_signed``/``to_signed``).
"""

from __future__ import annotations

from typing import TypeGuard

R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
BYTES = 32  # canonical encoding: 32 bytes, big-endian
HALF = (R - 1) // 2  # the largest magnitude a signed value may have

# r - 1 = 2^TWO_ADICITY * ODD_PART; 7 generates the multiplicative group (a non-square).
TWO_ADICITY = 32
ODD_PART = (R - 1) >> TWO_ADICITY
_NON_SQUARE = 7


class FieldError(ValueError):
    """A value that is not a canonical field element, or an operation undefined on it."""


def is_canonical(x: object) -> TypeGuard[int]:
    """True for an int in ``[0, R)`` (bools are not field elements)."""
    return type(x) is int and 0 <= x < R


def require_canonical(x: object) -> int:
    """``x`` itself when canonical; raises FieldError otherwise (for any value)."""
    if not is_canonical(x):
        raise FieldError(f"not a canonical field element: {x!r}")
    return x


def to_bytes(x: object) -> bytes:
    """The 32-byte big-endian encoding of a canonical element."""
    return require_canonical(x).to_bytes(BYTES, "big")


def from_bytes(b: bytes) -> int:
    """Decodes 32 big-endian bytes; rejects any other length and any value >= R."""
    if len(b) != BYTES:
        raise FieldError(f"a field element is {BYTES} bytes, got {len(b)}")
    x = int.from_bytes(b, "big")
    if x >= R:
        raise FieldError("non-canonical field element encoding (value >= r)")
    return x


def from_signed(v: int) -> int:
    """The field element ``v mod R`` of a signed value with ``|v| <= (R - 1) / 2``."""
    if not -HALF <= v <= HALF:
        raise FieldError(f"signed value out of range: {v}")
    return v % R


def to_signed(x: int) -> int:
    """Inverse of ``from_signed``: elements above ``(R - 1) / 2`` are negative."""
    require_canonical(x)
    return x - R if x > HALF else x


def inv(x: int) -> int:
    """The multiplicative inverse; raises FieldError for 0."""
    if require_canonical(x) == 0:
        raise FieldError("0 has no inverse")
    return pow(x, -1, R)  # extended Euclid: about 6 times as fast as x^(r-2)


def is_square(x: int) -> bool:
    """Euler's criterion (0 counts as a square)."""
    return require_canonical(x) == 0 or pow(x, (R - 1) // 2, R) == 1


def sqrt(x: int) -> int | None:
    """A square root of ``x`` (Tonelli-Shanks), or None when ``x`` is not a square.

    Which of the two roots comes back is unspecified; callers pick a sign themselves.
    """
    if not is_square(x):
        return None
    if x == 0:
        return 0
    m, c = TWO_ADICITY, pow(_NON_SQUARE, ODD_PART, R)
    t, root = pow(x, ODD_PART, R), pow(x, (ODD_PART + 1) // 2, R)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2, i = t2 * t2 % R, i + 1
        b = pow(c, 1 << (m - i - 1), R)
        m, c = i, b * b % R
        t, root = t * c % R, root * b % R
    return root
