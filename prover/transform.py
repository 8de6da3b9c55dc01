"""The QAP's transforms behind one small interface: ``A*B - C`` on the coset ``7*H``.

Two implementations, chosen once by name with ``get_transform``:

- ``arkworks`` (native, the default): arkworks' radix-2 FFTs through ``ark-algebra-py``;
- ``pure``: the pure-Python NTT of ``prover.ntt``, the reference that tests compare against.

Both take the evaluations of A, B and C on the domain H (natural order, Python ints reduced
mod r) and return ``A*B - C`` on ``7*H`` (natural order, reduced): the scalars of the H MSM.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from protocol.field import R
from prover.ntt import to_coset


class CosetTransform(Protocol):
    """``A*B - C`` evaluated on the coset ``7*H`` from the three evaluation vectors on H."""

    name: str

    def quotient_on_coset(
        self, a: Sequence[int], b: Sequence[int], c: Sequence[int]
    ) -> list[int]: ...


class PureTransform:
    """Six pure-Python NTTs (``prover.ntt``): the reference."""

    name = "pure"

    def quotient_on_coset(self, a: Sequence[int], b: Sequence[int], c: Sequence[int]) -> list[int]:
        ca, cb, cc = to_coset(list(a)), to_coset(list(b)), to_coset(list(c))
        return [(x * y - z) % R for x, y, z in zip(ca, cb, cc, strict=True)]


class UnknownTransformError(ValueError):
    """A transform name that is not ``arkworks`` or ``pure``."""


TRANSFORM_NAMES = ("arkworks", "pure")
DEFAULT_TRANSFORM = "arkworks"
_INSTANCES: dict[str, CosetTransform] = {}


def get_transform(name: str = DEFAULT_TRANSFORM) -> CosetTransform:
    """The transform called ``name`` (one shared instance per name)."""
    if name not in _INSTANCES:
        _INSTANCES[name] = _make(name)
    return _INSTANCES[name]


def _make(name: str) -> CosetTransform:
    if name == "arkworks":
        from prover.ark_transform import ArkTransform

        return ArkTransform()
    if name == "pure":
        return PureTransform()
    raise UnknownTransformError(f"unknown transform {name!r}; choose one of {TRANSFORM_NAMES}")
