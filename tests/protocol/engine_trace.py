"""A fingerprint of everything the engine computes on a fixed workload, printed so that two
processes (the interpreted rules and the compiled ones) can be compared line by line.

    ZKPERP_ENGINE=pure|compiled python -m tests.protocol.engine_trace [RUNS]

First line: which engine ran. Then one line per run of the exchange state machine's rules
(``test_state_machine``: every operation type, liquidations, takeovers, deleverages, funding,
triggers) with arguments from a seeded generator: how many operations it applied and a hash of
each operation, of its events or the type and message of its rejection (enum members as ints:
``canonical``), of the state's encoding after it, and of the state root at the end. Then the
same for the engine benchmark's workload at the ``mainnet`` widths; last, how many operations of
each type the state machine's runs applied.
"""

from __future__ import annotations

import hashlib
import random
import sys
from collections import Counter
from dataclasses import fields, is_dataclass
from enum import IntEnum

import protocol
from bench.engine import Workload, make_state
from protocol.block import process_operation_with_claims
from protocol.commitment import update_state_root
from protocol.errors import InvalidTransaction
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.modify_order import ModifyOrder
from protocol.snapshot import encode_state
from protocol.state import State
from tests.protocol.test_state_machine import USERS, Exchange


def canonical(value: object) -> object:
    """``value`` with every enum member as its plain int: a compiled dataclass stores an
    IntEnum field as an int (equal to the member, and a decoded operation holds ints too)."""
    if isinstance(value, IntEnum):
        return int(value)
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *(canonical(getattr(value, f.name)) for f in fields(value)))
    if isinstance(value, tuple | list):
        return (type(value).__name__, *(canonical(v) for v in value))
    return value


class Trace:
    def __init__(self) -> None:
        self.digest, self.count = hashlib.sha256(), 0

    def add(self, *parts: object) -> None:
        self.digest.update(repr(canonical(parts)).encode())
        self.count += 1

    def line(self, name: str) -> str:
        return f"{name}: {self.count} operations {self.digest.hexdigest()[:32]}"


def outcome(state: State, op: object) -> object:
    try:
        return process_operation_with_claims(state, op)  # type: ignore[arg-type]
    except InvalidTransaction as error:
        return (type(error).__name__, str(error))


TRACES: list[Trace] = []  # one per run
APPLIED: Counter[str] = Counter()  # operations the rules accepted, by type


class TracedExchange(Exchange):
    """The state machine, recording every operation it applies into ``TRACES[-1]``."""

    def __init__(self) -> None:
        TRACES.append(Trace())
        super().__init__()

    def apply(self, op: object) -> bool:
        try:
            events = self.env.run_with_claims(op)
        except InvalidTransaction as error:
            TRACES[-1].add(op, type(error).__name__, str(error), encode_state(self.env.state))
            return False
        self.observe(events)
        TRACES[-1].add(op, events, encode_state(self.env.state))
        APPLIED[type(op).__name__] += 1
        return True

    def teardown(self) -> None:
        TRACES[-1].add("root", update_state_root(self.env.state))


STYLES = ["gtc", "ioc", "post", "market", "reduce", "stop"]


def random_step(machine: TracedExchange, rng: random.Random) -> None:
    """One rule of the state machine with arguments from ``rng`` (hypothesis would choose
    differently in a faster process: its choices are not a function of the seed alone)."""
    user, market, is_ask = rng.choice(USERS), rng.randrange(2), rng.random() < 0.5
    match rng.randrange(12):
        case 0:
            machine.deposit(user, rng.randint(1, 200_000))
        case 1:
            machine.withdraw(user, rng.randint(1, 300_000))
        case 2:
            machine.transfer(user, rng.choice(USERS), rng.randint(1, 100_000))
        case 3:
            machine.pool_shares(user, rng.randint(1, 50_000), is_ask)
        case 4 | 5:
            offset, size = rng.randint(-60, 60), rng.randint(1, 12)
            machine.order(user, market, is_ask, offset, size, rng.choice(STYLES))
        case 6:
            machine.quote(user, market, rng.randint(1, 30), rng.randint(1, 15))
        case 7:
            machine.take(user, market, is_ask, rng.randint(1, 30))
        case 8:
            refs = sorted(machine.env.state.accounts[user].orders)
            if not refs:
                return
            kind, market, key = rng.choice(refs)
            if is_ask and kind == 0:
                price = machine.env.state.markets[market].book.orders[key].price
                price += rng.randint(-20, 20)
                op: object = machine.env.signed(
                    ModifyOrder, user, market=market, key=key, price=price, size=rng.randint(1, 12)
                )
            else:
                op = machine.env.signed(
                    CancelOrder, user, market=market, key=key, is_trigger=kind == 1
                )
            machine.apply(op)
        case 9:
            machine.cancel_all(user)
        case 10:
            machine.oracle_move(market, rng.randint(-30, 30))
        case _:
            machine.time_passes(rng.randint(1, 5_000))


def trace_state_machine(runs: int, steps: int = 60) -> list[str]:
    lines = []
    for run in range(runs):
        rng, machine = random.Random(run), TracedExchange()
        for _ in range(steps):
            random_step(machine, rng)
        machine.teardown()
        lines.append(TRACES[-1].line(f"run {run}"))
    return lines


def trace_workload(orders: int) -> str:
    state, trace = make_state(200), Trace()
    workload = Workload(state, seed=11)
    for _ in range(orders):
        op = workload.next()
        trace.add(op, outcome(state, op))
    trace.add("root", update_state_root(state), encode_state(state))
    return trace.line("benchmark workload")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print("engine:", "compiled" if protocol.ENGINE else "pure", flush=True)
    for line in trace_state_machine(runs):
        print(line, flush=True)
    print(trace_workload(3_000), flush=True)
    print("applied:", " ".join(f"{name}={n}" for name, n in sorted(APPLIED.items())), flush=True)


if __name__ == "__main__":
    main()
