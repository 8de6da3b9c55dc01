"""The rules of zkperp, written once: pure, deterministic, no I/O."""
