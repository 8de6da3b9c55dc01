"""`zkperp wallet new | list | show`, and a user's L1 actions: `deposit`, `register-key`,
`forced-withdraw`, `forced-cancel-all`, `forced-order`.

A wallet is a devnet user: a fresh L1 key (funded with devnet ether and test USDC by the
devnet's first account) and an L2 key, with the L2 account index it uses, kept in
``build/wallets/NAME.json`` (devnet keys: never use them for anything real). The L1 commands
sign with the wallet's own key and send to the rollup of ``build/rollup.json``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account import Account as L1Account
from rich.console import Console
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.middleware import SignAndSendRawMiddlewareBuilder

from protocol.accounts import FIRST_USER_ACCOUNT
from protocol.eddsa import SecretKey
from protocol.jubjub import compress
from protocol.pubdata import ORDER_FLAG_ASK, ORDER_FLAG_MARKET
from scripts import chain
from scripts.commands.operator import DEPLOYMENT_FILE, Deployment
from scripts.paths import BUILD

WALLETS = BUILD / "wallets"
USDC = 1_000_000

app = typer.Typer(help="Devnet wallets: an L1 account and an L2 key each, under build/wallets.")
console = Console()
DeploymentOption = Annotated[Path, typer.Option(help="The deployment file.")]
WalletsOption = Annotated[Path, typer.Option(help="Where wallets are kept.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True, highlight=False)
    return typer.Exit(1)


def parse_usdc(text: str) -> int:
    """``"12.5"`` USDC as micro-USDC; refuses negatives and more than 6 decimals."""
    try:
        value = Decimal(text) * USDC
    except InvalidOperation:
        raise fail(f"{text!r} is not an amount of USDC") from None
    if value < 0 or value != value.to_integral_value():
        raise fail(f"{text!r}: a non-negative amount with at most 6 decimals")
    return int(value)


@dataclass(frozen=True)
class Wallet:
    """One devnet user, as build/wallets/NAME.json keeps it."""

    name: str
    account: int  # the L2 account index
    address: str
    private_key: str  # L1, hex
    l2_seed: str  # hex; the L2 key is SecretKey.from_seed of it

    @property
    def key(self) -> SecretKey:
        return SecretKey.from_seed(bytes.fromhex(self.l2_seed))

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.json"
        path.write_text(json.dumps(asdict(self), indent=2))
        path.chmod(0o600)
        return path

    @classmethod
    def read(cls, name: str, folder: Path = WALLETS) -> Wallet:
        path = folder / f"{name}.json"
        if not path.exists():
            raise fail(f"no wallet {name!r} in {folder}; `zkperp wallet new {name}` makes one")
        return cls(**json.loads(path.read_text()))


def list_wallets(folder: Path = WALLETS) -> list[Wallet]:
    return [Wallet.read(p.stem, folder) for p in sorted(folder.glob("*.json"))]


def resolve_account(target: str, folder: Path = WALLETS) -> int:
    """An L2 account given as an index or as a wallet's name."""
    return int(target) if target.isdigit() else Wallet.read(target, folder).account


def connect_as(deployment: Deployment, wallet: Wallet) -> Web3:
    """A web3 client on the deployment's node that signs as ``wallet``."""
    w3 = chain.connect(deployment.rpc_url)
    signer = L1Account.from_key(wallet.private_key)
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(signer), layer=0)
    return w3


def send(w3: Web3, fn: ContractFunction, sender: str, what: str) -> Any:
    """Sends ``fn`` from ``sender``; a revert is one line naming the contract's error and what
    to do (``chain.send``)."""
    try:
        return chain.send(w3, fn, sender, what)
    except chain.RevertedError as e:
        raise fail(str(e)) from None


@app.command("new")
def new_command(
    name: str,
    account: Annotated[int | None, typer.Option(help="L2 account index (default: next free).")] = (
        None
    ),
    usdc: Annotated[str, typer.Option(help="Test USDC to mint to it on L1.")] = "1000",
    deployment: DeploymentOption = DEPLOYMENT_FILE,
    wallets: WalletsOption = WALLETS,
) -> None:
    """A new devnet wallet: a funded L1 account and an L2 key, saved as build/wallets/NAME.json."""
    if (wallets / f"{name}.json").exists():
        raise fail(f"a wallet {name!r} exists already")
    found = Deployment.read(deployment)
    taken = {w.account for w in list_wallets(wallets)}
    index = account if account is not None else FIRST_USER_ACCOUNT
    while account is None and index in taken:
        index += 1
    if not FIRST_USER_ACCOUNT <= index < found.config.preset.max_accounts:
        raise fail(f"account {index} is reserved or outside the tree")
    signer = L1Account.create()
    wallet = Wallet(name, index, signer.address, signer.key.hex(), secrets.token_bytes(32).hex())
    w3 = chain.connect(found.rpc_url)
    chain.rpc(w3, "anvil_setBalance", signer.address, hex(10 * 10**18))
    amount = parse_usdc(usdc)
    send(w3, found.get_token(w3).functions.mint(signer.address, amount), found.validator, "mint")
    path = wallet.write(wallets)
    console.print(f"wallet {name}: L1 {signer.address}, L2 account {index}, {usdc} USDC -> {path}")


