"""The native core (``native/zkperp_native.c``, ``protocol/native.py``) computes exactly what the
Python reference computes: Poseidon on random states and the known-answer vectors, the hashes
and the sponge, the x of a point encoding, and EdDSA verification on valid and invalid
signatures of every kind the reference refuses. Skipped where the core is not built, except in
CI, where ``make setup`` must have built it."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import eddsa, native, poseidon
from protocol.eddsa import (
    SecretKey,
    Signature,
    challenge,
    sign,
    verify,
    verify_many,
    verify_reference,
)
from protocol.field import FieldError, R
from protocol.jubjub import (
    ORDER,
    Point,
    add,
    base_mul,
    compress,
    recover_x,
    recover_x_reference,
)
from scripts.build_steps import is_ci
from scripts.paths import ROOT
from tests.protocol.test_eddsa import MSG as EDDSA_MSG
from tests.protocol.test_eddsa import forge_for_small_order_key, small_order_points
from tests.protocol.test_poseidon import KNOWN_ANSWERS

elements = st.integers(min_value=0, max_value=R - 1)


def require_native() -> Any:
    """The native module; skips without a build (fails in CI, where it must exist)."""
    if native.NATIVE is not None:
        return native.NATIVE
    reason = f"no native core built for {native.SOURCE.name} (`make setup` builds it)"
    if os.environ.get("ZKPERP_NATIVE") == "pure":
        pytest.skip("ZKPERP_NATIVE=pure: the native core is left out")
    if is_ci():
        pytest.fail(f"CI is set and there is {reason}")
    pytest.skip(reason)


@pytest.fixture
def core() -> Any:
    return require_native()


def sponge_reference(inputs: list[int], domain: int) -> int:
    """docs/PROTOCOL.md section 3 on the plain-int permutation."""
    state = [poseidon.sponge_tag(domain, len(inputs)), 0, 0, 0, 0]
    blocks = max(1, -(-len(inputs) // 4))
    padded = inputs + [0] * (4 * blocks - len(inputs))
    for i in range(0, len(padded), 4):
        block = [(s + x) % R for s, x in zip(state[1:], padded[i : i + 4], strict=True)]
        state = poseidon.permute_int([state[0], *block])
    return state[1]


# -- Poseidon ------------------------------------------------------------------------------------


def test_the_protocol_runs_on_the_native_core(core: Any) -> None:
    assert poseidon.BACKEND == "native"


@pytest.mark.parametrize("width", [3, 5])
def test_known_answer_vectors(core: Any, width: int) -> None:
    assert core.permute(list(range(width))) == KNOWN_ANSWERS[width]


@settings(max_examples=60, deadline=None)
@given(st.one_of(*(st.lists(elements, min_size=w, max_size=w) for w in (3, 5, 9))))
def test_permutation_equals_the_reference(state: list[int]) -> None:
    core = require_native()
    assert core.permute(state) == poseidon.permute_int(state) == poseidon.permute_plain(state)


def test_edge_states() -> None:
    core = require_native()
    edges = [0, 1, 2, R - 1, R - 2, (1 << 254) - 1, 1 << 128, (1 << 64) - 1]
    for width in (3, 5, 9):
        for start in range(len(edges)):
            state = [edges[(start + i) % len(edges)] for i in range(width)]
            assert core.permute(state) == poseidon.permute_int(state)


@settings(max_examples=40, deadline=None)
@given(st.lists(elements, min_size=8, max_size=8))
def test_fixed_arity_hashes(xs: list[int]) -> None:
    core = require_native()
    a, b, c, d = xs[:4]
    assert core.hash2(a, b) == poseidon.permute_int([0, a, b])[0]
    assert core.hash4(a, b, c, d) == poseidon.permute_int([0, a, b, c, d])[0]
    assert core.hash8(*xs) == poseidon.permute_int([0, *xs])[0]


@settings(max_examples=40, deadline=None)
@given(st.lists(elements, max_size=13), st.integers(min_value=1, max_value=(1 << 64) - 1))
def test_sponge(inputs: list[int], domain: int) -> None:
    require_native()
    assert poseidon.sponge(inputs, domain) == sponge_reference(inputs, domain)


@pytest.mark.parametrize("bad", [R, -1, 1 << 256, True, 1.0, "1"])
def test_non_canonical_inputs_raise_the_reference_error(core: Any, bad: Any) -> None:
    message = f"not a canonical field element: {bad!r}"
    calls = [
        lambda: core.permute([0, bad, 0]),
        lambda: core.hash2(bad, 0),
        lambda: core.hash4(0, 0, 0, bad),
        lambda: core.hash8(0, 0, 0, 0, 0, 0, 0, bad),
        lambda: core.sponge([1, bad], 1),
    ]
    for call in calls:
        with pytest.raises(FieldError, match=f"^{re.escape(message)}$"):
            call()


def test_shapes_are_checked(core: Any) -> None:
    for width in (4, 7):
        with pytest.raises(ValueError, match=f"width {width}"):
            core.permute([0] * width)
    with pytest.raises(TypeError, match="expected 2 arguments"):
        core.hash2(1)
    with pytest.raises(TypeError, match="expected 8 arguments"):
        core.hash8(1, 2, 3, 4, 5)


def test_init_refuses_another_modulus(core: Any) -> None:
    first, partial, last = poseidon._fast_rounds(3)
    with pytest.raises(ValueError, match="modulus"):
        core.poseidon_init(R + 2, 3, first, partial, last)
    assert core.permute([0, 1, 2]) == KNOWN_ANSWERS[3]  # the instance in use is untouched


# -- Jubjub and EdDSA ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(elements)
def test_x_recovered_from_y(y: int) -> None:
    require_native()
    x, expected = recover_x(y), recover_x_reference(y)
    assert (x is None) == (expected is None)
    assert x is None or x in (expected, -x % R)
    assert x is None or x * x % R == expected * expected % R  # type: ignore[operator]


KEY = SecretKey.from_seed(bytes(range(32)))
OTHER = SecretKey.from_seed(bytes(range(1, 33)))
MSG = 0xC0FFEE
SIG = sign(KEY, MSG)


def cases() -> Iterator[tuple[str, Point | bytes, int, Signature | bytes]]:
    pk = KEY.public_key
    yield "valid", pk, MSG, SIG
    yield "valid, as bytes", compress(pk), MSG, SIG.to_bytes()
    yield "wrong message", pk, MSG + 1, SIG
    yield "wrong key", OTHER.public_key, MSG, SIG
    yield "s + ORDER (non-canonical s)", pk, MSG, replace(SIG, s=SIG.s + ORDER)
    yield "s = ORDER", pk, MSG, replace(SIG, s=ORDER)
    yield "s negative", pk, MSG, replace(SIG, s=SIG.s - ORDER)
    yield "s one off", pk, MSG, replace(SIG, s=(SIG.s + 1) % ORDER)
    yield "R off the curve", pk, MSG, replace(SIG, R=Point(SIG.R.x, SIG.R.y + 1))
    yield "key off the curve", Point(pk.x, (pk.y + 1) % R), MSG, SIG
    yield "key not canonical", Point(pk.x + R, pk.y), MSG, SIG
    yield "message not canonical", pk, MSG + R, SIG
    for i, t in enumerate(small_order_points()):
        yield f"small-order R #{i}", pk, MSG, replace(SIG, R=t)
        yield f"small-order key #{i}", t, EDDSA_MSG, forge_for_small_order_key(t)
        if i:
            yield f"key outside the subgroup #{i}", add(pk, t), MSG, SIG
            yield f"R outside the subgroup #{i}", pk, MSG, replace(SIG, R=add(SIG.R, t))
    flipped = SIG.to_bytes()
    yield "R's other x", compress(pk), MSG, bytes([flipped[0] ^ 0x80]) + flipped[1:]
    yield "short signature", compress(pk), MSG, SIG.to_bytes()[:63]


@pytest.mark.parametrize("case", list(cases()), ids=lambda c: c[0])
def test_native_verifier_agrees_with_the_reference(
    core: Any, case: tuple[str, Point | bytes, int, Signature | bytes]
) -> None:
    name, pk, msg, sig = case
    expected = name.startswith("valid")
    assert verify_reference(pk, msg, sig) is expected
    assert verify(pk, msg, sig) is expected


def test_native_equation_refuses_what_the_python_checks_filter(core: Any) -> None:
    """Called directly, the native check refuses on its own what ``verify`` filters first."""
    pk, c = KEY.public_key, challenge(SIG.R, KEY.public_key, MSG)
    assert core.eddsa_verify(pk.x, pk.y, SIG.R.x, SIG.R.y, SIG.s, c) is True
    assert core.eddsa_verify(pk.x, pk.y, SIG.R.x, SIG.R.y, SIG.s + ORDER, c) is False
    assert core.eddsa_verify(pk.x, pk.y, SIG.R.x, SIG.R.y, -SIG.s, c) is False
    assert core.eddsa_verify(pk.x, pk.y, SIG.R.x, SIG.R.y + 1, SIG.s, c) is False
    assert core.eddsa_verify(pk.x + R, pk.y, SIG.R.x, SIG.R.y, SIG.s, c) is False
    assert core.eddsa_verify(pk.x, pk.y, SIG.R.x, SIG.R.y, SIG.s, c + 1) is False
    assert core.eddsa_verify(True, pk.y, SIG.R.x, SIG.R.y, SIG.s, c) is False
    assert core.eddsa_verify(0, 1, SIG.R.x, SIG.R.y, SIG.s, c) is False  # identity key


@settings(max_examples=15, deadline=None)
@given(st.binary(min_size=32, max_size=32), elements, st.integers(0, 3))
def test_random_signatures(seed: bytes, msg: int, tamper: int) -> None:
    """Random keys and messages, signed then left alone or tampered with in one place."""
    require_native()
    key = SecretKey.from_seed(seed)
    pk, sig = key.public_key, sign(key, msg)
    if tamper == 1:
        msg = (msg + 1) % R
    elif tamper == 2:
        sig = replace(sig, s=(sig.s + 1) % ORDER)
    elif tamper == 3:
        pk = base_mul(key.scalar + 1)
    assert verify(pk, msg, sig) is verify_reference(pk, msg, sig) is (tamper == 0)


@settings(max_examples=20, deadline=None)
@given(elements, st.booleans())
def test_one_key_many_messages(msg: int, tamper: bool) -> None:
    """A key seen before takes the native verifier's remembered path (its subgroup check and
    its table for c*A are reused): it must still refuse what the reference refuses."""
    require_native()
    sig = sign(KEY, msg)
    if tamper:
        sig = replace(sig, R=base_mul(msg % ORDER + 1))
    pk = KEY.public_key
    assert verify(pk, msg, sig) is verify_reference(pk, msg, sig) is (not tamper)


def batch_of_signatures(rng: random.Random, n: int) -> list[tuple[Point, list[int], Signature]]:
    """Items for ``verify_many``: messages of 0 to 13 inputs, a known key, fresh keys (one of them
    twice), and each item left valid or tampered with in one place."""
    fresh = SecretKey.from_seed(rng.randbytes(32))
    small = small_order_points()
    items = []
    for i in range(n):
        key = [KEY, fresh, SecretKey.from_seed(rng.randbytes(32))][i % 3]
        inputs = [rng.randrange(R) for _ in range(rng.randrange(14))]
        pk, sig = key.public_key, sign(key, sponge_reference(inputs, BATCH_DOMAIN))
        tamper = rng.randrange(9)
        if tamper == 1:
            sig = replace(sig, s=(sig.s + 1) % ORDER)
        elif tamper == 2:
            sig = replace(sig, s=sig.s + ORDER)
        elif tamper == 3:
            sig = replace(sig, R=Point(sig.R.x, (sig.R.y + 1) % R))
        elif tamper == 4:
            pk = Point(pk.x, (pk.y + 1) % R)
        elif tamper == 5:
            sig = replace(sig, R=add(sig.R, small[1 + i % (len(small) - 1)]))
        elif tamper == 6:
            inputs = [*inputs, 0]  # another length: another message
        elif tamper == 7:
            pk = add(pk, small[1 + i % (len(small) - 1)])
        items.append((pk, inputs, sig))
    return items


BATCH_DOMAIN = 0x5EED


@pytest.mark.parametrize("n", [0, 1, 2, 40])
def test_verify_many_equals_one_at_a_time(
    core: Any, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The native batch (both sponges and the equation of every item in one call) answers as
    the reference one item at a time, and so does ``verify_many`` without the native core."""
    items = batch_of_signatures(random.Random(f"batch {n}"), n)
    expected = [
        verify_reference(pk, sponge_reference(inputs, BATCH_DOMAIN), sig)
        for pk, inputs, sig in items
    ]
    assert n < 40 or 0 < sum(expected) < n  # both answers occur
    assert verify_many(BATCH_DOMAIN, items) == expected
    monkeypatch.setattr(eddsa, "NATIVE", None)
    assert verify_many(BATCH_DOMAIN, items) == expected


