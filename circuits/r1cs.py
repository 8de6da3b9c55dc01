"""R1CS: the constraint system, and the builder that circuit code is written against.

A rank-1 constraint is ``<a,w> * <b,w> == <c,w> (mod r)`` over the wire vector ``w``. Wires are
laid out in the iden3 order: wire 0 is the constant 1, then the public inputs, then the private
wires. A circuit is a Python function that takes a :class:`Builder` and the (optional) values
of its inputs. The same function runs in two modes:

- *setup mode* (``Builder(witness=False)``): shape only; no value is known, hints never run;
- *witness mode* (``Builder(witness=True)``): every wire also gets its value.

Both modes produce the same :class:`ConstraintSystem`, because circuit code never branches on a
value. A third, *values-only* mode (``Builder(witness=True, values_only=True)``) computes the
same witness without recording constraints: a block's witness needs no new system when the
system of its preset is built once and cached; gadgets may take a faster path there
(``circuits.gadgets.poseidon``), and tests require both modes to give the same witness.

Witness values that constraints do not define by themselves come from *hints*
(``cs.hint(name, fn, *inputs)``): ``fn`` computes the value from the inputs' values, and the
code must constrain the hinted wire right after. :meth:`Builder.finalize` refuses a circuit with
a wire that appears in no constraint, so a forgotten hint cannot slip through.

Linear operations (``+``, ``-``, scaling by an int) only build :class:`LinearCombination`
objects and never add a constraint; ``cs.mul`` adds one, unless a factor is a constant.
Constraint names carry the path of the scopes they were made in (``merkle/level3/hash/sbox``).
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from protocol.field import R

LC = dict[int, int]  # wire index -> coefficient mod r; wire 0 is the constant 1
Rows = tuple[list[int], list[int], list[int]]  # <a_j,w>, <b_j,w>, <c_j,w> per constraint j
HintFn = Callable[..., Sequence[int]]


@dataclass(frozen=True)
class Constraint:
    """``<a,w> * <b,w> == <c,w> (mod r)``; ``name`` is its scope path and own name."""

    a: LC
    b: LC
    c: LC
    name: str


class UnsatisfiedConstraintError(Exception):
    """A witness breaks a constraint; ``index`` and ``name`` say which (the first one)."""

    def __init__(self, index: int, name: str) -> None:
        super().__init__(f"constraint {index} ({name}) is not satisfied")
        self.index = index
        self.name = name


class MalformedWitnessError(ValueError):
    """A witness of the wrong length, without 1 on wire 0, or with a value outside [0, r)."""


class UnconstrainedWireError(ValueError):
    """A wire (an input or a hint) that no constraint mentions."""


def _column(lcs: Sequence[LC], w: Sequence[int]) -> list[int]:
    """``<lc, w> mod r`` for each combination; a lone unit term (most of them) is read as is."""
    out: list[int] = []
    append = out.append
    for lc in lcs:
        if len(lc) == 1:
            for k, c in lc.items():
                append(w[k] if c == 1 else c * w[k] % R)
        elif lc:
            total = 0
            for k, c in lc.items():
                total += c * w[k]
            append(total % R)
        else:
            append(0)
    return out


def _encode_lc(lc: LC) -> bytes:
    parts = [len(lc).to_bytes(4, "big")]
    for k in sorted(lc):
        parts.append(k.to_bytes(4, "big") + lc[k].to_bytes(32, "big"))
    return b"".join(parts)


@dataclass(frozen=True)
class ConstraintSystem:
    """A finished circuit: wire counts, constraints, and the names of its public inputs."""

    num_public: int  # public inputs are wires 1..num_public
    num_wires: int
    constraints: list[Constraint]
    public_names: tuple[str, ...]

    def check(self, witness: Sequence[int]) -> None:
        """Raise UnsatisfiedConstraintError for the first constraint ``witness`` breaks."""
        self.checked_rows(witness)

    def checked_rows(self, witness: Sequence[int]) -> Rows:
        """``(<a_j,w>, <b_j,w>, <c_j,w>)`` for every constraint j, reduced mod r, after checking
        that every row holds (UnsatisfiedConstraintError names the first that does not): the
        check and the prover's constraint evaluations are one pass."""
        self._check_shape(witness)
        a, b, c = self.rows(witness)
        for i, (x, y, z) in enumerate(zip(a, b, c, strict=True)):
            if x * y % R != z:
                raise UnsatisfiedConstraintError(i, self.constraints[i].name)
        return a, b, c

    def rows(self, witness: Sequence[int]) -> Rows:
        """``(<a_j,w>, <b_j,w>, <c_j,w>)`` for every constraint j, reduced mod r, unchecked."""
        a, b, c = self._matrices
        return _column(a, witness), _column(b, witness), _column(c, witness)

    @cached_property
    def _matrices(self) -> tuple[list[LC], list[LC], list[LC]]:
        cons = self.constraints
        return [k.a for k in cons], [k.b for k in cons], [k.c for k in cons]

    def _check_shape(self, witness: Sequence[int]) -> None:
        if len(witness) != self.num_wires:
            raise MalformedWitnessError(f"witness has {len(witness)} wires, not {self.num_wires}")
        if witness[0] != 1:
            raise MalformedWitnessError("wire 0 must be 1")
        for i, v in enumerate(witness):
            if not 0 <= v < R:
                raise MalformedWitnessError(f"wire {i} is not a canonical field element")

    def public_inputs(self, witness: Sequence[int]) -> list[int]:
        """The public input values, in wire order (without the constant wire)."""
        return list(witness[1 : 1 + self.num_public])

    def digest(self) -> bytes:
        """SHA-256 of the shape: counts and every constraint (names are left out); computed
        once per system (a system is never changed once finalized)."""
        return self._digest

    @cached_property
    def _digest(self) -> bytes:
        h = hashlib.sha256(b"zkperp-r1cs-v1")
        for n in (self.num_public, self.num_wires, len(self.constraints)):
            h.update(n.to_bytes(8, "big"))
        for con in self.constraints:
            h.update(_encode_lc(con.a) + _encode_lc(con.b) + _encode_lc(con.c))
        return h.digest()


