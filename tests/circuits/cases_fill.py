"""Cases of ``test_necessity`` for a create order's filling branch and the fill unit of its
first step (``circuits/ops/create_order.py``, ``circuits/ops/fill_unit.py``): for each
constraint, a witness that it alone refuses (``tests/circuits/violations.py``), or, in
``FILL_GUARDED``, a witness and the other constraints that refuse it too."""

from __future__ import annotations

from collections.abc import Callable

from tests.circuits.violations import Violation

FILL_CASES: dict[str, Callable[[], Violation]] = {}

FILL_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {}
