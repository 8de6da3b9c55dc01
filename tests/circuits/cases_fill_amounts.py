"""Cases of ``test_necessity`` for the amounts the fill unit picks and writes: the selected
market, the positions, funding and fee rates it reads, each side's position changes."""

from __future__ import annotations

from collections.abc import Callable

from tests.circuits.violations import Violation

FILL_AMOUNTS_CASES: dict[str, Callable[[], Violation]] = {}

FILL_AMOUNTS_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {}

FILL_AMOUNTS_FAMILIES: set[str] = set()
