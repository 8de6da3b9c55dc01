"""`zkperp demo` (`make demo`): the whole rollup on a fresh devnet, then the escape hatch.

1. A devnet comes up; the block and exit circuits' keys are set up (once, then cached under
   build/keys) and the rollup is deployed with their real Groth16 verifiers.
2. Four users deposit USDC and register L2 keys (L1 priority requests); the operator proves and
   settles the batches (commit -> verify -> execute), with progress bars.
3. They transfer and withdraw on L2 through the operator's HTTP API (``sequencer.sdk``), as a
   user's program would; more batches. Then limit orders rest on both markets' books, one user
   changes its leverage, two orders trade against resting ones (a limit sell that takes a
   whole bid and whose claim rests the rest, and a market buy), one user cancels the rest of
   its order and another moves its bid to a new price. The explorer (served by the operator's
   API) shows it all live at the URL printed at the start.
4. The operator stops for good. A user asks for a forced withdrawal and another deposits more;
   time passes the deadline, anyone activates desert mode, the queued deposit is refunded, and
   every user rebuilds the state from L1 alone and exits with a proof.
5. A table of every user's L1 balance before and after; the demo fails (exit code 1) unless each
   got exactly what they own: what the operator's last verified state held, plus their L2
   withdrawals and refunded deposits.

``--keep`` leaves the devnet, the operator and its API / explorer running afterwards, until
Ctrl-C.

``--scenario crash`` plays another story instead (``scripts.commands.demo_crash``,
``scripts.crash``): leveraged longs, then ETH falls 25 % over a few blocks, and the operator's
own passes liquidate, take over and deleverage; every block proven and settled on L1; a table
of every account before and after, and the conservation of collateral.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from protocol.blob import DataAvailability
from protocol.eddsa import SecretKey
from protocol.exits import compute_exit_amount
from protocol.jubjub import compress
from protocol.ops.create_order import OrderKind, TimeInForce
from protocol.params import get_preset
from scripts import chain, devnet
from scripts.commands.common import cli_errors
from scripts.commands.operator import KEYS_DIR, ProgressView, deploy_with_circuits
from scripts.deployment import get_validator_key
from scripts.exit import (
    activate_desert_mode,
    exit_account,
    refund_deposits,
    send,
    withdraw_pending_balance,
)
from scripts.reconstruct import reconstruct
from sequencer.api import ApiServer, ServedOperator, serve_operator
from sequencer.genesis import RollupConfig
from sequencer.operator import L1Link, Operator
from sequencer.price_feed import PriceFeed
from sequencer.progress import Progress, ProgressCallback
from sequencer.prover_worker import CircuitProvers
from sequencer.sdk import ApiClient, Wallet
from sequencer.store import Store

console = Console()
USDC = 1_000_000


class Scenario(StrEnum):
    DEFAULT = "default"
    CRASH = "crash"


NAMES = ("alice", "bob", "carol", "dave")


@dataclass
class User:
    name: str
    address: str
    account: int
    key: SecretKey
    before: int = 0
    deposited: int = 0
    withdrawn: int = 0  # L2 withdrawals paid on L1 by executed batches
    refunded: int = 0
    exited: int = 0


@dataclass
class Scene:
    w3: Web3
    rollup: Contract
    token: Contract
    operator: Operator
    provers: CircuitProvers
    users: list[User]
    minter: str  # the operator's L1 account deployed the test token
    api: ApiServer
    timings: dict[str, float] = field(default_factory=dict)

    def send(self, fn: ContractFunction, sender: str, what: str) -> None:
        send(self.w3, fn, sender, what)

    def balance(self, user: User) -> int:
        return int(self.token.functions.balanceOf(user.address).call())

    def deposit(self, user: User, amount: int) -> None:
        self.send(
            self.token.functions.approve(self.rollup.address, amount), user.address, "approve"
        )
        self.send(self.rollup.functions.deposit(user.account, amount), user.address, "deposit")
        user.deposited += amount

    @property
    def api_client(self) -> ApiClient:
        return ApiClient(self.api.url)

    def client(self, user: User) -> Wallet:
        """The user's wallet on the operator's API, over HTTP."""
        return Wallet(
            ApiClient(self.api.url), user.account, user.key, self.operator.config.chain_id
        )

    def settle(self, title: str) -> None:
        start = time.monotonic()
        with ProgressView.make() as view:
            self.operator.report = self.api_report(ProgressView(view))
            while self.operator.step() is not None:
                pass
        self.timings[title] = time.monotonic() - start

    def api_report(self, view: ProgressView) -> ProgressCallback:
        def report(p: Progress) -> None:
            view(p)
            self.api.on_progress(p)

        return report


def setup_scene(
    w3: Web3,
    config: RollupConfig,
    workdir: Path,
    data: DataAvailability = DataAvailability.BLOBS,
    names: tuple[str, ...] = NAMES,
    feed: PriceFeed | None = None,
) -> Scene:
    """The keys, the rollup deployed with them, the operator (at ``feed``'s prices, the
    scripted devnet feed's by default) and its API, and one user per name (L1 accounts 1, 2,
    ..., L2 accounts 3, 4, ..., fresh L2 keys)."""
    start = time.monotonic()
    with console.status("block and exit circuits: loading their keys (set up on the first run)"):
        provers = CircuitProvers.load(config.preset, config.chain_id, KEYS_DIR)
    keys_s = time.monotonic() - start
    deployment = deploy_with_circuits(w3, config, provers, data)
    rollup, token = deployment.get_rollup(w3), deployment.get_token(w3)
    provers.data = data
    key = get_validator_key(deployment.validator)
    link = L1Link(w3, rollup, deployment.validator, deployment.start_block, 0, key)
    store = Store(workdir / "operator.sqlite")
    operator = ServedOperator.open(config, store, link, provers, feed=feed)
    assert isinstance(operator, ServedOperator)
    api = serve_operator(operator, "127.0.0.1", 0)
    console.print(f"explorer: {api.url}/  (API docs at {api.url}/docs)")
    addresses = chain.accounts(w3)[1 : 1 + len(names)]
    users = [
        User(name, address, 3 + i, SecretKey.from_seed(secrets.token_bytes(32)))
        for i, (name, address) in enumerate(zip(names, addresses, strict=True))
    ]
    console.print(f"rollup at {rollup.address} with the real block and exit verifiers")
    scene = Scene(w3, rollup, token, operator, provers, users, deployment.validator, api)
    scene.timings["keys"] = keys_s
    scene.timings["deploy"] = time.monotonic() - start - keys_s
    return scene


def act_on_l2(scene: Scene) -> None:
    """Deposits and keys (batch(es) of priority requests), then transfers and withdrawals."""
    alice, bob, carol, dave = scene.users
    for user, amount in zip(scene.users, (100, 50, 80, 30), strict=True):
        scene.send(scene.token.functions.mint(user.address, 200 * USDC), scene.minter, "mint")
        user.before = scene.balance(user)
        scene.deposit(user, amount * USDC)
        pubkey = compress(user.key.public_key)
        scene.send(scene.rollup.functions.registerL2Key(user.account, pubkey), user.address, "key")
    console.rule("users deposit and register L2 keys")
    scene.settle("deposits and keys")
    console.rule("transfers and withdrawals on L2")
    scene.client(alice).transfer(bob.account, 25 * USDC)
    scene.client(bob).transfer(carol.account, 10 * USDC)
    scene.client(carol).withdraw(30 * USDC)
    scene.client(dave).transfer(alice.account, 5 * USDC)
    scene.client(alice).withdraw(12_500_000)
    scene.client(bob).transfer(dave.account, 1_000 * USDC)  # more than bob has: dropped
    carol.withdrawn, alice.withdrawn = 30 * USDC, 12_500_000
    scene.settle("transfers and withdrawals")
    for seq, error in scene.operator.store.get_dropped().items():
        console.print(f"operator dropped transaction #{seq}: {error}")


def place_orders(scene: Scene) -> None:
    """Limit orders that rest on both markets' books (1 % off the index), a leverage change,
    two takers (one takes a whole maker, and its claim rests what is left), a cancel and a
    modify, proven like the rest."""
    alice, bob, carol, dave = scene.users
    console.rule("orders rest on the books, and trade")
    btc, eth = (scene.api_client.market(m)["index_price"] for m in (0, 1))
    scene.client(alice).place_order(0, True, 2, btc * 101 // 100, client_order_id="alice-ask")
    scene.client(bob).place_order(0, False, 3, btc * 99 // 100, client_order_id="bob-bid")
    scene.client(carol).place_order(1, True, 5, eth * 101 // 100)
    scene.client(dave).place_order(1, False, 5, eth * 99 // 100)
    scene.client(bob).set_leverage(0, 200_000)  # 5x at most on BTC
    scene.settle("orders")
    # takes dave's whole bid, and its claim, the next matching step, rests the last lot
    scene.client(carol).place_order(1, True, 6, eth * 98 // 100)
    market = OrderKind.MARKET
    scene.client(bob).place_order(
        0, False, 1, btc * 102 // 100, market, TimeInForce.IOC, client_order_id="bob-buy"
    )  # takes 1 of alice's ask
    scene.settle("trades")
    for trade in (*scene.api_client.trades(0), *scene.api_client.trades(1)):
        console.print(f"trade: {trade}")
    (ask,) = scene.api_client.account(alice.account)["open_orders"]
    scene.client(alice).cancel_order(0, ask["key"], client_order_id="alice-cancel")
    # a new price: the modify takes the bid off the book, and its claim rests it again
    (bid,) = scene.api_client.account(bob.account)["open_orders"]
    scene.client(bob).modify_order(0, bid["key"], btc * 995 // 1000, 2, "bob-modify")
    scene.settle("a cancel and a modify")
    for market_index in (0, 1):
        book = scene.api_client.book(market_index)
        console.print(f"market {market_index}: bids {book['bids']}, asks {book['asks']}")
        data = scene.api_client.market(market_index)  # the last block's pre-execution's
        console.print(
            f"market {market_index}: index {data['index_price']}, mark {data['mark_price']}, "
            f"funding index {data['funding_index']}"
        )


def escape(scene: Scene, config: RollupConfig) -> None:
    """The operator is gone: forced withdrawal, deadline, desert mode, refunds, exits."""
    alice, bob, carol, dave = scene.users
    console.rule("the operator stops for good")
    start = time.monotonic()
    scene.send(scene.rollup.functions.requestForcedWithdraw(alice.account, 10 * USDC),
               alice.address, "requestForcedWithdraw")  # fmt: skip
    scene.deposit(dave, 15 * USDC)
    chain.increase_time(scene.w3, config.preset.priority_expiry_seconds + 1)
    console.print(f"{config.preset.priority_expiry_seconds + 1} s pass: the request is overdue")
    activate_desert_mode(scene.w3, scene.rollup, carol.address)
    console.print("carol activated desert mode")
    for owner, amount in refund_deposits(scene.w3, scene.rollup, bob.address).items():
        refunded = next(u for u in scene.users if u.address == owner)
        refunded.refunded += amount
        console.print(f"{refunded.name}'s queued deposit of {amount / USDC:g} USDC is refunded")
    for user in scene.users:
        rebuilt = reconstruct(scene.w3, scene.rollup, config)
        result = exit_account(scene.w3, scene.rollup, rebuilt, user.account, scene.provers,
                              user.address)  # fmt: skip
        user.exited = result.amount
        withdraw_pending_balance(scene.w3, scene.rollup, user.address, user.address)
        console.print(
            f"{user.name} rebuilt the state from L1 (batch {rebuilt.batch_number}) and exited "
            f"with {result.amount / USDC:g} USDC"
        )
    scene.timings["escape hatch"] = time.monotonic() - start


def report(scene: Scene, owned: dict[int, int]) -> bool:
    """The before/after table; True if every user got exactly what they own."""
    table = Table(title="L1 USDC balances", box=box.SIMPLE, padding=(0, 1, 0, 0))
    for column in ("user", "before", "deposited", "on L2", "withdrawn", "refunded", "after",
                   "expected", "ok"):  # fmt: skip
        table.add_column(column, justify="right")
    ok = True
    for u in scene.users:
        after = scene.balance(u)
        expected = u.before - u.deposited + owned[u.account] + u.withdrawn + u.refunded
        good = after == expected and u.exited == owned[u.account]
        ok &= good
        cells = (u.before, u.deposited, owned[u.account], u.withdrawn, u.refunded, after, expected)
        table.add_row(u.name, *(f"{c / USDC:,.2f}" for c in cells), "✓" if good else "✗")
    console.print(table)
    return ok


@cli_errors
def demo(
    preset: Annotated[str, typer.Option(help="minimal | devnet")] = "devnet",
    keep: Annotated[
        bool, typer.Option(help="Leave the devnet, operator and explorer running (Ctrl-C).")
    ] = False,
    data: Annotated[
        DataAvailability,
        typer.Option(help="Where batches post pubdata: EIP-4844 blobs, or calldata."),
    ] = DataAvailability.BLOBS,
    scenario: Annotated[
        Scenario,
        typer.Option(
            help="default: deposits, L2 trading, then the escape hatch; crash: ETH -25 %, "
            "liquidations, takeovers and a deleverage round (devnet preset)."
        ),
    ] = Scenario.DEFAULT,
) -> None:
    """Deposits, transfers, withdrawals, resting orders and trades proven on L1; then every user
    exits in desert mode (``--scenario crash``: a market crash and the operator's liquidations
    instead)."""
    params = get_preset(preset)
    if scenario is Scenario.CRASH:
        from scripts.commands.demo_crash import run_crash_demo  # imports this module

        if not run_crash_demo(params, data):
            raise typer.Exit(1)
        return
    start = time.monotonic()
    console.rule(f"zkperp demo ({params.name} preset)")
    with devnet.running() as net, tempfile.TemporaryDirectory() as tmp:
        w3 = chain.connect(net.rpc_url)
        fee_owner = bytes.fromhex(chain.accounts(w3)[0][2:])  # the operator's fee account
        config = RollupConfig(params, int(w3.eth.chain_id), fee_owner)
        console.print(f"devnet at {net.rpc_url}, chain {net.chain_id}")
        scene = setup_scene(w3, config, Path(tmp), data)
        act_on_l2(scene)
        place_orders(scene)
        state = scene.operator.state
        owned = {u.account: compute_exit_amount(state, u.account) for u in scene.users}
        escape(scene, config)
        ok = report(scene, owned)
        show_costs(scene, time.monotonic() - start)
        if keep:
            keep_running(scene, net.rpc_url)
        scene.api.stop()
    if not ok:
        console.print("[red]some user did not get exactly what they own[/red]")
        raise typer.Exit(1)
    console.print("[green]every user got exactly what they own[/green]")


def show_costs(scene: Scene, wall_s: float) -> None:
    """L1 gas of each batch (commit, verify and execute: one transaction, or three) and the
    demo's wall time."""
    gas = scene.operator.submitter.gas
    table = Table(title="L1 gas per batch", box=box.SIMPLE, padding=(0, 1, 0, 0))
    for column in ("batch", "operations", "L1 calls (gas)", "total", "per op"):
        table.add_column(column, justify="right")
    for block in scene.operator.store.get_blocks():
        ops = block.priority_count + len(block.l2_seqs)
        steps = gas.get(block.number, {})
        calls = ", ".join(f"{step} {g:,}" for step, g in steps.items())
        total = sum(steps.values())
        table.add_row(str(block.number), str(ops), calls, f"{total:,}",
                      f"{total // max(1, ops):,}")  # fmt: skip
    console.print(table)
    phases = ", ".join(f"{name} {s:.0f} s" for name, s in scene.timings.items())
    console.print(f"wall time {wall_s:.0f} s ({phases})")


def keep_running(scene: Scene, rpc_url: str) -> None:
    """The devnet and the operator's API and explorer stay up until Ctrl-C (the rollup is in
    desert mode now: the operator serves what it knows and settles nothing more)."""
    console.print(
        f"kept running: explorer {scene.api.url}/, devnet {rpc_url} (desert mode: nothing "
        "more is settled); Ctrl-C stops"
    )
    try:
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        console.print("stopped")
