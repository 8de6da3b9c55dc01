"""One module per operation: its dataclass, ``process_<op>(state, op) -> events`` and
``compute_<op>_record(op, events) -> bytes`` (its 64-byte pubdata record, docs/PROTOCOL.md
section 8). ``protocol.block`` dispatches to them."""
