"""Oracle prices: the message an oracle signs for one index price (PROTOCOL 8.23).

For market ``m`` at index price ``p`` observed at ``t`` (unix seconds), on chain ``chain_id``:

    msg = sponge([chain_id, m, p, t], DOMAIN_ORACLE)

signed with EdDSA (``protocol.eddsa``, PROTOCOL 5) under the market's oracle key
(``MarketParams.oracle_x``, ``oracle_y``). The chain id keeps a price from being replayed on
another deployment, the market from being read as another market's, the timestamp from being
replayed once stale (``max_price_age``), and the domain from being read as an L2 transaction.
"""

from __future__ import annotations

from protocol import eddsa
from protocol.jubjub import Point
from protocol.markets import MarketParams
from protocol.poseidon import sponge

DOMAIN_ORACLE = int.from_bytes(b"zkp.orcl", "big")


def compute_price_message(chain_id: int, market: int, price: int, timestamp: int) -> int:
    """The field element the oracle signs for ``price`` of ``market`` at ``timestamp``."""
    return sponge([chain_id, market, price, timestamp], DOMAIN_ORACLE)


def sign_price(
    key: eddsa.SecretKey, chain_id: int, market: int, price: int, timestamp: int
) -> eddsa.Signature:
    """What an oracle does: its signature of one price."""
    return eddsa.sign(key, compute_price_message(chain_id, market, price, timestamp))


def get_oracle_key(params: MarketParams) -> Point:
    return Point(params.oracle_x, params.oracle_y)


def is_signed_price(
    params: MarketParams,
    chain_id: int,
    market: int,
    price: int,
    timestamp: int,
    signature: eddsa.Signature | None,
) -> bool:
    """True when ``signature`` is the market's oracle's over the price (never without a key)."""
    if signature is None:
        return False
    message = compute_price_message(chain_id, market, price, timestamp)
    return eddsa.verify(get_oracle_key(params), message, signature)
