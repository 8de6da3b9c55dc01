// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IVerifier
/// @notice A Groth16 verifier over BLS12-381 (EIP-2537), as prover/solidity.py generates them
/// (PROTOCOL section 9): `proof = A ‖ B ‖ C` (128 + 256 + 128 bytes).
interface IVerifier {
    /// @notice Whether `proof` proves the circuit for `publicInputs`; false (never a revert) for
    /// a wrong proof, a malformed encoding or an input >= r.
    function verifyProof(bytes calldata proof, uint256[] calldata publicInputs)
        external
        view
        returns (bool);
}
