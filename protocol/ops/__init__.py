"""One module per operation: its dataclass, ``process_<op>(state, op) -> events`` and
``compute_<op>_record(op, events) -> bytes`` (its 64-byte pubdata record, docs/PROTOCOL.md
section 8). ``protocol.block`` dispatches to them."""

from protocol import ENGINE

if ENGINE is not None:  # the compiled build's modules first (protocol/__init__.py says why)
    __path__.insert(0, str(ENGINE / "protocol" / "ops"))
