"""Witnesses with chosen values, recomputed without rebuilding the circuit.

Circuit code never branches on a value (``circuits/r1cs.py``), so a witness is a fixed program:
each wire is an input (``private``/``public``), a hint's output (its function of the inputs'
values), a product (``mul``) or an exposed combination (``expose``). :class:`TracingBuilder`
records that program while it builds; :meth:`Trace.replay` runs it again with some values
replaced and everything downstream recomputed, in a fraction of a build's time:

- an input by its full name (``slot0/a/collateral``): another witness's value;
- a hint by its full name without the index (as ``Builder(hint_overrides=...)``);
- any wire by its full name, with a function of the value it would have had: a product whose
  constraint is dropped is free, and this is how a prover would set it.

The replayed witness is judged by the real :class:`ConstraintSystem` (``unsatisfied``), so a
wrong replay could only make a test fail, never pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import mul

from circuits.r1cs import LC, Builder, ConstraintSystem, HintFn, LinearCombination
from protocol.field import R

WireFn = Callable[[int], int]


# A linear combination as its wires, their coefficients and its constant term, evaluated by
# C-level maps (most of a replay is these sums).
_Terms = tuple[tuple[int, ...], tuple[int, ...], int]


def _terms(lc: LC) -> _Terms:
    wires = tuple(k for k in lc if k)
    return wires, tuple(lc[k] for k in wires), lc.get(0, 0)


def _dot(terms: _Terms, values: Mapping[int, int]) -> int:
    wires, coefficients, constant = terms
    return sum(map(mul, map(values.__getitem__, wires), coefficients)) + constant


@dataclass(frozen=True)
class _Step:
    kind: str  # "input", "hint", "mul", "copy"
    name: str  # the wire's full name (a hint's without the index)
    wires: tuple[int, ...]  # the builder's indices of the wires it defines
    wire_names: tuple[str, ...]  # their full names (a hint's with the index)
    value: int = 0  # an input's value
    fn: HintFn | None = None
    operands: tuple[LC, ...] = ()


class TracingBuilder(Builder):
    """A witness-mode Builder that records how each wire's value is computed."""

    def __init__(self, *, hint_overrides: Mapping[str, HintFn] | None = None) -> None:
        super().__init__(witness=True, hint_overrides=hint_overrides)
        self.steps: list[_Step] = []

    def _full(self, name: str) -> str:
        return self._prefix + name

    def public(self, name: str, value: int | None) -> LinearCombination:
        out = super().public(name, value)
        self._add("input", self._full(name), [out], value=out.value or 0)
        return out

    def private(self, name: str, value: int | None) -> LinearCombination:
        out = super().private(name, value)
        self._add("input", self._full(name), [out], value=out.value or 0)
        return out

    def hints(
        self, name: str, count: int, fn: HintFn, *inputs: LinearCombination
    ) -> list[LinearCombination]:
        outs = super().hints(name, count, fn, *inputs)
        fn = self._overrides.get(self._full(name), fn)
        self._add("hint", self._full(name), outs, fn=fn, operands=tuple(x.terms for x in inputs))
        return outs

    def mul(self, a: LinearCombination, b: LinearCombination, name: str) -> LinearCombination:
        out = super().mul(a, b, name)
        if not (a.is_constant or b.is_constant):
            self._add("mul", self._full(name), [out], operands=(a.terms, b.terms))
        return out

    def expose(self, name: str, x: LinearCombination) -> LinearCombination:
        n = len(self.steps)
        pub = super().expose(name, x)
        del self.steps[n:]  # the input step ``public`` recorded: its value is x's
        self._add("copy", self._full(name), [pub], operands=(x.terms,))
        return pub

    def _add(
        self,
        kind: str,
        name: str,
        outs: Sequence[LinearCombination],
        value: int = 0,
        fn: HintFn | None = None,
        operands: tuple[LC, ...] = (),
    ) -> None:
        wires = tuple(next(iter(out.terms)) for out in outs)  # each a single new wire
        names = (name,) if kind != "hint" else tuple(f"{name}[{i}]" for i in range(len(outs)))
        self.steps.append(_Step(kind, name, wires, names, value, fn, operands))

    def trace(self) -> Trace:
        system, witness = self.finalize()
        assert witness is not None
        return Trace(system, witness, self.steps, len(self._public_names))


