"""What fixes a deployment's genesis: the preset, the chain id and the owners of the reserved
accounts. The operator, the reconstruction tool and the exit tool must all start from the same
genesis state; its root is what the rollup contract was deployed with (batch 0), and they check
it against L1 before trusting anything else.

The money path has no markets yet, so the genesis has none; ``RollupConfig`` is the one place to
add them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from protocol.accounts import NO_ADDRESS
from protocol.commitment import update_state_root
from protocol.params import Preset
from protocol.state import State, make_genesis


@dataclass(frozen=True)
class RollupConfig:
    """A deployment's genesis parameters (JSON round-trips through ``to_json``/``from_json``)."""

    preset: Preset
    chain_id: int
    fee_owner: bytes = NO_ADDRESS

    def make_genesis(self, check_signatures: bool = True) -> State:
        """The genesis state; reconstruction from pubdata, which carries no signatures, turns
        ``check_signatures`` off (the proofs checked them)."""
        return make_genesis(
            self.preset, self.chain_id, (), fee_owner=self.fee_owner,
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
