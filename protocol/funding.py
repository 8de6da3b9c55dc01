"""Index, mark, premium and funding (read-only computations; the pre-execution operation
applies them).

- Impact bid / ask: the average price of selling / buying ``impact_notional`` of quote into the
  book (bid rounded down, ask up); None when the side is too thin.
- Mark price: the median of (index, impact bid, impact ask), a missing impact price replaced by
  the index (PROTOCOL 7.6: moving the mark off the index takes ``impact_notional`` of orders,
  not one lot at the top of the book).
- Premium sample (each minute): ``(max(0, impact_bid - index) - max(0, index - impact_ask))
  * RATE_SCALE / index``, rounded toward zero; a missing impact price counts as the index.
- Hourly rate: ``p = average premium / 8`` (toward zero), ``rate = p + clamp(interest_rate - p,
  -interest_clamp, interest_clamp)``, then clamped to ``[-funding_cap, funding_cap]``.
- Index increment per hour: ``rate * mark * FUNDING_INDEX_SCALE / RATE_SCALE`` (toward zero);
  a position of size ``s`` owes ``s * (F - f) / FUNDING_INDEX_SCALE`` (longs pay when the rate is
  positive), settled lazily (``protocol.positions.settle_funding``).
"""

from __future__ import annotations

from protocol.book import OrderBook
from protocol.markets import Market
from protocol.types import FUNDING_INDEX_SCALE, RATE_SCALE


def _toward_zero(num: int, den: int) -> int:
    q = abs(num) // den
    return q if num >= 0 else -q


def compute_mark_price(market: Market) -> int:
    bid, ask = compute_impact_prices(market)
    return sorted((market.data.index_price, bid, ask))[1]


def compute_impact_price(book: OrderBook, is_ask: bool, notional: int) -> int | None:
    """Average price of taking ``notional`` quote from the ``is_ask`` side (None if too thin)."""
    base = quote = 0
    for order in book.iter_side(is_ask):
        need = notional - quote
        if order.remaining * order.price >= need:
            lots = -(-need // order.price)
            base, quote = base + lots, quote + lots * order.price
            return -(-quote // base) if is_ask else quote // base
        base, quote = base + order.remaining, quote + order.remaining * order.price
    return None


def compute_impact_prices(market: Market) -> tuple[int, int]:
    """The impact bid and ask, a side too thin counting as the index."""
    index, notional = market.data.index_price, market.params.impact_notional
    bid = compute_impact_price(market.book, False, notional)
    ask = compute_impact_price(market.book, True, notional)
    return index if bid is None else bid, index if ask is None else ask


def compute_premium(market: Market) -> int:
    index = market.data.index_price
    bid, ask = compute_impact_prices(market)
    return _toward_zero((max(0, bid - index) - max(0, index - ask)) * RATE_SCALE, index)


def compute_funding_rate(market: Market) -> int:
    params, data = market.params, market.data
    average = _toward_zero(data.premium_sum, data.premium_samples) if data.premium_samples else 0
    premium = _toward_zero(average, 8)
    clamp = params.interest_clamp
    rate = premium + max(-clamp, min(clamp, params.interest_rate - premium))
    return max(-params.funding_cap, min(params.funding_cap, rate))


def compute_funding_increment(rate: int, mark: int) -> int:
    return _toward_zero(rate * mark * FUNDING_INDEX_SCALE, RATE_SCALE)