def scope_of(name: str, depth: int) -> str:
    """The first ``depth`` scopes of a constraint name (``""`` for a top-level constraint)."""
    scopes = name.split("/")[:-1]
    return "/".join(scopes[:depth])


def count_by_scope(system: ConstraintSystem, depth: int = 1) -> Counter[str]:
    """Number of constraints per scope path, cut at ``depth`` levels."""
    return Counter(scope_of(con.name, depth) for con in system.constraints)


class LinearCombination:
    """A linear combination of wires (``terms``), and its value in witness mode.

    Immutable by convention: operations return new objects. ``value`` is None in setup mode.
    """

    __slots__ = ("terms", "value")

    def __init__(self, terms: LC, value: int | None) -> None:
        self.terms = terms
        self.value = value

    @property
    def is_constant(self) -> bool:
        return not self.terms or (len(self.terms) == 1 and 0 in self.terms)

    @property
    def constant_value(self) -> int:
        """The value of a constant combination (raises for one that mentions a wire)."""
        if not self.is_constant:
            raise ValueError("not a constant")
        return self.terms.get(0, 0)

    def __add__(self, other: LinearCombination | int) -> LinearCombination:
        if isinstance(other, int):
            other = constant(other)
        terms = dict(self.terms)
        for k, c in other.terms.items():
            s = (terms.get(k, 0) + c) % R
            if s:
                terms[k] = s
            else:
                del terms[k]
        return LinearCombination(terms, _sum_values(self.value, other.value))

    __radd__ = __add__

    def __neg__(self) -> LinearCombination:
        value = None if self.value is None else -self.value % R
        return LinearCombination({k: R - c for k, c in self.terms.items()}, value)

    def __sub__(self, other: LinearCombination | int) -> LinearCombination:
        return self + (-other)

    def __rsub__(self, other: int) -> LinearCombination:
        return -self + other

    def __mul__(self, scalar: int) -> LinearCombination:
        if not isinstance(scalar, int):
            return NotImplemented  # a product of two combinations is cs.mul(a, b, name)
        scalar %= R
        if scalar == 0:
            return constant(0)
        value = None if self.value is None else self.value * scalar % R
        return LinearCombination({k: c * scalar % R for k, c in self.terms.items()}, value)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"LinearCombination({self.terms}, value={self.value})"


