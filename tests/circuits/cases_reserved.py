"""Cases of ``test_necessity`` for B's positions and risk in a heavy slot and the running
copies of the fee account's and the funding pool's collateral (``_track_reserved``)."""

from __future__ import annotations

from collections.abc import Callable

from tests.circuits.violations import Violation

RESERVED_CASES: dict[str, Callable[[], Violation]] = {}

RESERVED_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {}

RESERVED_FAMILIES: set[str] = set()
