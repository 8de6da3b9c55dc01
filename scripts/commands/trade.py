"""A user's L2 commands, through the operator's API (``sequencer.sdk``): `transfer`,
`withdraw`, `order place | cancel | modify | cancel-all | leverage`, and the reads `account`,
`book`, `trades`, `batches` (each with ``--json``). The operator takes the trading ones once the
block circuit proves them (until then the API refuses them: ``unprovable_operation``).

The API is found at ``--api``, else in build/api.json (written by `zkperp operator run`), else
at http://127.0.0.1:8700. A refusal prints the API's message and exits with status 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from protocol.ops.create_order import OrderKind, TimeInForce
from scripts.commands.operator import API_FILE, API_PORT
from scripts.commands.wallet import (
    WALLETS,
    JsonOption,
    Wallet,
    WalletsOption,
    fail,
    parse_usdc,
    resolve_account,
)
from sequencer.sdk import Ack, ApiClient, ApiRequestError
from sequencer.sdk import Wallet as SdkWallet

console = Console()
order_app = typer.Typer(help="Orders: place, cancel, modify (as the block circuit proves them).")
ApiOption = Annotated[str | None, typer.Option("--api", help="The operator API's URL.")]
CidOption = Annotated[str | None, typer.Option(help="Your id for it, echoed in the answer.")]
T = TypeVar("T")


def find_api(url: str | None) -> str:
    if url:
        return url
    if API_FILE.exists():
        return str(json.loads(API_FILE.read_text())["url"])
    return f"http://127.0.0.1:{API_PORT}"


def call(fn: Callable[[], T]) -> T:
    """Runs one API call; a refusal or an unreachable API is one clear error."""
    try:
        return fn()
    except ApiRequestError as e:
        raise fail(f"the operator refused: {e.message} ({e.status} {e.code})") from None
    except OSError as e:
        raise fail(f"no operator API answers: {e}") from None
    except Exception as e:  # httpx's transport errors
        if type(e).__module__.startswith("httpx"):
            raise fail(f"no operator API answers: {e}") from None
        raise


def signer(name: str, wallets: Path, api: str | None) -> SdkWallet:
    wallet = Wallet.read(name, wallets)
    client = ApiClient(find_api(api))
    chain_id = call(client.status)["chain_id"]
    return SdkWallet(client, wallet.account, wallet.key, int(chain_id))


def report(ack: Ack, as_json: bool) -> None:
    if as_json:
        print(json.dumps(vars(ack)))
        return
    cid = f", client order id {ack.client_order_id}" if ack.client_order_id else ""
    console.print(f"{ack.type} acknowledged: log #{ack.seq}, nonce {ack.nonce}{cid}")


def transfer_command(
    name: str,
    to: Annotated[str, typer.Argument(help="The recipient: an account index or a wallet name.")],
    amount: Annotated[str, typer.Argument(help="USDC, e.g. 12.5")],
    client_order_id: CidOption = None,
    api: ApiOption = None,
    wallets: WalletsOption = WALLETS,
    as_json: JsonOption = False,
) -> None:
    """Transfer collateral on L2 to another account."""
    wallet = signer(name, wallets, api)
    target, value = resolve_account(to, wallets), parse_usdc(amount)
    report(call(lambda: wallet.transfer(target, value, client_order_id=client_order_id)), as_json)


def withdraw_command(
    name: str,
    amount: Annotated[str, typer.Argument(help="USDC, e.g. 12.5")],
    client_order_id: CidOption = None,
    api: ApiOption = None,
    wallets: WalletsOption = WALLETS,
    as_json: JsonOption = False,
) -> None:
    """Withdraw collateral to the account's L1 owner (paid once its batch is executed)."""
    wallet, value = signer(name, wallets, api), parse_usdc(amount)
    report(call(lambda: wallet.withdraw(value, client_order_id=client_order_id)), as_json)


@order_app.command("place")
def place_command(
    name: str,
    side: Annotated[str, typer.Argument(help="buy | sell")],
    size: Annotated[int, typer.Argument(help="Lots.")],
    price: Annotated[int, typer.Argument(help="Limit (or worst) price, in ticks.")],
    market: Annotated[int, typer.Option(help="Market index.")] = 0,
    kind: Annotated[
        str, typer.Option(help="limit | market | stop_loss | take_profit (ioc, reduce-only)")
    ] = "limit",
    tif: Annotated[str, typer.Option(help="gtc | ioc | post_only")] = "gtc",
    reduce_only: Annotated[bool, typer.Option(help="Only reduce a position.")] = False,
    trigger_price: Annotated[
        int, typer.Option(help="A stop-loss / take-profit's trigger (mark) price, in ticks.")
    ] = 0,
    client_order_id: CidOption = None,
    api: ApiOption = None,
    wallets: WalletsOption = WALLETS,
    as_json: JsonOption = False,
) -> None:
    """Place an order."""
    if side not in ("buy", "sell"):
        raise fail("side is buy or sell")
    try:
        order_kind, in_force = OrderKind[kind.upper()], TimeInForce[tif.upper()]
    except KeyError:
        raise fail(f"unknown order kind {kind!r} or time in force {tif!r}") from None
    wallet = signer(name, wallets, api)
    ack = call(
        lambda: wallet.place_order(
            market,
            side == "sell",
            size,
            price,
            order_kind,
            in_force,
            reduce_only,
            client_order_id,
            trigger_price,
        )
    )
    report(ack, as_json)


