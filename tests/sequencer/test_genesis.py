"""The deployments' genesis: the preset's markets, valid at its widths, in the root the
contract is deployed with, and the same configuration read back from JSON."""

from __future__ import annotations

import pytest

from protocol.commitment import update_state_root
from protocol.params import DEVNET, MAINNET, MINIMAL, PRESETS, Preset
from protocol.types import PPM
from sequencer.genesis import GENESIS_MARKETS, RollupConfig


def test_minimal_and_devnet_fill_their_market_trees() -> None:
    assert len(RollupConfig(MINIMAL, 1).markets) == MINIMAL.max_markets == 2
    assert len(RollupConfig(DEVNET, 1).markets) == DEVNET.max_markets == 4
    assert len(RollupConfig(MAINNET, 1).markets) == 4


@pytest.mark.parametrize("preset", PRESETS.values(), ids=lambda p: p.name)
def test_every_market_fits_its_presets_widths(preset: Preset) -> None:
    state = RollupConfig(preset, 1).make_genesis()  # make_genesis validates the parameters
    assert len(state.markets) == len(GENESIS_MARKETS[preset.name])
    for market in state.markets:
        high = market.data.index_price * (PPM + market.params.price_band) // PPM
        assert high < 1 << preset.price_bits
        assert market.params.max_open_interest < 1 << preset.base_amount_bits
        assert market.data.mark_price == market.data.index_price


def test_the_markets_are_in_the_genesis_root_and_survive_the_json() -> None:
    config = RollupConfig(MINIMAL, 31337, b"\x01" * 20)
    again = RollupConfig.from_json(config.to_json())
    assert again == config and again.markets == config.markets
    no_markets = RollupConfig(MINIMAL.with_overrides(name="bare"), 31337, b"\x01" * 20)
    assert no_markets.markets == ()
    assert update_state_root(no_markets.make_genesis()) != config.compute_genesis_root()
