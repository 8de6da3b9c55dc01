"""Witness to proof: Groth16 over BLS12-381 with interchangeable curve backends.

- ``backend``: the curve interface; ``get_backend("arkworks" | "py_ecc")``.
- ``ntt``, ``qap``: evaluation domains, NTTs, the QAP (wire polynomials, quotient on a coset).
- ``setup``: ``setup(cs)`` with fresh secrets; ``load_or_setup`` caches keys by digest.
- ``phase2``: ``contribute(pk)`` re-randomizes delta; ``verify_contributions(initial, final)``.
- ``keys``: ``ProvingKey``/``VerifyingKey`` and the versioned key file (``read_key``).
- ``groth16``: ``Prover(pk).prove(cs, witness)``, ``prove``, ``verify``.
- ``encoding``: EIP-2537 proof bytes, snarkjs JSON, proof directories.
- ``solidity``: ``generate_verifier(vk, contract_name)``, the EIP-2537 verifier contract.

docs/PROTOCOL.md section 10 specifies the formats.
"""
