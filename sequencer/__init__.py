"""The operator's service around the rules: API, mempool + WAL, block and witness builders, L1."""
