from __future__ import annotations

import pytest

from protocol.params import MINIMAL, PRESETS, UnknownPresetError, get_preset


def test_presets_grow_from_minimal_to_mainnet() -> None:
    small, mid, big = (get_preset(n) for n in ("minimal", "devnet", "mainnet"))
    assert small.account_tree_depth < mid.account_tree_depth < big.account_tree_depth
    assert small.ops_per_block < mid.ops_per_block < big.ops_per_block
    assert small.priority_expiry_seconds <= mid.priority_expiry_seconds
    assert mid.priority_expiry_seconds < big.priority_expiry_seconds


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_widths_fit_in_the_field(name: str) -> None:
    p = get_preset(name)
    # notional = price * size must fit its width; all widths stay well below the 255-bit field
    assert p.quote_amount_bits >= p.price_bits + p.base_amount_bits
    for width in (p.amount_bits, p.collateral_bits, p.quote_amount_bits, p.order_tree_depth):
        assert 0 < width < 250
    assert p.max_accounts == 2**p.account_tree_depth


def test_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(UnknownPresetError, match="minimal, devnet, mainnet"):
        get_preset("tiny")


def test_overrides_are_checked() -> None:
    assert MINIMAL.with_overrides(priority_expiry_seconds=5).priority_expiry_seconds == 5
    with pytest.raises(UnknownPresetError):
        MINIMAL.with_overrides(no_such_field=1)
