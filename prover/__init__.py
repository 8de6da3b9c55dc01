"""Witness to proof: Groth16 over BLS12-381 with interchangeable curve backends."""
