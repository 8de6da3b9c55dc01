"""Cases of ``test_necessity`` for B's positions and risk in a heavy slot and the running
copies of the fee account's and the funding pool's collateral (``circuits/ops/slot.py``,
``_track_reserved``): for each constraint, a witness that it alone refuses
(``tests/circuits/violations.py``), or, in ``RESERVED_GUARDED``, a witness and the other
constraints that refuse it too."""

from __future__ import annotations

from collections.abc import Callable

from tests.circuits.violations import Violation

RESERVED_CASES: dict[str, Callable[[], Violation]] = {}

RESERVED_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {}
