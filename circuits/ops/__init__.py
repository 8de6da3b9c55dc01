"""One module per operation, named as in ``protocol/ops``: each defines its ``OpCircuit`` — the
record bytes it uses, the accounts it touches and its constraints inside a block-circuit slot
(``common`` holds what the slots share)."""
