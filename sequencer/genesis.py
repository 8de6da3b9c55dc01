"""What fixes a deployment's genesis: the preset, the chain id and the owners of the reserved
accounts. The operator, the reconstruction tool and the exit tool must all start from the same
genesis state; its root is what the rollup contract was deployed with (batch 0), and they check
it against L1 before trusting anything else.

The markets are the preset's (``GENESIS_MARKETS``): two at ``minimal`` (its market tree holds
two), four at ``devnet`` and ``mainnet``, each with an initial index price that fits the preset's
``price_bits`` with the price band around it. A market is fixed by the preset, so a deployment's
genesis is still the preset, the chain id and the fee account's owner, all three readable from
L1 (``scripts.deployment.Deployment.from_l1``). Units (PROTOCOL 6.1): sizes in lots, prices in
USDC micro-units per lot, so ``price · size`` is the quote; the names and lot sizes are labels
for people, not part of the state.

Each market's oracle key (``MarketParams.oracle_x``, ``oracle_y``; PROTOCOL 6.4, 8.23) is the
deployment's devnet oracle key, derived from the chain id (``get_devnet_oracle_key``), so the
genesis stays a function of what L1 holds; the operator's scripted feed signs with it. Anyone
can derive it, which is what a devnet wants and what a real deployment must not do: there the
oracle's public key would be a deployment parameter, its secret the oracle's alone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from functools import cache
from typing import Any

from protocol.accounts import NO_ADDRESS
from protocol.commitment import update_state_root
from protocol.eddsa import SecretKey
from protocol.markets import MarketParams
from protocol.params import Preset
from protocol.state import State, make_genesis


@dataclass(frozen=True)
class GenesisMarket:
    """A market at genesis: its label, its rules and its first index price."""

    name: str  # e.g. "BTC-PERP (lot 1e-7 BTC)": for people only
    params: MarketParams
    index_price: int  # USDC micro-units per lot


_PARAMS = MarketParams(  # 10x, fees 0.02 % maker / 0.05 % taker, band +-10 %
    max_price_age=60,  # an oracle price at most a minute old
    max_price_move=100_000,  # at most 10 % from the index it replaces
    imf=100_000,
    mmf=50_000,
    cmf=25_000,
    maker_fee=200,
    taker_fee=500,
    price_band=100_000,
    impact_notional=1_000_000_000,  # 1,000 USDC
)
_MAJOR = replace(_PARAMS, imf=50_000, mmf=30_000, cmf=15_000)  # 20x
# prices below 2^16 (minimal) and 2^24 (devnet, mainnet), with the band's +10 % to spare
_MINIMAL_MARKETS = (
    GenesisMarket("BTC-PERP (lot 1e-7 BTC)", _MAJOR, 10_000),  # 100,000 USDC per BTC
    GenesisMarket("ETH-PERP (lot 1e-6 ETH)", _PARAMS, 3_000),  # 3,000 USDC per ETH
)
_DEVNET_MARKETS = (
    GenesisMarket("BTC-PERP (lot 1e-5 BTC)", _MAJOR, 1_000_000),  # 100,000 USDC per BTC
    GenesisMarket("ETH-PERP (lot 1e-4 ETH)", _PARAMS, 300_000),  # 3,000 USDC per ETH
    GenesisMarket("SOL-PERP (lot 1e-3 SOL)", _PARAMS, 150_000),  # 150 USDC per SOL
    GenesisMarket("DOGE-PERP (lot 1 DOGE)", _PARAMS, 200_000),  # 0.20 USDC per DOGE
)
GENESIS_MARKETS: dict[str, tuple[GenesisMarket, ...]] = {
    "minimal": _MINIMAL_MARKETS,
    "devnet": _DEVNET_MARKETS,
    "mainnet": _DEVNET_MARKETS,
}


@cache
def get_devnet_oracle_key(chain_id: int) -> SecretKey:
    """The devnet oracle's signing key on chain ``chain_id`` (module docstring)."""
    person = b"zkperp_devoracle"
    seed = hashlib.blake2b(chain_id.to_bytes(32, "big"), digest_size=32, person=person)
    return SecretKey.from_seed(seed.digest())


def with_oracle(market: GenesisMarket, chain_id: int) -> GenesisMarket:
    key = get_devnet_oracle_key(chain_id).public_key
    return replace(market, params=replace(market.params, oracle_x=key.x, oracle_y=key.y))


@dataclass(frozen=True)
class RollupConfig:
    """A deployment's genesis parameters (JSON round-trips through ``to_json``/``from_json``)."""

    preset: Preset
    chain_id: int
    fee_owner: bytes = NO_ADDRESS

    @property
    def markets(self) -> tuple[GenesisMarket, ...]:
        """The preset's genesis markets (none for a preset without a table), each with the
        deployment's oracle key."""
        return tuple(
            with_oracle(m, self.chain_id) for m in GENESIS_MARKETS.get(self.preset.name, ())
        )

    @property
    def oracle_key(self) -> SecretKey:
        """What the operator's feed signs with (the devnet oracle's key)."""
        return get_devnet_oracle_key(self.chain_id)

    def make_genesis(self, check_signatures: bool = True) -> State:
        """The genesis state; reconstruction from pubdata, which carries no signatures, turns
        ``check_signatures`` off (the proofs checked them)."""
        markets = [(m.params, m.index_price) for m in self.markets]
        return make_genesis(
            self.preset, self.chain_id, markets, fee_owner=self.fee_owner,
            check_signatures=check_signatures,
        )  # fmt: skip

    def compute_genesis_root(self) -> int:
        return update_state_root(self.make_genesis())

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "preset": asdict(self.preset),
            "chain_id": self.chain_id,
            "fee_owner": "0x" + self.fee_owner.hex(),
        }
        return json.dumps(body, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RollupConfig:
        body = json.loads(text)
        return cls(
            Preset(**body["preset"]), int(body["chain_id"]), bytes.fromhex(body["fee_owner"][2:])
        )
