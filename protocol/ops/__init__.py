"""One module per operation: its dataclass, its record ``Layout``, ``process_<op>(state, op) ->
events``, ``compute_<op>_record(op, events) -> bytes`` (its 64-byte pubdata record,
docs/PROTOCOL.md section 8) and ``DESCRIPTOR``, which ties them together with its origin and
the accounts it names. ``protocol.ops.registry`` collects the descriptors; every other layer
derives its table from them."""

from protocol import ENGINE

if ENGINE is not None:  # the compiled build's modules first (protocol/__init__.py says why)
    __path__.insert(0, str(ENGINE / "protocol" / "ops"))
