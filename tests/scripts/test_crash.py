"""The crash scenario of ``zkperp demo --scenario crash`` (``scripts.crash``) on the builder
alone: its blocks liquidate alice against the market maker's bid, hand bob to the insurance
fund and deleverage carol, leave nobody bankrupt, and conserve collateral."""

from __future__ import annotations

import pytest

from protocol.params import DEVNET
from protocol.pubdata import OpType
from scripts.crash import ALICE, BOB, BOTTOM, CAROL, ETH, CrashFeed, RulesVenue, run_crash
from sequencer import builder
from sequencer.genesis import RollupConfig
from tests.sequencer.helpers import CHAIN_ID

CONFIG = RollupConfig(DEVNET, CHAIN_ID)


def test_the_crash_liquidates_takes_over_and_deleverages_and_conserves_collateral() -> None:
    feed = CrashFeed()
    venue = RulesVenue(CONFIG, feed)
    outcome = run_crash(venue, feed)
    assert outcome.missing_paths == []
    assert outcome.is_conserved and outcome.is_healthy_after
    assert venue.state.markets[ETH].data.index_price == BOTTOM
    assert venue.state.markets[ETH].data.adl_account == 0
    for trader in (ALICE, BOB, CAROL):
        assert outcome.before[trader.account].positions == {ETH: trader.size}
        assert outcome.after[trader.account].positions == {}
    # carol's position went to the shorts (the maker and dave), pro rata, and the fund
    assert outcome.count_type(OpType.DELEVERAGE_STEP) == 2
    assert outcome.count_type(OpType.DELEVERAGE_END) == 1


def test_without_the_round_carol_stays_bankrupt_and_the_demo_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo's checks can fail: with the round's operations left out (as while the block
    circuit does not prove them), the deleverage path is missing and carol stays bankrupt."""
    monkeypatch.setattr(builder, "PROVEN_TYPES", builder.PROVEN_TYPES - {OpType.DELEVERAGE})
    feed = CrashFeed()
    outcome = run_crash(RulesVenue(CONFIG, feed), feed)
    assert outcome.missing_paths == ["deleverage round"]
    assert not outcome.is_healthy_after and outcome.is_conserved