@app.command("list")
def list_command(wallets: WalletsOption = WALLETS, as_json: JsonOption = False) -> None:
    """The wallets kept here."""
    found = [
        {"name": w.name, "account": w.account, "address": w.address} for w in list_wallets(wallets)
    ]
    if as_json:
        print(json.dumps(found))
        return
    for w in found:
        console.print(f"{w['name']:<12} account {w['account']:<6} {w['address']}")


def deposit_command(
    name: str,
    amount: Annotated[str, typer.Argument(help="USDC, e.g. 12.5")],
    deployment: DeploymentOption = DEPLOYMENT_FILE,
    wallets: WalletsOption = WALLETS,
) -> None:
    """Deposit USDC from the wallet's L1 account into its L2 account (approve + deposit)."""
    wallet, found = Wallet.read(name, wallets), Deployment.read(deployment)
    w3 = connect_as(found, wallet)
    rollup, token, value = found.get_rollup(w3), found.get_token(w3), parse_usdc(amount)
    send(w3, token.functions.approve(rollup.address, value), wallet.address, "approve")
    send(w3, rollup.functions.deposit(wallet.account, value), wallet.address, "deposit")
    console.print(f"deposit of {amount} USDC to account {wallet.account} queued on L1")


def register_key_command(
    name: str, deployment: DeploymentOption = DEPLOYMENT_FILE, wallets: WalletsOption = WALLETS
) -> None:
    """Register the wallet's L2 key for its account, from its L1 address (a priority request)."""
    wallet, found = Wallet.read(name, wallets), Deployment.read(deployment)
    w3 = connect_as(found, wallet)
    fn = found.get_rollup(w3).functions.registerL2Key(
        wallet.account, compress(wallet.key.public_key)
    )
    send(w3, fn, wallet.address, "registerL2Key")
    console.print(f"L2 key of account {wallet.account} queued for registration on L1")


def forced_withdraw_command(
    name: str,
    amount: Annotated[str, typer.Argument(help="USDC, e.g. 12.5")],
    deployment: DeploymentOption = DEPLOYMENT_FILE,
    wallets: WalletsOption = WALLETS,
) -> None:
    """Force a withdrawal through L1: the operator must include it before its deadline, or
    anyone may freeze the rollup (desert mode)."""
    wallet, found = Wallet.read(name, wallets), Deployment.read(deployment)
    w3 = connect_as(found, wallet)
    fn = found.get_rollup(w3).functions.requestForcedWithdraw(wallet.account, parse_usdc(amount))
    send(w3, fn, wallet.address, "requestForcedWithdraw")
    console.print(f"forced withdrawal of {amount} USDC from account {wallet.account} queued on L1")


def forced_cancel_all_command(
    name: str, deployment: DeploymentOption = DEPLOYMENT_FILE, wallets: WalletsOption = WALLETS
) -> None:
    """Force the cancellation of every open order of the wallet's account through L1 (a
    priority request with the same deadline as a forced withdrawal)."""
    wallet, found = Wallet.read(name, wallets), Deployment.read(deployment)
    w3 = connect_as(found, wallet)
    fn = found.get_rollup(w3).functions.requestForcedCancelAll(wallet.account)
    send(w3, fn, wallet.address, "requestForcedCancelAll")
    console.print(f"forced cancel-all of account {wallet.account} queued on L1")


def forced_order_command(
    name: str,
    side: Annotated[str, typer.Argument(help="buy | sell")],
    size: Annotated[int, typer.Argument(help="Lots.")],
    price: Annotated[int, typer.Argument(help="Limit (or, with --ioc, worst) price, in ticks.")],
    market: Annotated[int, typer.Option(help="Market index.")] = 0,
    ioc: Annotated[
        bool, typer.Option("--ioc", help="A market order (immediate or cancel), else a GTC limit.")
    ] = False,
    deployment: DeploymentOption = DEPLOYMENT_FILE,
    wallets: WalletsOption = WALLETS,
) -> None:
    """Force an order through L1, e.g. to close a position while the operator ignores you."""
    if side not in ("buy", "sell"):
        raise fail("side is buy or sell")
    flags = (ORDER_FLAG_ASK if side == "sell" else 0) | (ORDER_FLAG_MARKET if ioc else 0)
    wallet, found = Wallet.read(name, wallets), Deployment.read(deployment)
    w3 = connect_as(found, wallet)
    fn = found.get_rollup(w3).functions.requestForcedOrder(
        wallet.account, market, flags, price, size
    )
    send(w3, fn, wallet.address, "requestForcedOrder")
    kind = "market" if ioc else "limit"
    console.print(
        f"forced {kind} {side} of {size} lots at {price} on market {market} for account "
        f"{wallet.account} queued on L1"
    )
