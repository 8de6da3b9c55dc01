"""L1 gas of every user- and operator-facing call, measured on the devnet; the batch calls on
both data paths (calldata, blobs: PROTOCOL 9.9).

``python -m tests.contracts.gas`` starts its own Anvil and prints the table of
docs/PERFORMANCE.md ("L1 gas"); tests/contracts/test_gas.py re-measures and checks the table.
Figures are a transaction's gasUsed (21000 intrinsic and calldata included). Where a cost
grows with the batch, it is split into a fixed part and a part per item, from two batches
that differ only in that item.
"""

from __future__ import annotations

from web3 import Web3

from protocol.blob import DataAvailability
from protocol.params import DEVNET
from scripts import chain, devnet
from tests.contracts.support import USDC, Rollup, deploy, withdraw_record

GasRow = tuple[str, int]


def _forced_requests(env: Rollup) -> list[GasRow]:
    f, alice = env.rollup.functions, env.users[0]
    calls = [
        ("register L2 key (`registerL2Key`)", f.registerL2Key(1, b"\x01" * 32)),
        ("forced withdraw (`requestForcedWithdraw`)", f.requestForcedWithdraw(1, USDC)),
        ("forced cancel-all (`requestForcedCancelAll`)", f.requestForcedCancelAll(1)),
        ("forced order (`requestForcedOrder`)", f.requestForcedOrder(1, 1, 3, 500, 10)),
        ("forced pool-share burn (`requestForcedBurn`)", f.requestForcedBurn(1, 7)),
    ]
    rows = []
    for name, call in calls:
        rows.append((name, env.queue(call, alice)["gasUsed"]))
        env.process(env.records_for(len(env.requests) - 1, 1))  # frees the account's slot
    return rows


L2_RECORD = bytes([3]) + bytes(range(1, 64))  # a transfer's size: the contract reads none of it


def _batches(env: Rollup, wide: Rollup) -> list[GasRow]:
    """The batch rows of ``env``'s data path (``wide``: the same path at the devnet preset)."""
    path = env.data.value
    bob = env.users[1]
    for _ in range(4):
        env.deposit(bob, 2, 2 * USDC)
    wide.commit([])  # (the first batch writes counters from zero: not a slot's cost)
    wide.commit([])
    empty = env.commit([])
    four_priority = env.commit(env.records_for(len(env.requests) - 4, 4))
    fresh = env.users[2:6]  # four owners with no pending balance yet: the worst case
    four_withdrawals = env.commit([withdraw_record(1, owner, USDC) for owner in fresh])
    one_l2 = env.commit([L2_RECORD])
    four_l2 = env.commit([L2_RECORD] * 4)
    commit_empty, commit_priority, commit_withdrawals, commit_one, commit_four = env.gas[-5:]
    slots = wide.preset.ops_per_block - env.preset.ops_per_block
    verify = env.verify(empty)["gasUsed"]
    for batch in (four_priority, four_withdrawals, one_l2, four_l2):
        env.verify(batch)
    execute_empty = env.execute(empty)["gasUsed"]
    env.execute(four_priority)
    execute_four = env.execute(four_withdrawals)["gasUsed"]
    env.execute(one_l2)
    env.execute(four_l2)
    per_execute = (execute_four - execute_empty) // 4
    env.commit([], prove=True)
    one_call = env.gas[-1]
    fresh = [f"0x{0xFEE0 + i:040x}" for i in range(3)]  # owners with no pending balance yet
    env.commit([withdraw_record(1, owner, USDC) for owner in fresh], prove=True)
    per_one_call = (env.gas[-1] - one_call) // 3
    return [
        (f"{path}: commit, fixed ({env.preset.ops_per_block} empty slots)", commit_empty),
        (f"{path}: commit, per empty slot", (wide.gas[-1] - commit_empty) // slots),
        (f"{path}: commit, per L2 record (64 non-zero bytes)", (commit_four - commit_one) // 3),
        (f"{path}: commit, per priority record", (commit_priority - commit_empty) // 4),
        (f"{path}: commit, per L1 withdrawal record", (commit_withdrawals - commit_empty) // 4),
        (f"{path}: verify (`verifyBatch`: Groth16, 6 inputs)", verify),
        (f"{path}: execute, fixed (`executeBatch`)", execute_empty),
        (f"{path}: execute, per withdrawal (new pending balance)", per_execute),
        (f"{path}: commit + verify + execute, one call (`commitVerifyExecuteBatch`)", one_call),
        (f"{path}: one call, per L1 withdrawal (new pending balance)", per_one_call),
    ]


def _desert(env: Rollup) -> list[GasRow]:
    f, alice, bob = env.rollup.functions, env.users[0], env.users[1]
    env.process([withdraw_record(1, alice, 2 * USDC)])
    withdraw = env.send(f.withdrawPendingBalance(alice), alice)["gasUsed"]
    depositors = env.users[4:9]  # distinct, so each refund credits a new pending balance
    for i, depositor in enumerate(depositors):
        env.deposit(depositor, 4 + i, USDC)
    activate = env.expire_and_activate()["gasUsed"]
    proof = env.exit_proof(1, alice, USDC)
    exit_ = env.send(f.performDesert(1, alice, USDC, proof), bob)["gasUsed"]
    first = int(f.desertRefundCursor().call())
    one = env.send(f.cancelOutstandingDeposits(1, env.requests[first : first + 1]), bob)
    four = env.send(f.cancelOutstandingDeposits(4, env.requests[first + 1 : first + 5]), bob)
    per_refund = (four["gasUsed"] - one["gasUsed"]) // 3
    return [
        ("withdraw pending balance (`withdrawPendingBalance`)", withdraw),
        ("desert activation (`activateDesertMode`)", activate),
        ("exit (`performDesert`: Groth16, 4 inputs)", exit_),
        ("refund, fixed (`cancelOutstandingDeposits`)", one["gasUsed"] - per_refund),
        ("refund, per deposit", per_refund),
    ]


def _funded(env: Rollup) -> Rollup:
    env.deposit(env.users[0], 1, 10 * USDC)
    env.process(env.records_for(0, 1))
    return env


def measure(w3: Web3) -> list[GasRow]:
    """Every row of the table, on fresh deployments (minimal preset; devnet for one row)."""
    snap = chain.snapshot(w3)
    try:
        env, wide = deploy(w3), deploy(w3, DEVNET)
        alice = env.users[0]
        first = env.deposit(alice, 1, 10 * USDC)["gasUsed"]
        again = env.deposit(alice, 1, 10 * USDC)["gasUsed"]
        env.process(env.records_for(0, 2))
        rows = [("deposit, new account", first), ("deposit, existing account", again)]
        rows += _forced_requests(env)
        rows += _batches(env, wide)
        rows += _desert(env)
        blobs = DataAvailability.BLOBS
        rows += _batches(_funded(deploy(w3, data=blobs)), deploy(w3, DEVNET, data=blobs))
        return rows
    finally:
        chain.revert(w3, snap)


def render_table(rows: list[GasRow]) -> str:
    lines = ["| operation | gas |", "|---|---:|"]
    lines += [f"| {name} | {gas:,} |" for name, gas in rows]
    return "\n".join(lines)


def main() -> None:
    with devnet.running() as net:
        print(render_table(measure(chain.connect(net.rpc_url))))


if __name__ == "__main__":
    main()
