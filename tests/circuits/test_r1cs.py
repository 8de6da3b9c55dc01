"""The R1CS builder: wire layout, linear algebra without constraints, the two modes, check()."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.r1cs import (
    Builder,
    ConstraintSystem,
    LinearCombination,
    MalformedWitnessError,
    UnconstrainedWireError,
    UnsatisfiedConstraintError,
    constant,
    count_by_scope,
)
from protocol.field import R

felts = st.integers(min_value=0, max_value=R - 1)


def cube_circuit(cs: Builder, x_value: int | None) -> None:
    """x^3 + x + 5 == y, with y public and declared after the private x."""
    x = cs.private("x", x_value)
    with cs.scope("cube"):
        x2 = cs.mul(x, x, "x2")
        x3 = cs.mul(x2, x, "x3")
    cs.expose("y", x3 + x + 5)


def build(x_value: int | None, witness: bool = True) -> tuple[ConstraintSystem, list[int] | None]:
    cs = Builder(witness=witness)
    cube_circuit(cs, x_value)
    return cs.finalize()


def test_wires_follow_the_iden3_order_one_public_private() -> None:
    system, witness = build(3)
    assert witness is not None
    assert system.num_public == 1 and system.public_names == ("y",)
    assert system.num_wires == 5  # one, y, x, x2, x3
    assert witness == [1, 35, 3, 9, 27]
    assert system.public_inputs(witness) == [35]
    system.check(witness)


def test_setup_mode_gives_the_same_system_and_no_witness() -> None:
    setup, none = build(None, witness=False)
    proved, witness = build(7)
    assert none is None and witness is not None
    assert setup == proved
    assert setup.digest() == proved.digest()


def test_digest_changes_with_the_shape() -> None:
    cs = Builder(witness=False)
    x = cs.private("x", None)
    cs.assert_equal(cs.mul(x, x, "sq"), x * 2, "eq")
    other = cs.finalize()[0]
    assert other.digest() != build(None, witness=False)[0].digest()


def test_check_names_the_first_unsatisfied_constraint() -> None:
    system, witness = build(3)
    assert witness is not None
    witness[3] = 10  # x2
    with pytest.raises(UnsatisfiedConstraintError) as err:
        system.check(witness)
    assert (err.value.index, err.value.name) == (0, "cube/x2")
    assert "cube/x2" in str(err.value) and "0" in str(err.value)


@pytest.mark.parametrize(
    ("position", "value"), [(0, 2), (2, R), (2, -1)], ids=["one", "alias", "negative"]
)
def test_check_rejects_malformed_witnesses(position: int, value: int) -> None:
    system, witness = build(3)
    assert witness is not None
    witness[position] = value
    with pytest.raises(MalformedWitnessError):
        system.check(witness)
    with pytest.raises(MalformedWitnessError):
        system.check(witness[:-1])


def test_linear_operations_make_no_constraints() -> None:
    cs = Builder(witness=True)
    x, y = cs.private("x", 5), cs.private("y", 7)
    z = (x + y) * 3 - x - 2 * y + 1
    assert cs.num_constraints == 0
    assert z.value == (5 + 7) * 3 - 5 - 14 + 1
    assert z.terms == {-1: 2, -2: 1, 0: 1}
    assert (x - x).terms == {} and (x - x).value == 0
    assert cs.mul(z, constant(4), "const").terms == {-1: 8, -2: 4, 0: 4}
    assert cs.num_constraints == 0


def test_product_of_combinations_goes_through_the_builder() -> None:
    cs = Builder(witness=True)
    x = cs.private("x", 5)
    with pytest.raises(TypeError, match="unsupported operand type"):
        x * x  # type: ignore[operator]


def test_hints_run_only_in_witness_mode_and_must_be_constrained() -> None:
    calls: list[int] = []

    def inverse(v: int) -> int:
        calls.append(v)
        return pow(v, R - 2, R)

    for witness in (False, True):
        cs = Builder(witness=witness)
        x = cs.private("x", 4)
        cs.mul(x, x, "square")
        inv = cs.hint("inv", inverse, x)
        with pytest.raises(UnconstrainedWireError, match="inv"):
            cs.finalize()
        cs.assert_mul(x, inv, constant(1), "inv_ok")
        system, w = cs.finalize()
        if w is not None:
            system.check(w)
    assert calls == [4]


def test_hint_overrides_play_a_cheating_prover() -> None:
    cs = Builder(witness=True, hint_overrides={"s/inv": lambda v: [v]})
    x = cs.private("x", 4)
    with cs.scope("s"):
        inv = cs.hint("inv", lambda v: pow(v, R - 2, R), x)
        cs.assert_mul(x, inv, constant(1), "inv_ok")
    system, w = cs.finalize()
    assert w is not None
    with pytest.raises(UnsatisfiedConstraintError, match="s/inv_ok"):
        system.check(w)


def test_witness_mode_needs_values() -> None:
    with pytest.raises(ValueError, match="x"):
        Builder(witness=True).private("x", None)


def test_count_by_scope() -> None:
    system, _ = build(None, witness=False)
    assert count_by_scope(system) == {"cube": 2, "": 1}


@settings(max_examples=30, deadline=None)
@given(felts, felts, st.integers(min_value=-(2**64), max_value=2**64))
def test_linear_combination_values_follow_the_field(a: int, b: int, k: int) -> None:
    cs = Builder(witness=True)
    x, y = cs.private("x", a), cs.private("y", b)
    z: LinearCombination = k * x - y + k
    assert z.value == (k * a - b + k) % R
    p = cs.mul(x, y, "p")
    assert p.value == a * b % R


def test_a_values_only_builder_records_no_constraint_and_has_no_system() -> None:
    full, quick = Builder(witness=True), Builder(witness=True, values_only=True)
    for cs in (full, quick):
        x = cs.private("x", 3)
        cs.expose("y", cs.mul(x, x + 1, "x_times_x_plus_1"))
    assert quick.num_constraints == 0 and full.num_constraints == 2
    assert quick.witness_values() == full.witness_values() == [1, 12, 3, 12]
    with pytest.raises(ValueError, match="no constraint system"):
        quick.finalize()
    with pytest.raises(ValueError, match="values-only"):
        full.values_wire(1)
    with pytest.raises(ValueError, match="witness=True"):
        Builder(witness=False, values_only=True)
    with pytest.raises(ValueError, match="no witness"):
        Builder(witness=False).witness_values()
