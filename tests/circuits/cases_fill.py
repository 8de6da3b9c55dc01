"""Cases of ``test_necessity`` for create order's filling branch and the fill unit's checks
(``circuits/ops/fill_unit.py``): maker, priority, open interest, the maker's order."""

from __future__ import annotations

from collections.abc import Callable

from tests.circuits.violations import Violation

FILL_CASES: dict[str, Callable[[], Violation]] = {}

FILL_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {}

FILL_FAMILIES: set[str] = set()
