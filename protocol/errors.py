"""The typed errors of the rules: an operation either applies completely or raises one of these,
and then the state is exactly what it was before (``protocol.state.State.transaction``).

``InvalidTransaction`` is the root for everything one operation can do wrong; ``InvalidBlock``
is for a block as a whole (time going backwards, too many operations, matching left unfinished).
"""

from __future__ import annotations


class InvalidTransaction(Exception):
    """An operation the rules reject; the state is left unchanged."""


class AmountOutOfRange(InvalidTransaction):
    """An amount outside its declared width (or zero where a positive amount is required)."""


class MalformedTransaction(InvalidTransaction):
    """A field with a value the operation does not allow (unknown kind, bad flag combination)."""


class UnknownAccount(InvalidTransaction):
    """The account index is outside the tree or no account lives there."""


class ReservedAccount(InvalidTransaction):
    """The operation is not allowed on a reserved account (insurance fund, fee account)."""


class KeyNotRegistered(InvalidTransaction):
    """A signed operation for an account that has no L2 key."""


class InvalidSignature(InvalidTransaction):
    """The signature does not verify under the account's L2 key."""


class InvalidOracleSignature(InvalidSignature):
    """An index price not signed by the market's oracle key (or the market has none)."""


class StalePrice(InvalidTransaction):
    """An index price older than the market's ``max_price_age``, or from after the block."""


class PriceMoveTooLarge(InvalidTransaction):
    """An index price further from the market's index than its ``max_price_move``."""


class InvalidNonce(InvalidTransaction):
    """The transaction nonce is not the account's next nonce."""


class Expired(InvalidTransaction):
    """The transaction (or order) expired before the block's timestamp."""


class RiskCheckFailed(InvalidTransaction):
    """The valid-risk-change rule rejects the change (margin, health)."""


class InsufficientShares(InvalidTransaction):
    """Burning more pool shares than the account holds, or minting a zero-share amount."""


class PendingTaker(InvalidTransaction):
    """A taker is still matching (only claims may follow), or a claim has no taker to continue."""


class LiquidationNotAllowed(InvalidTransaction):
    """The account is not in the health state this liquidation step requires."""


class DeleverageNotAllowed(InvalidTransaction):
    """Deleveraging rules not met (not bankrupt, fund can still absorb, wrong counterparty)."""


class MarketDeleveraging(InvalidTransaction):
    """The market has an open deleverage round: no position in it moves but the round's."""


class TooManySteps(InvalidTransaction):
    """An order whose taker needs more claims than a block has slots (the sequencer's limit:
    ``block.process_operation_with_claims``; the rules never raise it)."""


class InvalidOrder(InvalidTransaction):
    """An order the market's rules reject."""


class UnknownMarket(InvalidOrder):
    """The market index does not exist."""


class UnknownOrder(InvalidOrder):
    """No such resting or trigger order."""


class NotOrderOwner(InvalidOrder):
    """The order belongs to another account."""


class BelowMinOrderSize(InvalidOrder):
    """The order is smaller than the market's minimum size."""


class TooManyOpenOrders(InvalidOrder):
    """The account already has the preset's maximum number of open orders."""


class PriceOutOfBand(InvalidOrder):
    """The limit (or worst) price is outside the band around the index price."""


class OpenInterestLimit(InvalidOrder):
    """The fill would push the market's open interest over its maximum."""


class PostOnlyWouldCross(InvalidOrder):
    """A post-only order would take liquidity."""


class ReduceOnlyViolation(InvalidOrder):
    """A reduce-only order would open or increase a position."""


class OrderBookFull(InvalidOrder):
    """The side's order nonces are exhausted."""


class TriggerNotReached(InvalidOrder):
    """A stop-loss / take-profit trigger whose condition on the mark price does not hold."""


class InvalidBlock(Exception):
    """A block that is not valid as a whole; process_block leaves the state unchanged."""