def test_verify_many_refuses_what_is_not_a_field_element(core: Any) -> None:
    pk, sig = KEY.public_key, sign(KEY, sponge_reference([1], BATCH_DOMAIN))
    with pytest.raises(FieldError, match="not a canonical field element"):
        verify_many(BATCH_DOMAIN, [(pk, [1, R], sig)])
    with pytest.raises(TypeError, match="an item is"):
        core.eddsa_verify_many([(1, 2)], 3)
    assert verify_many(BATCH_DOMAIN, [(pk, [1], sig)]) == [True]


# -- field kernels ---------------------------------------------------------------------------------


@pytest.fixture(params=["portable", "adx"])
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each field multiplication of the core in turn (skipped where the CPU lacks it); the
    default one is put back afterwards."""
    core = require_native()
    if request.param not in core.kernels():
        pytest.skip(f"this CPU has no {request.param} kernel (BMI2 and ADX)")
    default = core.kernel()
    core.set_kernel(request.param)
    yield request.param
    core.set_kernel(default)


def test_every_kernel_equals_the_reference(kernel: str) -> None:
    """Both multiplications (``adx``: mulx/adcx/adox assembly; ``portable``: C on __int128)
    give the reference's answers: known-answer vectors, edge and random states, sponges of
    every block count, x recovery and verification of valid and tampered signatures."""
    core, rng = require_native(), random.Random(f"kernel {kernel}")
    assert core.kernel() == kernel
    for width in (3, 5):
        assert core.permute(list(range(width))) == KNOWN_ANSWERS[width]
    edges = [0, 1, 2, R - 1, R - 2, (1 << 254) - 1, 1 << 128, (1 << 64) - 1, (1 << 192) + 1]
    states = [[edges[(i + j) % len(edges)] for j in range(5)] for i in range(len(edges))]
    states += [[rng.randrange(R) for _ in range(5)] for _ in range(40)]
    for state in states:
        assert core.permute(state) == poseidon.permute_int(state)
        assert core.permute(state[:3]) == poseidon.permute_int(state[:3])
        assert core.hash2(*state[:2]) == poseidon.permute_int([0, *state[:2]])[0]
    for length in range(14):
        inputs = [
            rng.choice(edges) if rng.random() < 0.3 else rng.randrange(R) for _ in range(length)
        ]
        assert poseidon.sponge(inputs, 7) == sponge_reference(inputs, 7)
    for y in [*edges, *(rng.randrange(R) for _ in range(40))]:
        x, expected = recover_x(y), recover_x_reference(y)
        assert (x is None) == (expected is None)
        assert x is None or x * x % R == expected * expected % R  # type: ignore[operator]
    for i in range(6):
        key, msg = SecretKey.from_seed(rng.randbytes(32)), rng.randrange(R)
        pk, sig = key.public_key, sign(key, msg)
        bad = replace(sig, s=(sig.s + 1) % ORDER) if i % 2 else sig
        assert verify(pk, msg, bad) is verify_reference(pk, msg, bad) is (i % 2 == 0)
    items = batch_of_signatures(rng, 12)
    assert verify_many(BATCH_DOMAIN, items) == [
        verify_reference(pk, sponge_reference(inputs, BATCH_DOMAIN), sig)
        for pk, inputs, sig in items
    ]


def test_the_fastest_kernel_is_the_default() -> None:
    """A fresh process uses ``adx`` where the CPU has it; an unknown kernel is refused."""
    core = require_native()
    code = "from protocol import native; print(native.NATIVE.kernel())"
    env = {**os.environ, "ZKPERP_NATIVE": "native", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == core.kernels()[-1]
    with pytest.raises(ValueError, match="no field kernel 'avx9'"):
        core.set_kernel("avx9")
    assert core.kernel() in core.kernels()


# -- selection -------------------------------------------------------------------------------------


def test_a_build_for_another_source_is_never_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = tmp_path / native.SOURCE.name
    edited.write_bytes(native.SOURCE.read_bytes() + b"\n/* edited */\n")
    monkeypatch.setattr(native, "SOURCE", edited)
    assert native.find_native_build() is None
    monkeypatch.setenv("ZKPERP_NATIVE", "auto")
    assert native.load_native() is None
    monkeypatch.setenv("ZKPERP_NATIVE", "native")
    with pytest.raises(ImportError, match="ZKPERP_NATIVE=native"):
        native.load_native()


@pytest.mark.parametrize("choice", ["pure", "native"])
def test_the_environment_chooses(choice: str) -> None:
    expected = "gmpy2" if poseidon.GMP else "int"
    if choice == "native":
        require_native()
        expected = "native"
    env = {**os.environ, "ZKPERP_NATIVE": choice, "PYTHONPATH": str(ROOT)}
    code = "from protocol import poseidon; print(poseidon.BACKEND)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
