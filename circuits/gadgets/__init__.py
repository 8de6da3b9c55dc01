"""Gadgets: each one the in-circuit twin of a native function, tested against it."""
