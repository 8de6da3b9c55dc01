"""What every command shares: bad input and contract reverts end in one clear line on stderr and
a non-zero exit, never a traceback (``cli_errors``); addresses given on the command line are
checked before anything is sent (``parse_sender``); the escape-hatch commands find their
deployment in its file or, with ``--rollup ADDRESS --rpc URL``, on L1 alone (``locate``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3Exception

from protocol.params import UnknownPresetError
from scripts import chain
from scripts.deployment import DEPLOYMENT_FILE, Deployment, DeploymentFileError, ExitKeyError

P = ParamSpec("P")
T = TypeVar("T")

errors = Console(stderr=True)

DeploymentOption = Annotated[
    Path | None,
    typer.Option(help="The deployment file (default build/rollup.json, unless --rollup)."),
]
RollupOption = Annotated[
    str | None,
    typer.Option(help="The rollup's address: read the deployment from L1 (with --rpc)."),
]
RpcOption = Annotated[str | None, typer.Option(help="The Ethereum node's URL (with --rollup).")]


class CommandError(RuntimeError):
    """A command refused its input; the message is the one line it prints."""


def fail(message: str) -> typer.Exit:
    """Prints ``error: message`` on stderr; the typer.Exit(1) to raise."""
    errors.print(f"[red]error:[/red] {message}", soft_wrap=True, highlight=False)
    return typer.Exit(1)


def cli_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Runs ``command`` turning the errors a person can cause (bad files or arguments, a node
    that does not answer, a contract's revert, decoded by ``chain.describe_revert``) into one
    line and exit status 1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except (CommandError, DeploymentFileError, ExitKeyError, UnknownPresetError) as e:
            raise fail(str(e)) from None
        except ConnectionError as e:
            raise fail(str(e)) from None
        except (ContractLogicError, chain.RevertedError) as e:
            raise fail(str(chain.describe_revert("the call", e))) from None
        except Web3Exception as e:
            raise fail(f"the Ethereum node refused: {e}") from None
        except RuntimeError as e:  # e.g. the operator's SubmitError: a revert behind it?
            what = str(e).split(" would revert")[0].split(" reverted")[0]
            revert = chain.describe_revert(what, e)
            if revert is None:
                raise
            raise fail(str(revert)) from None

    return run


def parse_sender(w3: Web3, sender: str | None) -> str:
    """The checksummed ``--sender``, which must be one of the node's accounts (it signs); the
    node's first account when none is given."""
    accounts = chain.accounts(w3)
    if sender is None:
        if not accounts:
            raise CommandError("the node has no unlocked account; give --sender")
        return accounts[0]
    if not Web3.is_address(sender):
        raise CommandError(f"--sender {sender!r} is not an L1 address (0x and 40 hex digits)")
    address = Web3.to_checksum_address(sender)
    if address not in accounts:
        raise CommandError(f"--sender {address} is not an account the node at hand can sign for")
    return address


def locate(deployment: Path | None, rollup: str | None, rpc: str | None) -> Deployment:
    """The deployment from ``--rollup``/``--rpc`` (L1 alone) or from its file."""
    if rollup is not None or rpc is not None:
        if rollup is None or rpc is None:
            raise CommandError("--rollup and --rpc go together")
        if deployment is not None:
            raise CommandError("give either --deployment or --rollup and --rpc, not both")
        return Deployment.from_chain(chain.connect(rpc), rpc, rollup)
    path = deployment or DEPLOYMENT_FILE
    try:
        return Deployment.read(path)
    except DeploymentFileError as e:
        raise CommandError(
            f"{e}; to use the rollup's public data instead: --rollup ADDRESS --rpc URL"
        ) from None
