"""A hypothesis state machine over the whole exchange: random deposits, withdrawals,
transfers, orders of every kind, cancels, modifies, oracle moves, time (premium samples and
funding), liquidations, takeovers, deleverages, pool shares and triggers. After every step:

- collateral is conserved exactly: deposits - withdrawals = the sum of all collateral (user
  accounts, fees, insurance fund and funding pool);
- long open interest == short open interest == the market's open interest;
- the book is never crossed and orders within a price keep arrival (key) order;
- funding sums to zero: the funding pool's balance plus the exact unsettled funding of every
  position equals the accumulated rounding, between 0 and the number of settlements (one per
  side of each trade, takeover or deleverage: a settlement that rounds to 0 moves no money and
  emits no ``FundingSettled``, yet it leaves its rounding in the pool);
- a rejected operation leaves the state byte-for-byte unchanged;
- no account without a position is charged but by its own signed operation; a liquidation
  only adds to the insurance fund, and a takeover leaves it at or above its MMR;
- a deleverage round touches only the holders of the opposite side (nobody else), each taking
  its pro-rata share rounded down (up, capped, in the fund's own round; a lot fewer where it
  keeps a debt with a position), and leaves the fund no more lots than holders served;
- with the liquidation passes run to the end, no account without a position (the fund
  included) is negative, and what all accounts could exit with in desert mode adds up to no
  more than the rollup holds. Crashes and spikes (-95%, -80%, +150%), a fund that starts with
  0.1 USDC and account 7's leveraged long against a short reach shorts with negative cash (no
  price >= 0 covers them: their round's price is negative).
And at the end, replaying the recorded blocks from genesis gives the same state.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import event as record_event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from protocol.accounts import FUNDING_POOL, INSURANCE_FUND, RESERVED_ACCOUNTS
from protocol.errors import InvalidTransaction
from protocol.events import Deleveraged, Deposited, Event, PositionTakenOver, Trade, Withdrawn
from protocol.exits import compute_exit_amount
from protocol.liquidation import (
    is_takeover_possible,
    list_round_counterparties,
)
from protocol.markets import MarketParams
from protocol.ops.burn_shares import BurnShares
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.deleverage import Deleverage
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.ops.deleverage_step import DeleverageStep
from protocol.ops.deposit import Deposit
from protocol.ops.liquidate import Liquidate
from protocol.ops.mint_shares import MintShares
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.takeover import Takeover
from protocol.ops.transfer import Transfer
from protocol.ops.trigger_order import FireTrigger
from protocol.ops.withdraw import Withdraw
from protocol.risk import Health, compute_risk
from protocol.snapshot import encode_state
from protocol.types import FUNDING_INDEX_SCALE, PPM
from tests.protocol.helpers import Env, owner_of, total_collateral

PARAMS = MarketParams(  # the oracle moves up to +150 % at once (oracle_move)
    price_band=300_000, impact_notional=50_000, max_open_interest=400, max_price_move=2 * PPM
)
USERS = list(range(3, 9))
users = st.sampled_from(USERS)
markets = st.sampled_from([0, 1])


def label(name: str) -> None:
    """Counts ``name`` in hypothesis's statistics; nothing when the machine runs outside a
    test (tests/protocol/engine_trace.py steps it with its own random choices)."""
    with contextlib.suppress(InvalidArgument):
        record_event(name)


class Exchange(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.env = Env(params=PARAMS)
        self.deposited = self.withdrawn = self.settlements = 0
        for user in USERS:
            self.observe(self.env.run(Deposit(user, owner_of(user), 300_000)))
            self.env.open(user, 1)
            self.deposited += 1
        self.apply(self.env.signed(MintShares, USERS[0], amount=100_000))
        # 7: a leveraged long in market 0 bought with more than its money and the proceeds of
        # a short in market 1 (negative cash): a crash of market 0 leaves a short with negative
        # cash once the long is deleveraged
        trades = ((3, 4, 0, 100), (5, 6, 1, 300), (6, 3, 0, 20), (7, 8, 0, 70), (8, 7, 1, 80))
        for buyer, seller, market, size in trades:
            price = self.env.state.markets[market].data.index_price
            assert self.apply(self.env.order(seller, market, True, price, size))
            assert self.apply(self.env.order(buyer, market, False, price, size))

    # -- plumbing ---------------------------------------------------------------------------

    def observe(self, events: tuple[Event, ...] | list[Event]) -> None:
        for event in events:
            if isinstance(event, Deposited):
                self.deposited += event.amount
            elif isinstance(event, Withdrawn):
                self.withdrawn += event.amount
            elif isinstance(event, Trade | PositionTakenOver | Deleveraged):
                self.settlements += 2  # each side's position settles first

    def apply(self, op: object) -> bool:
        before = self.env.snapshot()
        flat = self.get_flat_collateral()
        fund_gain = compute_risk(self.env.state.accounts[INSURANCE_FUND], self.env.state.markets)
        try:
            events = self.env.run_steps(op)
        except InvalidTransaction:
            assert self.env.snapshot() == before
            return False
        self.observe(events)
        # no account without a position is ever charged, except by its own signed operation
        # (a withdrawal, a transfer, a pool-share mint): not by a fill, funding or a liquidation
        for index, collateral in self.get_flat_collateral().items():
            if collateral < flat.get(index, collateral):
                assert index == getattr(op, "account", None), f"{op} charged flat {index}"
        fund = compute_risk(self.env.state.accounts[INSURANCE_FUND], self.env.state.markets)
        if isinstance(op, Liquidate):  # the liquidation fee is the fund's: it only gains
            assert fund.tav >= fund_gain.tav
        elif isinstance(op, Takeover):  # the fund absorbs only what leaves it above its MMR
            assert fund.tav >= fund.mmr
        return True

    def get_flat_collateral(self) -> dict[int, int]:
        """The collateral of every account that holds no position (reserved ones apart: the
        funding pool pays funding, the fund pays deficits within its free value, checked in
        ``deleverage``)."""
        return {
            i: a.collateral
            for i, a in self.env.state.accounts.items()
            if i not in RESERVED_ACCOUNTS and not any(p.size for p in a.positions.values())
        }

    def health(self, account: int) -> Health:
        state = self.env.state
        return compute_risk(state.accounts[account], state.markets).health

    # -- money ------------------------------------------------------------------------------

    @rule(user=users, amount=st.integers(1, 200_000))
    def deposit(self, user: int, amount: int) -> None:
        self.apply(Deposit(user, owner_of(user), amount))

    @rule(user=users, amount=st.integers(1, 300_000))
    def withdraw(self, user: int, amount: int) -> None:
        self.apply(self.env.signed(Withdraw, user, amount=amount))

    @rule(a=users, b=users, amount=st.integers(1, 100_000))
    def transfer(self, a: int, b: int, amount: int) -> None:
        self.apply(self.env.signed(Transfer, a, to=b, amount=amount))

    @rule(user=users, amount=st.integers(1, 50_000), burn=st.booleans())
    def pool_shares(self, user: int, amount: int, burn: bool) -> None:
        if burn:
            self.apply(self.env.signed(BurnShares, user, shares=amount))
        else:
            self.apply(self.env.signed(MintShares, user, amount=amount))

    # -- orders -----------------------------------------------------------------------------

    @rule(
        user=users,
        market=markets,
        is_ask=st.booleans(),
        offset=st.integers(-60, 60),
        size=st.integers(1, 12),
        style=st.sampled_from(["gtc", "ioc", "post", "market", "reduce", "stop"]),
    )
    def order(
        self, user: int, market: int, is_ask: bool, offset: int, size: int, style: str
    ) -> None:
        index = self.env.state.markets[market].data.index_price
        price = max(1, index + offset * index // 1_000)
        styles: dict[str, dict[str, object]] = {
            "gtc": {},
            "ioc": {"time_in_force": 2},
            "post": {"time_in_force": 3},
            "market": {"kind": 1, "time_in_force": 2},
            "reduce": {"reduce_only": True, "time_in_force": 2},
            "stop": {"kind": 2, "time_in_force": 2, "reduce_only": True, "trigger_price": price},
        }
        self.apply(self.env.order(user, market, is_ask, price, size, **styles[style]))

    @rule(user=users, market=markets, spread=st.integers(1, 30), size=st.integers(1, 15))
    def quote(self, user: int, market: int, spread: int, size: int) -> None:
        """A market maker's two-sided quote around the index (spread in per mille)."""
        index = self.env.state.markets[market].data.index_price
        self.apply(self.env.order(user, market, False, index - spread * index // 1_000, size))
        self.apply(self.env.order(user, market, True, index + spread * index // 1_000, size))

    @rule(user=users, market=markets, is_ask=st.booleans(), size=st.integers(1, 30))
    def take(self, user: int, market: int, is_ask: bool, size: int) -> None:
        worst = 1 if is_ask else (1 << 16) - 1
        self.apply(self.env.order(user, market, is_ask, worst, size, kind=1, time_in_force=2))

    @rule(user=users, data=st.data())
    def cancel_or_modify(self, user: int, data: st.DataObject) -> None:
        refs = sorted(self.env.state.accounts[user].orders)
        if not refs:
            return
        kind, market, key = data.draw(st.sampled_from(refs))
        if data.draw(st.booleans()) and kind == 0:
            order = self.env.state.markets[market].book.orders[key]
            price = order.price + data.draw(st.integers(-20, 20))
            size = data.draw(st.integers(1, 12))
            self.apply(
                self.env.signed(ModifyOrder, user, market=market, key=key, price=price, size=size)
            )
        else:
            self.apply(
                self.env.signed(CancelOrder, user, market=market, key=key, is_trigger=kind == 1)
            )

    @rule(user=users)
    def cancel_all(self, user: int) -> None:
        self.apply(self.env.signed(CancelAll, user))

    # -- the world moves --------------------------------------------------------------------

    @rule(market=markets, percent=st.integers(-30, 30) | st.sampled_from([-95, -80, 150]))
    def oracle_move(self, market: int, percent: int) -> None:
        index = self.env.state.markets[market].data.index_price
        assert self.apply_preexecution(market, max(50, min(60_000, index * (100 + percent) // 100)))
        self.liquidations()  # what the sequencer does after a price update

    @rule(seconds=st.integers(1, 5_000))
    def time_passes(self, seconds: int) -> None:
        self.env.next_block(self.env.state.timestamp + seconds)
        for market in (0, 1):
            assert self.apply_preexecution(market, self.env.state.markets[market].data.index_price)
        self.fire_triggers()
        self.liquidations()

    def apply_preexecution(self, market: int, price: int) -> bool:
        return self.apply(self.env.signed_price(market, price))

    @rule()
    def fire_triggers(self) -> None:
        for market in self.env.state.markets:
            mark = market.data.mark_price
            for trigger_id in sorted(market.triggers):
                if market.triggers[trigger_id].is_triggered(mark):
                    assert self.apply(FireTrigger(market.index, trigger_id))

    @rule()
    def liquidations(self) -> None:
        """The sequencer's liquidation passes, until one changes nothing."""
        for _ in range(8):
            before = self.env.snapshot()
            self.liquidation_pass()
            if self.env.snapshot() == before:
                return

    def liquidation_pass(self) -> None:
        for user in USERS:
            health = self.health(user)
            account = self.env.state.accounts[user]
            if health == Health.PARTIAL_LIQUIDATION:
                market = min(m for m, p in account.positions.items() if p.size)
                assert self.apply(Liquidate(user, market, abs(account.get_size(market))))
            elif health >= Health.FULL_LIQUIDATION and is_takeover_possible(
                self.env.state, account
            ):
                assert self.apply(Takeover(user))
            elif health == Health.BANKRUPT:
                self.deleverage(user)
        if self.health(INSURANCE_FUND) == Health.BANKRUPT:  # the fund's positions, once it is
            self.deleverage(INSURANCE_FUND)  # bankrupt, are deleveraged like any account's

    def deleverage(self, user: int) -> None:
        """The bankrupt account's rounds (PROTOCOL 7.4), one market after another, each run to
        its end: every opposite holder takes its pro-rata share, nobody else is touched."""
        state = self.env.state
        account = state.accounts[user]
        for market in sorted(m for m, p in account.positions.items() if p.size):
            if compute_risk(account, state.markets).tav >= 0 or (
                user != INSURANCE_FUND and is_takeover_possible(state, account)
            ):
                return
            size = account.get_size(market)
            bystanders = {
                i: (a.collateral, [(m, p.size) for m, p in sorted(a.positions.items())])
                for i, a in state.accounts.items()
                if i not in (user, FUNDING_POOL, INSURANCE_FUND)
                and (a.get_size(market) > 0) == (size > 0)
            }
            assert self.apply(Deleverage(user, market))
            total = state.markets[market].data.open_interest
            served = 0
            for other in list_round_counterparties(state, state.markets[market]):
                held = state.accounts[other].get_size(market)
                assert self.apply(DeleverageStep(market, other))
                took = abs(held) - abs(state.accounts[other].get_size(market))
                exact = abs(size) * abs(held)
                if user == INSURANCE_FUND:  # rounded up, capped by the lots left
                    assert took <= -(-exact // total)
                else:  # rounded down, or a lot fewer to keep a debt with a position
                    assert took in (exact // total, exact // total - 1)
                served += 1
            moved_before = state.markets[market].data.adl_moved
            assert self.apply(DeleverageEnd(market))
            if user != INSURANCE_FUND:  # the fund takes the floors' remainder only
                assert abs(size) - moved_before <= served
            label("deleverage round" + (" of the fund" if user == INSURANCE_FUND else ""))
            for i, before in bystanders.items():
                a = state.accounts[i]
                assert before == (
                    a.collateral,
                    [(m, p.size) for m, p in sorted(a.positions.items())],
                )

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def collateral_is_conserved(self) -> None:
        total = total_collateral(self.env.state)
        assert total == self.deposited - self.withdrawn

    @invariant()
    def open_interest_balances(self) -> None:
        for market in self.env.state.markets:
            sizes = [a.get_size(market.index) for a in self.env.state.accounts.values()]
            assert sum(s for s in sizes if s > 0) == -sum(s for s in sizes if s < 0)
            assert sum(s for s in sizes if s > 0) == market.data.open_interest

    @invariant()
    def book_is_uncrossed_and_fifo(self) -> None:
        assert self.env.state.pending is None
        for market in self.env.state.markets:
            book = market.book
            bid, ask = book.best(False), book.best(True)
            assert bid is None or ask is None or bid.price < ask.price
            asks = [o.key for o in book.iter_side(True)]
            bids = [o.key for o in book.iter_side(False)]
            assert asks == sorted(asks) and bids == sorted(bids, reverse=True)

    @invariant()
    def funding_sums_to_zero(self) -> None:
        state = self.env.state
        unsettled = Fraction(0)
        for account in state.accounts.values():
            for m, position in account.positions.items():
                delta = state.markets[m].data.funding_index - position.funding_index
                unsettled += Fraction(position.size * delta, FUNDING_INDEX_SCALE)
        dust = state.accounts[FUNDING_POOL].collateral + state.accrued_funding + unsettled
        assert 0 <= dust <= self.settlements

    @invariant()
    def exits_never_exceed_the_rollups_usdc(self) -> None:
        """With every liquidation done, what all accounts could exit with in desert mode
        (PROTOCOL 9.4) adds up to no more than the rollup holds: no debt is left behind."""
        state = self.env.state
        for account in state.accounts.values():
            if account.index != FUNDING_POOL and not any(
                p.size for p in account.positions.values()
            ):
                assert account.collateral >= 0, f"{account.index} owes {account.collateral}"
        total = sum(compute_exit_amount(state, index) for index in state.accounts)
        assert total <= self.deposited - self.withdrawn

    def teardown(self) -> None:
        self.env.end_block()  # as the replay ends it
        assert encode_state(self.env.replay()) == encode_state(self.env.state)


Exchange.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestExchange = Exchange.TestCase