def _sum_values(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else (a + b) % R


def weighted_sum(weights: Sequence[int], lcs: Sequence[LinearCombination]) -> LinearCombination:
    """``sum(w * x)``, built in one pass (a matrix row times a vector of combinations)."""
    terms: LC = {}
    value: int | None = 0
    for w, x in zip(weights, lcs, strict=True):
        for k, c in x.terms.items():
            terms[k] = terms.get(k, 0) + w * c
        value = None if value is None or x.value is None else value + w * x.value
    reduced = {k: r for k, c in terms.items() if (r := c % R)}
    return LinearCombination(reduced, None if value is None else value % R)


def constant(c: int) -> LinearCombination:
    """The constant ``c`` (known in both modes)."""
    c %= R
    return LinearCombination({0: c} if c else {}, c)


class Builder:
    """Collects wires and named constraints; see the module docstring for the two modes.

    ``hint_overrides`` maps full hint names (``scope/.../name``) to replacement functions that
    return the list of values: a way to play a cheating prover in tests, whose witness
    ``check`` must then reject.
    """

    def __init__(
        self,
        *,
        witness: bool,
        hint_overrides: Mapping[str, HintFn] | None = None,
        values_only: bool = False,
    ) -> None:
        if values_only and not witness:
            raise ValueError("a values-only builder computes a witness: witness=True")
        self.witness_mode = witness
        self.values_only = values_only
        self._overrides = dict(hint_overrides or {})
        self._prefix = ""
        self._public_names: list[str] = []
        self._private_names: list[str] = []
        self._public_values: list[int] = []
        self._private_values: list[int] = []
        self._constraints: list[tuple[LC, LC, LC, str]] = []

    @property
    def num_constraints(self) -> int:
        return len(self._constraints)

    @property
    def has_hint_overrides(self) -> bool:
        return bool(self._overrides)

    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Constraints and hints made inside are named ``<outer>/<name>/...``."""
        outer = self._prefix
        self._prefix = f"{outer}{name}/"
        try:
            yield
        finally:
            self._prefix = outer

    # -- wires ---------------------------------------------------------------------------------
    def _checked_value(self, name: str, value: int | None) -> int | None:
        if not self.witness_mode:
            return None
        if value is None:
            raise ValueError(f"witness mode needs a value for {self._prefix}{name}")
        return value % R

    def public(self, name: str, value: int | None) -> LinearCombination:
        """A new public input (its value is ignored in setup mode)."""
        v = self._checked_value(name, value)
        if v is not None:
            self._public_values.append(v)
        self._public_names.append(self._prefix + name)
        return LinearCombination({len(self._public_names): 1}, v)

    def private(self, name: str, value: int | None) -> LinearCombination:
        """A new private input (its value is ignored in setup mode)."""
        return self._new_private(self._prefix + name, self._checked_value(name, value))

    def _new_private(self, full_name: str, value: int | None) -> LinearCombination:
        if value is not None:
            self._private_values.append(value)
        self._private_names.append(full_name)
        return LinearCombination({-len(self._private_names): 1}, value)

    def values_wire(self, value: int) -> LinearCombination:
        """A new private wire holding ``value`` (reduced), for a gadget's values-only twin that
        allocates its wires in the order of its constrained path (values-only builders)."""
        if not self.values_only:
            raise ValueError("values_wire is for values-only builders")
        return self._new_private("", value)

    def hints(
        self, name: str, count: int, fn: HintFn, *inputs: LinearCombination
    ) -> list[LinearCombination]:
        """``count`` new private wires whose values ``fn(*input_values)`` computes.

        A hint is not a constraint: the caller constrains the new wires right after.
        """
        full = self._prefix + name
        if not self.witness_mode:
            return [self._new_private(f"{full}[{i}]", None) for i in range(count)]
        values = list(self._overrides.get(full, fn)(*(x.value for x in inputs)))
        if len(values) != count:
            raise ValueError(f"hint {full} gave {len(values)} values, not {count}")
        return [self._new_private(f"{full}[{i}]", v % R) for i, v in enumerate(values)]

    def hint(
        self, name: str, fn: Callable[..., int], *inputs: LinearCombination
    ) -> LinearCombination:
        """One new private wire whose value ``fn(*input_values)`` computes (see ``hints``)."""
        return self.hints(name, 1, lambda *vs: [fn(*vs)], *inputs)[0]

    # -- constraints ---------------------------------------------------------------------------
    def assert_mul(
        self, a: LinearCombination, b: LinearCombination, c: LinearCombination, name: str
    ) -> None:
        """Constrain ``a * b == c`` (recorded unless values-only)."""
        if self.values_only:
            return
        self._constraints.append((a.terms, b.terms, c.terms, sys.intern(self._prefix + name)))

    def assert_equal(self, a: LinearCombination, b: LinearCombination, name: str) -> None:
        """Constrain ``a == b`` (one constraint: ``a * 1 == b``)."""
        self.assert_mul(a, ONE, b, name)

    def assert_zero(self, a: LinearCombination, name: str) -> None:
        self.assert_mul(a, ONE, ZERO, name)

    def mul(self, a: LinearCombination, b: LinearCombination, name: str) -> LinearCombination:
        """``a * b``: a new wire and one constraint, or no constraint if a factor is constant."""
        if a.is_constant:
            return b * a.constant_value
        if b.is_constant:
            return a * b.constant_value
        value = None if a.value is None or b.value is None else a.value * b.value % R
        out = self._new_private(self._prefix + name, value)
        self.assert_mul(a, b, out, name)
        return out

    def expose(self, name: str, x: LinearCombination) -> LinearCombination:
        """A new public input constrained equal to ``x`` (a public output of the circuit)."""
        pub = self.public(name, x.value if self.witness_mode else None)
        self.assert_equal(pub, x, f"{name}_is_public")
        return pub

    # -- finishing -----------------------------------------------------------------------------
    def witness_values(self) -> list[int]:
        """The witness, in the iden3 wire order (witness and values-only modes)."""
        if not self.witness_mode:
            raise ValueError("a setup-mode builder has no witness")
        return [1, *self._public_values, *self._private_values]

    def finalize(self) -> tuple[ConstraintSystem, list[int] | None]:
        """The constraint system (wires renumbered to the iden3 order) and, in witness mode,
        the witness. Raises UnconstrainedWireError for a wire no constraint mentions."""
        if self.values_only:
            raise ValueError("a values-only builder has no constraint system: witness_values()")
        self._check_all_wires_used()
        offset = len(self._public_names)
        num_wires = 1 + offset + len(self._private_names)
        index = list(range(num_wires))  # one int object per wire, shared by every mention
        renumbered: dict[int, LC] = {}  # by id: a combination used twice is stored once

        def renumber(lc: LC) -> LC:
            out = renumbered.get(id(lc))
            if out is None:
                out = {index[k if k >= 0 else offset - k]: c for k, c in lc.items()}
                renumbered[id(lc)] = out
            return out

        constraints = [
            Constraint(renumber(a), renumber(b), renumber(c), n) for a, b, c, n in self._constraints
        ]
        system = ConstraintSystem(
            num_public=offset,
            num_wires=num_wires,
            constraints=constraints,
            public_names=tuple(self._public_names),
        )
        if not self.witness_mode:
            return system, None
        return system, self.witness_values()

    def _check_all_wires_used(self) -> None:
        used: set[int] = set()
        for a, b, c, _ in self._constraints:
            used.update(a, b, c)
        for i, name in enumerate(self._public_names, start=1):
            if i not in used:
                raise UnconstrainedWireError(f"public input {name} is in no constraint")
        for i, name in enumerate(self._private_names, start=1):
            if -i not in used:
                raise UnconstrainedWireError(f"private wire {name} is in no constraint")


ONE = constant(1)
ZERO = constant(0)