@dataclass
class Trace:
    """A finished system, the witness it was built with, and the program of that witness."""

    system: ConstraintSystem
    witness: list[int]
    steps: list[_Step]
    num_public: int
    names: set[str] = field(init=False)

    memo: dict[tuple[int, tuple[int, ...]], list[int]] = field(init=False, default_factory=dict)
    terms: list[tuple[_Terms, ...]] = field(init=False)
    reads: list[tuple[int, ...]] = field(init=False)  # the wires each step reads
    by_name: dict[str, list[int]] = field(init=False)  # steps by their (wires') names
    # the last replay: its values by the builder's indices, and the steps it replaced
    last: tuple[dict[int, int], set[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.names = {s.name for s in self.steps} | {n for s in self.steps for n in s.wire_names}
        self.terms = [tuple(_terms(x) for x in s.operands) for s in self.steps]
        self.reads = [tuple({k for t in terms for k in t[0]}) for terms in self.terms]
        self.by_name = {}
        for n, step in enumerate(self.steps):
            for name in {step.name, *step.wire_names}:
                self.by_name.setdefault(name, []).append(n)
        self.last = (self._builder_values(self.witness), set())

    def input_names(self) -> set[str]:
        return {s.name for s in self.steps if s.kind == "input"}

    def replay(
        self,
        inputs: Mapping[str, int] | None = None,
        hints: Mapping[str, HintFn] | None = None,
        wires: Mapping[str, WireFn] | None = None,
    ) -> list[int]:
        """The witness with ``inputs`` (by name), ``hints`` and ``wires`` replaced.

        Computed from the last replay (at first the traced witness): a step none of whose
        inputs changed, and which neither replay replaces, keeps its value, the rest are
        recomputed (``replay_whole`` recomputes every step; tests/circuits/test_tracing.py
        checks that both give the same witness)."""
        inputs, hints, wires = inputs or {}, hints or {}, wires or {}
        self._check_names(inputs, hints, wires)
        before, replaced_before = self.last
        replaced = {n for name in (*hints, *wires) for n in self.by_name[name]}
        recompute = replaced | replaced_before
        values = dict(before)
        changed: set[int] = set()
        for n, step in enumerate(self.steps):
            if step.kind != "input" and n not in recompute and changed.isdisjoint(self.reads[n]):
                continue  # what it reads is as it was: so is its value
            out = self._step_values(n, step, values, inputs, hints, wires)
            for wire, value in zip(step.wires, out, strict=True):
                if before[wire] != value:
                    values[wire] = value
                    changed.add(wire)
        self.last = (values, replaced)
        return self._renumber(values)

    def replay_whole(
        self,
        inputs: Mapping[str, int] | None = None,
        hints: Mapping[str, HintFn] | None = None,
        wires: Mapping[str, WireFn] | None = None,
    ) -> list[int]:
        """``replay``, every step recomputed."""
        inputs, hints, wires = inputs or {}, hints or {}, wires or {}
        self._check_names(inputs, hints, wires)
        values: dict[int, int] = {}
        for n, step in enumerate(self.steps):
            out = self._step_values(n, step, values, inputs, hints, wires)
            values.update(zip(step.wires, out, strict=True))
        return self._renumber(values)

    def _check_names(self, *replaced: Mapping[str, object]) -> None:
        unknown = {name for r in replaced for name in r} - self.names
        if unknown:
            raise KeyError(f"no such wires: {sorted(unknown)}")

    def _step_values(
        self,
        n: int,
        step: _Step,
        values: Mapping[int, int],
        inputs: Mapping[str, int],
        hints: Mapping[str, HintFn],
        wires: Mapping[str, WireFn],
    ) -> list[int]:
        """The values of the wires step ``n`` defines, from those of the wires before it."""
        terms = self.terms[n]
        if step.kind == "mul" and step.name not in wires:  # most steps: the short way
            a, b = terms
            return [_dot(a, values) * _dot(b, values) % R]
        if step.kind == "input":
            out = [inputs.get(step.name, step.value) % R]
        elif step.kind == "hint":
            args = tuple(_dot(x, values) % R for x in terms)
            if step.name in hints:
                out = [v % R for v in hints[step.name](*args)]
            else:
                out = self._run_hint(n, step, args)
        elif step.kind == "mul":
            a, b = terms
            out = [_dot(a, values) * _dot(b, values) % R]
        else:
            out = [_dot(terms[0], values) % R]
        return [
            wires[n](v) % R if n in wires else v for n, v in zip(step.wire_names, out, strict=True)
        ]

    def _run_hint(self, n: int, step: _Step, args: tuple[int, ...]) -> list[int]:
        """The hint's values, remembered (the inverses in hints cost most of a replay)."""
        out = self.memo.get((n, args))
        if out is None:
            assert step.fn is not None
            out = self.memo[n, args] = [v % R for v in step.fn(*args)]
        return out

    def evaluate(self, witness: Sequence[int], step_name: str, operand: int = 0) -> int:
        """The value in ``witness`` of an operand of the step ``step_name`` (e.g. a product's
        first factor)."""
        step = next(s for s in self._named(step_name) if s.name == step_name)
        lc = step.operands[operand]
        return sum(c * witness[self._iden3(k)] for k, c in lc.items()) % R

    def value(self, witness: Sequence[int], wire_name: str) -> int:
        """The value in ``witness`` of the wire ``wire_name``."""
        step = next(s for s in self._named(wire_name) if wire_name in s.wire_names)
        return witness[self._iden3(step.wires[step.wire_names.index(wire_name)])]

    def _named(self, name: str) -> list[_Step]:
        """The steps named ``name`` or defining a wire of that name, in order."""
        return [self.steps[n] for n in self.by_name.get(name, ())]

    def _iden3(self, k: int) -> int:
        return k if k >= 0 else self.num_public - k

    def _builder_values(self, witness: Sequence[int]) -> dict[int, int]:
        """``witness`` (iden3 order) by the builder's indices: ``_renumber`` undone."""
        private = len(witness) - 1 - self.num_public
        public = {i: witness[i] for i in range(1, self.num_public + 1)}
        return public | {-i: witness[self.num_public + i] for i in range(1, private + 1)}

    def _renumber(self, values: Mapping[int, int]) -> list[int]:
        """The builder's indices (public +i, private -i) in the iden3 order."""
        private = len(self.witness) - 1 - self.num_public
        return [
            1,
            *(values[i] for i in range(1, self.num_public + 1)),
            *(values[-i] for i in range(1, private + 1)),
        ]


def unsatisfied(system: ConstraintSystem, witness: Sequence[int]) -> set[str]:
    """The names of every constraint ``witness`` breaks (``check`` stops at the first).

    A system checked before is checked again only where it reads a wire whose value differs
    from the last witness it was checked with (the rest hold or fail as they did then);
    ``unsatisfied_whole`` checks every constraint (tests/circuits/test_tracing.py checks that
    both agree)."""
    kept = _get_kept(system)
    last = kept.last
    if last is None or len(last) != len(witness):
        broken = _broken_rows(kept.rows, witness, range(len(kept.rows)))
    else:
        changed = [i for i, (x, y) in enumerate(zip(witness, last, strict=True)) if x != y]
        uses = kept.get_uses()
        again = sorted({r for i in changed for r in uses.get(i, ())})
        broken = (kept.broken - set(again)) | _broken_rows(kept.rows, witness, again)
    kept.last, kept.broken = list(witness), broken
    return {kept.rows[r][0] for r in broken}


def unsatisfied_whole(system: ConstraintSystem, witness: Sequence[int]) -> set[str]:
    """``unsatisfied``, every constraint checked."""
    rows = _get_kept(system).rows
    return {rows[r][0] for r in _broken_rows(rows, witness, range(len(rows)))}


def _broken_rows(rows: list[_Row], witness: Sequence[int], which: Iterable[int]) -> set[int]:
    get = witness.__getitem__
    broken = set()
    for r in which:
        _, (a_k, a_c), (b_k, b_c), (c_k, c_c) = rows[r]
        a = sum(map(mul, map(get, a_k), a_c))
        b = sum(map(mul, map(get, b_k), b_c))
        if (a * b - sum(map(mul, map(get, c_k), c_c))) % R:
            broken.add(r)
    return broken


_Side = tuple[tuple[int, ...], tuple[int, ...]]  # wires and their coefficients
_Row = tuple[str, _Side, _Side, _Side]


@dataclass
class _Kept:
    """A system's constraints as (name, a, b, c), the rows reading each wire (made when first
    needed), and the last witness checked with the rows it broke."""

    rows: list[_Row]
    uses: dict[int, list[int]] | None = None
    last: list[int] | None = None
    broken: set[int] = field(default_factory=set)

    def get_uses(self) -> dict[int, list[int]]:
        if self.uses is None:
            self.uses = {}
            for r, (_, a, b, c) in enumerate(self.rows):
                for k in {*a[0], *b[0], *c[0]}:
                    self.uses.setdefault(k, []).append(r)
        return self.uses


_KEPT_SYSTEMS = 2
_kept: list[tuple[ConstraintSystem, _Kept]] = []  # the last systems', newest last


def _get_kept(system: ConstraintSystem) -> _Kept:
    """What is kept of ``system``; the last two systems' are (test_necessity checks its
    one-slot and two-slot blocks many times, one after the other; their rows take 0.3 s and
    1.5 s to make)."""
    for system_kept, kept in _kept:
        if system_kept is system:
            return kept
    rows = [(con.name, _side(con.a), _side(con.b), _side(con.c)) for con in system.constraints]
    kept = _Kept(rows)
    _kept[:] = [*_kept[-(_KEPT_SYSTEMS - 1) :], (system, kept)]
    return kept


def _side(lc: LC) -> _Side:
    return tuple(lc), tuple(lc.values())
