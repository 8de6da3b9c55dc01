"""`zkperp circuit export NAME` and `zkperp circuit info NAME`: the toolkit's circuits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from circuits.catalog import CIRCUIT_NAMES, UnknownCircuitError, build_circuit
from circuits.iden3 import write_r1cs, write_wtns
from circuits.r1cs import ConstraintSystem, count_by_scope
from protocol.params import UnknownPresetError, get_preset

app = typer.Typer(help="The toolkit's circuits: " + ", ".join(CIRCUIT_NAMES) + ".")
console = Console()

NameArgument = Annotated[str, typer.Argument(help=" | ".join(CIRCUIT_NAMES))]
PresetOption = Annotated[str, typer.Option(help="minimal | devnet | mainnet")]
RepeatOption = Annotated[int, typer.Option(min=1, help="Chain this many copies.")]


def _build(
    name: str, preset: str, setup: bool, repeat: int
) -> tuple[ConstraintSystem, list[int] | None]:
    try:
        return build_circuit(name, get_preset(preset), setup=setup, repeat=repeat)
    except (UnknownCircuitError, UnknownPresetError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None


@app.command()
def export(
    name: NameArgument,
    out: Annotated[Path, typer.Option(help="Directory for NAME.r1cs and NAME.wtns.")],
    preset: PresetOption = "minimal",
    repeat: RepeatOption = 1,
) -> None:
    """Write NAME.r1cs and NAME.wtns (the witness of a valid sample) for snarkjs."""
    system, witness = _build(name, preset, False, repeat)
    assert witness is not None  # witness mode
    system.check(witness)
    out.mkdir(parents=True, exist_ok=True)
    write_r1cs(system, out / f"{name}.r1cs")
    write_wtns(witness, out / f"{name}.wtns")
    console.print(f"wrote {out / name}.r1cs and {out / name}.wtns")
    _print_counts(system)


@app.command()
def info(
    name: NameArgument,
    preset: PresetOption = "minimal",
    repeat: RepeatOption = 1,
    depth: Annotated[int, typer.Option(min=1, help="Scope levels in the table.")] = 3,
) -> None:
    """Constraint and wire counts of NAME, and its constraints per scope."""
    system, _ = _build(name, preset, True, repeat)
    _print_counts(system)
    table = Table("scope", "constraints", title=f"{name} ({preset}): constraints per scope")
    for scope, count in sorted(count_by_scope(system, depth).items()):
        table.add_row(scope or "(top level)", str(count))
    console.print(table)


def _print_counts(system: ConstraintSystem) -> None:
    console.print(f"constraints:   {len(system.constraints)}")
    console.print(f"wires:         {system.num_wires}")
    console.print(f"public inputs: {system.num_public} ({', '.join(system.public_names)})")
