"""Poseidon over BLS12-381 Fr: the Poseidon authors' reference instances, and the hashes on top.

Instances (hadeshash ``poseidonperm_x5_255_3`` and ``poseidonperm_x5_255_5``, and width 9 drawn
the same way): S-box x^5, R_F = 8 full rounds (4 before, 4 after the partial ones), R_P = 57
(width 3), 60 (width 5) or 63 (width 9) partial rounds whose S-box touches lane 0 only. Width 9
has no published vectors; its R_P is the reference table's for a 255-bit field at 128-bit
security (the table that gives 57 and 60 to widths 3 and 5; circomlib uses the same numbers),
above the 57 that today's round-number script asks for with its 7.5 % margin. Round constants
and the Cauchy MDS matrix come from the Grain LFSR exactly as the authors'
``generate_parameters_grain.sage 1 0 255 t 8 R_P`` draws them (``generate_params``); the
committed table ``protocol.poseidon_constants`` is that output, and a test regenerates it.

Two permutations with identical outputs: ``permute_plain`` is the textbook round function;
``permute`` (the one everything calls) uses the Poseidon paper's appendix B form: partial-round
constants folded to one scalar per round, and each partial round's MDS product replaced by a
sparse matrix (first row, first column and the identity), so a partial round costs 2t - 1
multiplications instead of t^2.

Where the permutation runs is chosen once, at import, in this order: the native core
(``native/zkperp_native.c`` through ``protocol.native``, the same optimized rounds in C, handed
this module's tables at import) where it is built; else the optimized rounds here on GMP integers
(``gmpy2.mpz``, about 2.5 times as fast on 255-bit products) where gmpy2 is installed; else on
Python ints. ``BACKEND`` says which. ``permute_int`` is the plain-int path, kept and compared with
``permute`` by the tests; ``ZKPERP_NATIVE=pure`` leaves the native core out.

Hashes (docs/PROTOCOL.md section 3): ``hash2``, ``hash4`` and ``hash8`` put the inputs in
lanes 1.. of a state whose lane 0 is 0 and return lane 0; ``sponge`` absorbs any number of
elements four at a time under a capacity tag that binds the domain and the input length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from protocol import poseidon_constants
from protocol.field import FieldError, R, inv, require_canonical
from protocol.native import NATIVE

ALPHA = 5
FULL_ROUNDS = 8
PARTIAL_ROUNDS = {3: 57, 5: 60, 9: 63}
FIELD_BITS = 255  # n in the Grain seed
SPONGE_RATE = 4
TAG_SHIFT = 64  # sponge capacity tag = domain * 2^64 + input length
MAX_DOMAIN = 1 << 64

Matrix = tuple[tuple[int, ...], ...]
Elem = Any  # a field element in the optimized rounds: an int, or a gmpy2.mpz (same operators)


def _find_mpz() -> Callable[[int], Elem] | None:
    try:
        from gmpy2 import mpz
    except ImportError:  # gmpy2 is optional: the rounds run on Python ints
        return None
    return mpz


_MPZ = _find_mpz()


@dataclass(frozen=True)
class PoseidonParams:
    """One instance: ``round_constants[i]`` is the vector added at the start of round ``i``."""

    width: int
    full_rounds: int  # R_F, both halves together
    partial_rounds: int  # R_P
    alpha: int
    round_constants: tuple[tuple[int, ...], ...]
    mds: Matrix  # new_state[i] = sum_j mds[i][j] * state[j]

    @property
    def rounds(self) -> int:
        return self.full_rounds + self.partial_rounds

    @property
    def half_full_rounds(self) -> int:
        return self.full_rounds // 2


# -- parameter generation: the Grain LFSR of the reference script ----------------------------


class _Grain:
    """The 80-bit Grain LFSR seeded with the instance description, in self-shrinking mode."""

    def __init__(self, width: int, partial_rounds: int) -> None:
        seed = (
            f"{1:02b}{0:04b}{FIELD_BITS:012b}{width:012b}"
            f"{FULL_ROUNDS:010b}{partial_rounds:010b}" + "1" * 30
        )
        self._state = sum(1 << i for i, bit in enumerate(seed) if bit == "1")  # bit i = seed[i]
        for _ in range(160):
            self._step()

    def _step(self) -> int:
        s = self._state
        new = (s >> 62 ^ s >> 51 ^ s >> 38 ^ s >> 23 ^ s >> 13 ^ s) & 1
        self._state = s >> 1 | new << 79
        return new

    def _bit(self) -> int:
        while True:
            keep, bit = self._step(), self._step()
            if keep:
                return bit

    def integer(self) -> int:
        """The next FIELD_BITS output bits, most significant first."""
        value = 0
        for _ in range(FIELD_BITS):
            value = value << 1 | self._bit()
        return value


def _draw_round_constants(grain: _Grain, count: int) -> list[int]:
    constants: list[int] = []
    while len(constants) < count:
        value = grain.integer()
        if value < R:  # rejection sampling, as the script does for GF(p)
            constants.append(value)
    return constants


def _draw_cauchy_mds(grain: _Grain, width: int) -> Matrix:
    """The first Cauchy matrix 1 / (x_i + y_j) the stream yields (the script's create_mds_p).

    The script would redraw a matrix failing its security tests; for both instances the first
    one passes (the known-answer vectors pin that), so no redraw is reproduced here.
    """
    while True:
        values = [grain.integer() % R for _ in range(2 * width)]
        if len(set(values)) < 2 * width:
            continue
        xs, ys = values[:width], values[width:]
        if all((x + y) % R for x in xs for y in ys):
            return tuple(tuple(inv((x + y) % R) for y in ys) for x in xs)


def generate_params(width: int) -> PoseidonParams:
    """Draws an instance's constants from Grain, as the reference script does (~0.2 s)."""
    partial = PARTIAL_ROUNDS[width]
    grain = _Grain(width, partial)
    flat = _draw_round_constants(grain, (FULL_ROUNDS + partial) * width)
    mds = _draw_cauchy_mds(grain, width)
    rounds = tuple(tuple(flat[i : i + width]) for i in range(0, len(flat), width))
    return PoseidonParams(width, FULL_ROUNDS, partial, ALPHA, rounds, mds)


def render_constants() -> str:
    """The source of ``protocol/poseidon_constants.py``, regenerated from Grain."""
    out = [
        '"""Poseidon round constants and MDS matrices: generated, do not edit.',
        "",
        "This file is ``protocol.poseidon.render_constants()``, drawn from the Grain LFSR; a test",
        'in tests/protocol/test_poseidon.py checks that regenerating it gives it byte for byte."""',
        "",
        "ROUND_CONSTANTS: dict[int, tuple[int, ...]] = {",
    ]
    params = [generate_params(w) for w in sorted(PARTIAL_ROUNDS)]
    for p in params:
        out += [f"    {p.width}: ("] + [
            f"        0x{c:064X}," for rc in p.round_constants for c in rc
        ]
        out += ["    ),"]
    out += ["}", "MDS: dict[int, tuple[tuple[int, ...], ...]] = {"]
    for p in params:
        out += [f"    {p.width}: ("]
        for row in p.mds:
            out += ["        ("] + [f"            0x{m:064X}," for m in row] + ["        ),"]
        out += ["    ),"]
    return "\n".join([*out, "}", ""])


@cache
def get_params(width: int) -> PoseidonParams:
    """The committed instance of this width (3, 5 or 9)."""
    if width not in PARTIAL_ROUNDS:
        raise ValueError(f"no Poseidon instance of width {width}; widths: 3, 5, 9")
    flat = poseidon_constants.ROUND_CONSTANTS[width]
    rounds = tuple(tuple(flat[i : i + width]) for i in range(0, len(flat), width))
    return PoseidonParams(
        width, FULL_ROUNDS, PARTIAL_ROUNDS[width], ALPHA, rounds, poseidon_constants.MDS[width]
    )


# -- the plain permutation -------------------------------------------------------------------


def _check_state(state: Sequence[int]) -> None:
    if len(state) not in PARTIAL_ROUNDS:
        raise ValueError(f"no Poseidon instance of width {len(state)}; widths: 3, 5, 9")
    for x in state:
        require_canonical(x)


def _mat_vec(matrix: Matrix, vector: Sequence[int]) -> list[int]:
    return [sum(m * x for m, x in zip(row, vector, strict=True)) % R for row in matrix]


def permute_plain(state: Sequence[int]) -> list[int]:
    """The textbook permutation: per round add constants, S-box (all lanes or lane 0), MDS."""
    _check_state(state)
    p = get_params(len(state))
    first_partial = p.half_full_rounds
    last_partial = first_partial + p.partial_rounds
    s = list(state)
    for rnd, constants in enumerate(p.round_constants):
        s = [(x + c) % R for x, c in zip(s, constants, strict=True)]
        if first_partial <= rnd < last_partial:
            s[0] = pow(s[0], ALPHA, R)
        else:
            s = [pow(x, ALPHA, R) for x in s]
        s = _mat_vec(p.mds, s)
    return s


# -- the optimized permutation (Poseidon paper, appendix B) ----------------------------------


@dataclass(frozen=True)
class _FastInstance:
    """``first``/``last``: (constants, matrix) per full round. ``partial``: per partial round
    ``(constant, a, w_1 .. w_{t-1}, v_1 .. v_{t-1})``: x0 += constant, x0 = x0^5, then the
    sparse matrix ``[[a, w], [v, I]]``. ``modulus`` is r. Every number is of the instance's
    number type (``Elem``)."""

    first: tuple[tuple[tuple[Elem, ...], tuple[tuple[Elem, ...], ...]], ...]
    partial: tuple[tuple[Elem, ...], ...]
    last: tuple[tuple[tuple[Elem, ...], tuple[tuple[Elem, ...], ...]], ...]
    modulus: Elem


def _mat_mul(a: Matrix, b: Matrix) -> Matrix:
    cols = list(zip(*b, strict=True))
    return tuple(
        tuple(sum(x * y for x, y in zip(row, col, strict=True)) % R for col in cols) for row in a
    )


def _mat_inv(m: Matrix) -> Matrix:
    """Gauss-Jordan inverse over Fr (small matrices only)."""
    n = len(m)
    rows = [[*row, *(int(i == j) for j in range(n))] for i, row in enumerate(m)]
    for col in range(n):
        pivot = next(i for i in range(col, n) if rows[i][col])
        rows[col], rows[pivot] = rows[pivot], rows[col]
        scale = inv(rows[col][col])
        rows[col] = [x * scale % R for x in rows[col]]
        for i in range(n):
            if i != col and rows[i][col]:
                f = rows[i][col]
                rows[i] = [(x - f * y) % R for x, y in zip(rows[i], rows[col], strict=True)]
    return tuple(tuple(row[n:]) for row in rows)


def _fold_partial_constants(p: PoseidonParams) -> tuple[list[int], tuple[int, ...]]:
    """Per partial round one scalar for lane 0; lanes 1.. are pushed forward through the MDS.

    Returns the scalars and the constants of the first full round after the partial rounds,
    which absorb what the last partial round pushed forward.
    """
    start = p.half_full_rounds
    carry = [0] * p.width
    scalars = []
    for constants in p.round_constants[start : start + p.partial_rounds]:
        total = [(c + k) % R for c, k in zip(constants, carry, strict=True)]
        scalars.append(total[0])
        carry = _mat_vec(p.mds, [0, *total[1:]])
    after = p.round_constants[start + p.partial_rounds]
    return scalars, tuple((c + k) % R for c, k in zip(after, carry, strict=True))


def _factor(m: Matrix) -> tuple[tuple[int, ...], Matrix]:
    """Splits ``m = S * diag(1, m_hat)`` with ``S = [[m00, w], [v, I]]``.

    Returns ``(m00, *w, *v)`` and ``m_hat``."""
    m_hat = tuple(row[1:] for row in m[1:])
    m_hat_inv = _mat_inv(m_hat)
    w = tuple(
        sum(x * y for x, y in zip(m[0][1:], col, strict=True)) % R
        for col in zip(*m_hat_inv, strict=True)
    )
    v = tuple(row[0] for row in m[1:])
    return (m[0][0], *w, *v), m_hat


FullRounds = list[tuple[tuple[int, ...], Matrix]]  # (constants, matrix) per full round


@cache
def _fast_rounds(width: int) -> tuple[FullRounds, list[tuple[int, ...]], FullRounds]:
    """The optimized instance's full rounds before, partial rounds, full rounds after."""
    p = get_params(width)
    scalars, after = _fold_partial_constants(p)
    sparse: list[tuple[int, ...]] = []
    carried = p.mds  # the matrix of the partial round being factored, latest first
    for constant in reversed(scalars):
        factor, m_hat = _factor(carried)
        sparse.append((constant, *factor))
        carried = _mat_mul(((1, *[0] * (width - 1)), *((0, *row) for row in m_hat)), p.mds)
    half = p.half_full_rounds
    first = [(c, p.mds) for c in p.round_constants[:half]]
    first[-1] = (first[-1][0], carried)  # the leftover diag(1, m_hat) joins the last full round
    last = [(after, p.mds)] + [(c, p.mds) for c in p.round_constants[half + p.partial_rounds + 1 :]]
    return first, list(reversed(sparse)), last


@cache
def _fast_instance(width: int, gmp: bool) -> _FastInstance:
    """The optimized instance with its numbers as mpz (``gmp``) or as Python ints."""
    to = _MPZ if gmp and _MPZ is not None else int
    first, partial, last = _fast_rounds(width)

    def full(rounds: FullRounds) -> tuple[Any, ...]:
        return tuple(
            (tuple(map(to, c)), tuple(tuple(map(to, row)) for row in m)) for c, m in rounds
        )

    return _FastInstance(full(first), tuple(tuple(map(to, t)) for t in partial), full(last), to(R))


def _sbox(x: Elem, r: Elem) -> Elem:
    x2 = x * x % r
    return x2 * x2 % r * x % r


def _full_round(s: list[Elem], constants: tuple[Elem, ...], matrix: Any, r: Elem) -> list[Elem]:
    t = [_sbox(x + c, r) for x, c in zip(s, constants, strict=True)]
    return [sum(m * x for m, x in zip(row, t, strict=True)) % r for row in matrix]


# The partial rounds, unrolled per width (the hot loop of every hash). Lanes 1.. are only
# accumulated into here, and reduced once at the end.


def _partial_rounds_3(s: list[Elem], rounds: tuple[tuple[Elem, ...], ...], r: Elem) -> list[Elem]:
    x0, x1, x2 = s
    for c, a, w1, w2, v1, v2 in rounds:
        y = _sbox(x0 + c, r)
        x0, x1, x2 = (a * y + w1 * x1 + w2 * x2) % r, v1 * y + x1, v2 * y + x2
    return [x0, x1 % r, x2 % r]


def _partial_rounds_5(s: list[Elem], rounds: tuple[tuple[Elem, ...], ...], r: Elem) -> list[Elem]:
    x0, x1, x2, x3, x4 = s
    for c, a, w1, w2, w3, w4, v1, v2, v3, v4 in rounds:
        y = _sbox(x0 + c, r)
        x0 = (a * y + w1 * x1 + w2 * x2 + w3 * x3 + w4 * x4) % r
        x1, x2, x3, x4 = v1 * y + x1, v2 * y + x2, v3 * y + x3, v4 * y + x4
    return [x0, x1 % r, x2 % r, x3 % r, x4 % r]


def _partial_rounds_wide(
    s: list[Elem], rounds: tuple[tuple[Elem, ...], ...], r: Elem
) -> list[Elem]:
    t = len(s)
    x0, rest = s[0], s[1:]
    for k in rounds:
        y = _sbox(x0 + k[0], r)
        x0 = (k[1] * y + sum(w * x for w, x in zip(k[2 : t + 1], rest, strict=True))) % r
        rest = [v * y + x for v, x in zip(k[t + 1 :], rest, strict=True)]
    return [x0, *(x % r for x in rest)]


_PARTIAL_ROUNDS_BY_WIDTH = {3: _partial_rounds_3, 5: _partial_rounds_5, 9: _partial_rounds_wide}


def _permute_fast(state: Sequence[int], gmp: bool) -> list[int]:
    _check_state(state)
    fast = _fast_instance(len(state), gmp)
    r = fast.modulus
    s: list[Elem] = [type(r)(x) for x in state]
    for constants, matrix in fast.first:
        s = _full_round(s, constants, matrix, r)
    s = _PARTIAL_ROUNDS_BY_WIDTH[len(s)](s, fast.partial, r)
    for constants, matrix in fast.last:
        s = _full_round(s, constants, matrix, r)
    return [int(x) for x in s]


def permute_int(state: Sequence[int]) -> list[int]:
    """The optimized permutation on Python ints (the path taken without gmpy2)."""
    return _permute_fast(state, False)


def permute_python(state: Sequence[int]) -> list[int]:
    """The optimized permutation in Python: on GMP integers where gmpy2 is installed."""
    return _permute_fast(state, GMP)


def permute(state: Sequence[int]) -> list[int]:
    """The Poseidon permutation of a width-3, 5 or 9 state (the optimized path: native where
    built, else on GMP integers where gmpy2 is installed)."""
    if _NATIVE is not None:
        return list(_NATIVE.permute(state))
    return permute_python(state)


GMP = _MPZ is not None  # whether the Python rounds run on gmpy2


def _init_native() -> Any:
    """The native core, handed this module's optimized instances; None without it."""
    if NATIVE is None:
        return None
    NATIVE.set_field_error(FieldError)
    for width in sorted(PARTIAL_ROUNDS):
        NATIVE.poseidon_init(R, width, *_fast_rounds(width))
    return NATIVE


_NATIVE = _init_native()
BACKEND = "native" if _NATIVE is not None else "gmpy2" if GMP else "int"


# -- hashes ----------------------------------------------------------------------------------


def hash2(a: int, b: int) -> int:
    """2-to-1 hash (Merkle nodes): lane 0 of ``permute([0, a, b])``."""
    if _NATIVE is not None:
        return int(_NATIVE.hash2(a, b))
    return permute([0, a, b])[0]


def hash4(a: int, b: int, c: int, d: int) -> int:
    """4-to-1 hash: lane 0 of ``permute([0, a, b, c, d])``."""
    if _NATIVE is not None:
        return int(_NATIVE.hash4(a, b, c, d))
    return permute([0, a, b, c, d])[0]


def hash8(a: int, b: int, c: int, d: int, e: int, f: int, g: int, h: int) -> int:
    """8-to-1 hash (the order-book tree's 4-ary nodes): lane 0 of ``permute([0, a, .., h])``."""
    if _NATIVE is not None:
        return int(_NATIVE.hash8(a, b, c, d, e, f, g, h))
    return permute([0, a, b, c, d, e, f, g, h])[0]


def sponge_tag(domain: int, length: int) -> int:
    """The sponge's initial capacity lane: ``domain * 2^64 + length``, never 0."""
    if not 1 <= domain < MAX_DOMAIN:
        raise ValueError(f"sponge domain must be in [1, 2^64), got {domain}")
    if not 0 <= length < 1 << TAG_SHIFT:
        raise ValueError(f"sponge input too long: {length}")
    return domain << TAG_SHIFT | length


def _blocks(inputs: Sequence[int]) -> Iterator[list[int]]:
    """The inputs zero-padded to a positive multiple of the rate, one rate-sized block at a time."""
    padded = [require_canonical(x) for x in inputs]
    count = max(1, -(-len(padded) // SPONGE_RATE))
    padded += [0] * (count * SPONGE_RATE - len(padded))
    for i in range(0, len(padded), SPONGE_RATE):
        yield padded[i : i + SPONGE_RATE]


def sponge(inputs: Sequence[int], domain: int) -> int:
    """Variable-length hash (width 5, rate 4, capacity 1): see docs/PROTOCOL.md section 3.

    State starts as ``[tag, 0, 0, 0, 0]`` with ``tag = sponge_tag(domain, len(inputs))``; each
    block of 4 (the last zero-padded; an empty input is one zero block) is added to lanes 1..4
    and the state permuted; the digest is lane 1.
    """
    if _NATIVE is not None:
        return int(_NATIVE.sponge(inputs, sponge_tag(domain, len(inputs))))
    state = [sponge_tag(domain, len(inputs)), *[0] * SPONGE_RATE]
    for block in _blocks(inputs):
        state = permute([state[0], *((s + x) % R for s, x in zip(state[1:], block, strict=True))])
    return state[1]
