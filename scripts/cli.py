"""The `zkperp` command line."""

from __future__ import annotations

import typer

from scripts.commands import circuit, demo, devnet, trade, wallet
from scripts.commands import exit as exit_commands
from scripts.commands import operator as operator_commands
from scripts.commands import prove as prove_commands
from scripts.commands import reconstruct as reconstruct_commands

app = typer.Typer(
    help="zkperp: a ZK rollup for an order-book perpetual-futures exchange.", no_args_is_help=True
)
app.add_typer(devnet.app, name="devnet")
app.add_typer(circuit.app, name="circuit")
app.command("demo")(demo.demo)
app.command("prove")(prove_commands.prove)
app.command("verify")(prove_commands.verify_dir)
app.add_typer(prove_commands.verifier_app, name="verifier")
app.add_typer(operator_commands.app, name="operator")
app.command("reconstruct")(reconstruct_commands.reconstruct_command)
app.command("exit")(exit_commands.exit_command)
app.add_typer(exit_commands.desert_app, name="desert")
app.add_typer(wallet.app, name="wallet")
app.command("deposit")(wallet.deposit_command)
app.command("register-key")(wallet.register_key_command)
app.command("forced-withdraw")(wallet.forced_withdraw_command)
app.command("forced-cancel-all")(wallet.forced_cancel_all_command)
app.command("forced-order")(wallet.forced_order_command)
app.command("transfer")(trade.transfer_command)
app.command("withdraw")(trade.withdraw_command)
app.add_typer(trade.order_app, name="order")
app.command("account")(trade.account_command)
app.command("book")(trade.book_command)
app.command("trades")(trade.trades_command)
app.command("batches")(trade.batches_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
