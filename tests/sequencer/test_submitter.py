"""The submitter's copy of the contract's limits matches contracts/Config.sol."""

from __future__ import annotations

import re

from scripts.paths import CONTRACTS
from sequencer.submitter import BATCH_TIMESTAMP_MAX_AGE_S

UNITS_S = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def test_the_commit_window_is_the_contracts() -> None:
    config = (CONTRACTS / "Config.sol").read_text()
    match = re.search(r"constant BATCH_TIMESTAMP_MAX_AGE = (\d+) (\w+);", config)
    assert match is not None
    assert int(match.group(1)) * UNITS_S[match.group(2)] == BATCH_TIMESTAMP_MAX_AGE_S
