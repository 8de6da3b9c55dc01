"""`zkperp demo --scenario crash`: ``scripts.crash``'s story on a fresh devnet, every block
proven and settled on L1.

1. A devnet comes up with the rollup and its real verifiers (keys cached under build/keys), and
   the operator runs at ``CrashFeed``'s index prices (the other markets stay where they are).
2. The six traders deposit USDC and register keys on L1; through the operator's HTTP API the LP
   mints pool shares (the insurance fund's capital), dave and the market maker rest asks on ETH,
   and alice, bob and carol buy them with leverage.
3. ETH falls 25 % over a few blocks; the market maker bids on the way down; the operator's own
   passes liquidate alice against that bid, hand bob to the fund and deleverage carol.
4. A table of every account before and after (health, TAV, collateral, positions), the fund's
   value, and the checks: every sealed block executed on L1, the three paths happened, nobody
   is left bankrupt, and deposits - withdrawals = the sum of all collateral (fee account,
   funding pool and fund included) = what the rollup contract holds. Exit code 1 otherwise.

Until the block circuit proves the deleverage round (types 26, 29, 30), the operator skips its
pass: the demo then ends with carol bankrupt and fails on that path, by design.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.table import Table

from protocol.accounts import INSURANCE_FUND
from protocol.blob import DataAvailability
from protocol.jubjub import compress
from protocol.params import Preset
from protocol.signing import sign_tx
from protocol.state import State
from scripts import chain, devnet
from scripts.commands.demo import USDC, Scene, User, console, setup_scene, show_costs
from scripts.crash import TRADERS, CrashFeed, CrashOutcome, Trader, run_crash
from sequencer.codec import L2Transaction
from sequencer.genesis import RollupConfig


class DemoVenue:
    """``scripts.crash.Venue`` on the demo's scene: deposits and keys on L1, transactions
    through the operator's API, blocks sealed, proven and settled on L1 (``Scene.settle``)."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.users = {u.account: u for u in scene.users}
        self.settle_s = 0.0

    @property
    def state(self) -> State:
        return self.scene.operator.state

    def user(self, trader: Trader) -> User:
        return self.users[trader.account]

    def open_accounts(self, traders: Sequence[Trader]) -> None:
        scene = self.scene
        for t in traders:
            user = self.user(t)
            scene.send(scene.token.functions.mint(user.address, t.deposit), scene.minter, "mint")
            user.before = scene.balance(user)
            scene.deposit(user, t.deposit)
            pubkey = compress(user.key.public_key)
            register = scene.rollup.functions.registerL2Key(user.account, pubkey)
            scene.send(register, user.address, "key")

    def submit(self, trader: Trader, op: L2Transaction) -> None:
        chain_id = self.scene.operator.config.chain_id
        self.scene.api_client.submit(sign_tx(op, self.user(trader).key, chain_id))

    def settle(self) -> list[tuple[bytes, ...]]:
        store = self.scene.operator.store
        known = len(store.get_blocks())
        start = time.monotonic()
        self.scene.settle("crash")
        self.settle_s += time.monotonic() - start
        return [store.get_block_records(b.number) for b in store.get_blocks()[known:]]


def format_positions(positions: dict[int, int]) -> str:
    return ", ".join(f"m{m}: {size:+,}" for m, size in positions.items()) or "-"


def show_outcome(outcome: CrashOutcome) -> None:
    """Every account before the crash and after it, a row each."""
    names = {INSURANCE_FUND: "insurance fund", **{t.account: t.name for t in TRADERS}}
    table = Table(title="accounts before / after the crash (USDC)", box=box.SIMPLE)
    for column in ("account", "", "health", "TAV", "collateral", "positions (lots)"):
        table.add_column(column, justify="right")
    for index, before in outcome.before.items():
        for when, view in (("before", before), ("after", outcome.after[index])):
            label = f"{index} {names[index]}" if when == "before" else ""
            table.add_row(
                label, when, view.health, f"{view.tav / USDC:,.2f}",
                f"{view.collateral / USDC:,.2f}", format_positions(view.positions),
                end_section=when == "after",
            )  # fmt: skip
    console.print(table)
    fund = outcome.after[INSURANCE_FUND]
    console.print(f"insurance fund: TAV {fund.tav / USDC:,.6f} USDC after the crash")


def check_outcome(scene: Scene, outcome: CrashOutcome) -> list[str]:
    """What went wrong, if anything (module docstring, step 4)."""
    failures = [f"no {path}" for path in outcome.missing_paths]
    if not outcome.is_healthy_after:
        failures.append("an account is left bankrupt")
    if not outcome.is_conserved:
        failures.append(
            f"deposits {outcome.deposited} - withdrawals {outcome.withdrawn} != collateral "
            f"{outcome.total_collateral}"
        )
    held = int(scene.token.functions.balanceOf(scene.rollup.address).call())
    console.print(
        f"deposits {outcome.deposited / USDC:,.6f} - withdrawals {outcome.withdrawn / USDC:,.6f}"
        f" USDC; all collateral (fee account, funding pool, fund included) "
        f"{outcome.total_collateral / USDC:,.6f}; the rollup holds {held / USDC:,.6f}"
    )
    if held != outcome.deposited - outcome.withdrawn:
        failures.append(f"the rollup holds {held}, not the deposits {outcome.deposited}")
    sealed = len(scene.operator.store.get_blocks())
    executed = int(scene.rollup.functions.totalBatchesExecuted().call())
    if executed != sealed:
        failures.append(f"{executed} of {sealed} blocks executed on L1")
    console.print(f"{sealed} blocks sealed, {executed} proven, verified and executed on L1")
    return failures


def run_crash_demo(params: Preset, data: DataAvailability) -> bool:
    """The scenario on a fresh devnet; True if every check passed."""
    if params.name != "devnet":
        console.print("[red]the crash scenario's prices are devnet's: --preset devnet[/red]")
        return False
    start = time.monotonic()
    console.rule("zkperp demo: the crash (devnet preset)")
    with devnet.running() as net, tempfile.TemporaryDirectory() as tmp:
        w3 = chain.connect(net.rpc_url)
        fee_owner = bytes.fromhex(chain.accounts(w3)[0][2:])
        config = RollupConfig(params, int(w3.eth.chain_id), fee_owner)
        feed = CrashFeed()
        names = tuple(t.name for t in TRADERS)
        scene = setup_scene(w3, config, Path(tmp), data, names, feed)
        assert [u.account for u in scene.users] == [t.account for t in TRADERS]
        venue = DemoVenue(scene)
        outcome = run_crash(venue, feed)
        scene.timings.pop("crash", None)
        scene.timings["blocks"] = venue.settle_s
        show_outcome(outcome)
        failures = check_outcome(scene, outcome)
        show_costs(scene, time.monotonic() - start)
        scene.api.stop()
    for failure in failures:
        console.print(f"[red]{failure}[/red]")
    if not failures:
        console.print("[green]liquidated, taken over, deleveraged; collateral conserved[/green]")
    return not failures