@order_app.command("cancel")
def cancel_command(
    name: str,
    key: Annotated[int, typer.Argument(help="The order's key (see `zkperp account`).")],
    market: Annotated[int, typer.Option(help="Market index.")] = 0,
    trigger: Annotated[bool, typer.Option(help="KEY is a trigger order's id.")] = False,
    client_order_id: CidOption = None,
    api: ApiOption = None,
    wallets: WalletsOption = WALLETS,
    as_json: JsonOption = False,
) -> None:
    """Cancel a resting order, or (--trigger) a stop-loss / take-profit order."""
    wallet = signer(name, wallets, api)
    report(call(lambda: wallet.cancel_order(market, key, client_order_id, trigger)), as_json)


@order_app.command("modify")
def modify_command(
    name: str,
    key: Annotated[int, typer.Argument(help="The order's key (see `zkperp account`).")],
    price: Annotated[int, typer.Argument(help="New price, in ticks.")],
    size: Annotated[int, typer.Argument(help="New size, lots.")],
    market: Annotated[int, typer.Option(help="Market index.")] = 0,
    client_order_id: CidOption = None,
    api: ApiOption = None,
    wallets: WalletsOption = WALLETS,
    as_json: JsonOption = False,
) -> None:
    """Change a resting order's price and size."""
    wallet = signer(name, wallets, api)
    report(call(lambda: wallet.modify_order(market, key, price, size, client_order_id)), as_json)


@order_app.command("cancel-all")
def cancel_all_command(
    name: str,
    client_order_id: CidOption = None,
    api: ApiOption = None,
    wallets: WalletsOption = WALLETS,
    as_json: JsonOption = False,
) -> None:
    """Cancel every resting and trigger order of the account."""
    wallet = signer(name, wallets, api)
    report(call(lambda: wallet.cancel_all(client_order_id)), as_json)


@order_app.command("leverage")
def leverage_command(
    name: str,
    imf: Annotated[
        int, typer.Argument(help="Initial margin fraction, ppm (200000 = 5x; 0: the market's).")
    ],
    market: Annotated[int, typer.Option(help="Market index.")] = 0,
    client_order_id: CidOption = None,
    api: ApiOption = None,
    wallets: WalletsOption = WALLETS,
    as_json: JsonOption = False,
) -> None:
    """Set the account's leverage in a market (max leverage = 1,000,000 / imf)."""
    wallet = signer(name, wallets, api)
    report(call(lambda: wallet.set_leverage(market, imf, client_order_id)), as_json)


def _show(body: Any, as_json: bool, table: Callable[[Any], Table]) -> None:
    if as_json:
        print(json.dumps(body))
    else:
        console.print(table(body))


def _fields(title: str, body: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False)
    for key, value in body.items():
        table.add_row(key, json.dumps(value) if isinstance(value, list | dict) else str(value))
    return table


def account_command(
    target: Annotated[str, typer.Argument(help="An account index or a wallet name.")],
    api: ApiOption = None,
    wallets: WalletsOption = WALLETS,
    as_json: JsonOption = False,
) -> None:
    """An account: collateral, positions, open orders, health, TAV, IMR, MMR, nonce."""
    index = resolve_account(target, wallets)
    body = call(lambda: ApiClient(find_api(api)).account(index))
    _show(body, as_json, lambda b: _fields(f"account {index}", b))


def book_command(
    market: Annotated[int, typer.Argument(help="Market index.")] = 0,
    api: ApiOption = None,
    as_json: JsonOption = False,
) -> None:
    """A market's order book as price levels."""
    body = call(lambda: ApiClient(find_api(api)).book(market))

    def table(b: dict[str, Any]) -> Table:
        t = Table("side", "price", "size", title=f"market {market} (seq {b['seq']})")
        for price, size in reversed(b["asks"]):
            t.add_row("ask", str(price), str(size))
        for price, size in b["bids"]:
            t.add_row("bid", str(price), str(size))
        return t

    _show(body, as_json, table)


def trades_command(
    market: Annotated[int, typer.Argument(help="Market index.")] = 0,
    api: ApiOption = None,
    as_json: JsonOption = False,
) -> None:
    """A market's recent trades, newest first."""
    body = call(lambda: ApiClient(find_api(api)).trades(market))

    def table(trades: list[dict[str, Any]]) -> Table:
        t = Table("block", "price", "size", "taker", "maker", title=f"market {market} trades")
        for x in trades:
            t.add_row(*(str(x[k]) for k in ("block", "price", "size", "taker", "maker")))
        return t

    _show(body, as_json, table)


def batches_command(api: ApiOption = None, as_json: JsonOption = False) -> None:
    """The latest batches: status, L1 transactions, gas, proving time."""
    body = call(lambda: ApiClient(find_api(api)).batches())

    def table(batches: list[dict[str, Any]]) -> Table:
        t = Table("batch", "status", "L1 requests", "L2 txs", "proving s", "gas", title="batches")
        for b in batches:
            gas = sum(step["gas"] for step in b["l1"].values() if step)
            seconds = "" if b["proving_seconds"] is None else f"{b['proving_seconds']:.1f}"
            t.add_row(
                str(b["number"]),
                b["status"],
                str(b["priority_requests"]),
                str(b["l2_transactions"]),
                seconds,
                str(gas or ""),
            )
        return t

    _show(body, as_json, table)
