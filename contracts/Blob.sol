// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Operations} from "./Operations.sol";

/// @title Blob
/// @notice The batch's data as an EIP-4844 blob polynomial (protocol/blob.py): element i is the
/// i-th 31-byte big-endian piece of the pubdata, the value of the polynomial at w_i, the 4096th
/// roots of unity in bit-reversed order. The challenge z is the block circuit's (PROTOCOL 9.9);
/// on the calldata path `evaluate` computes y = p(z) by the barycentric formula over the
/// non-zero elements (the blob path opens it with the point-evaluation precompile instead,
/// `checkOpening`); `evaluateRecords` is the L1 records' polynomial, from the records alone.
library Blob {
    error ChallengeOnDomain();
    error PrecompileFailed();
    error L1RecordsMalformed();
    error NoBlob();
    error OpeningInvalid();

    uint256 internal constant FIELD_ORDER =
        0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    uint256 internal constant ELEMENT_BYTES = 31;
    uint256 internal constant RECORD_BYTES = 64;
    /// @dev An L1 record in calldata: slot (2 bytes, big-endian) || record (64 bytes).
    uint256 internal constant L1_RECORD_BYTES = 66;
    uint256 internal constant LOG2_N = 12;
    address internal constant POINT_EVALUATION = address(0x0a);
    /// @dev The precompile's fixed cost: a failing opening burns this much, not the caller's gas.
    uint256 internal constant POINT_EVALUATION_GAS = 50_000;
    /// @dev 1 / 4096 mod r.
    uint256 internal constant INVERSE_N =
        0x73e66878b46ae3705eb6a46a89213de7d3686828bfce5c19400fffff00100001;

    /// @notice The versioned hash of the transaction's first blob; NoBlob without one.
    function firstBlobHash() internal view returns (bytes32 versionedHash) {
        versionedHash = blobhash(0);
        if (versionedHash == bytes32(0)) revert NoBlob();
    }

    /// @notice Requires y = p(z) for the blob of `versionedHash` with the point-evaluation
    /// precompile (EIP-4844; input versioned hash || z || y || commitment || proof, 50,000
    /// gas); OpeningInvalid otherwise (a wrong y or z, a proof or commitment of another blob).
    function checkOpening(
        bytes32 versionedHash,
        uint256 z,
        uint256 y,
        bytes calldata commitment,
        bytes calldata proof
    ) internal view {
        if (commitment.length != 48 || proof.length != 48) revert OpeningInvalid();
        (bool ok, bytes memory out) = POINT_EVALUATION.staticcall{gas: POINT_EVALUATION_GAS}(
            abi.encodePacked(versionedHash, z, y, commitment, proof)
        );
        if (!ok || out.length != 64) revert OpeningInvalid();
        (uint256 n, uint256 modulus) = abi.decode(out, (uint256, uint256));
        if (n != 1 << LOG2_N || modulus != FIELD_ORDER) revert OpeningInvalid();
    }

    /// @notice p(z) of the blob carrying `data`; reverts ChallengeOnDomain where z^4096 = 1
    /// (probability 4096/r; the circuit has no witness there either).
    function evaluate(bytes calldata data, uint256 z) internal view returns (uint256 y) {
        uint256 zn = powerN(z);
        uint256 count = (data.length + ELEMENT_BYTES - 1) / ELEMENT_BYTES;
        uint256[] memory numerators = new uint256[](count); // f_i * w_i
        uint256[] memory distances = new uint256[](count); // z - w_i
        uint256[] memory prefixes = new uint256[](count); // product of the distances before
        uint256 product = 1;
        uint256 k = 0;
        for (uint256 i = 0; i < count; ++i) {
            uint256 f = _element(data, i);
            if (f == 0) continue;
            uint256 w = root(i);
            numerators[k] = mulmod(f, w, FIELD_ORDER);
            distances[k] = addmod(z, FIELD_ORDER - w, FIELD_ORDER);
            prefixes[k] = product;
            product = mulmod(product, distances[k], FIELD_ORDER);
            ++k;
        }
        y = _combine(numerators, distances, prefixes, product, k, zn);
    }

    /// @notice z^4096; reverts ChallengeOnDomain where it is 1 (z a point of the domain).
    function powerN(uint256 z) internal pure returns (uint256 zn) {
        zn = z;
        for (uint256 k = 0; k < LOG2_N; ++k) {
            zn = mulmod(zn, zn, FIELD_ORDER);
        }
        if (zn == 1) revert ChallengeOnDomain();
    }

    /// @dev (z^N - 1)/N * sum_k numerators[k] / distances[k], the first `k` terms; `product`
    /// the product of their distances, prefixes[k] that of the ones before k.
    function _combine(
        uint256[] memory numerators,
        uint256[] memory distances,
        uint256[] memory prefixes,
        uint256 product,
        uint256 k,
        uint256 zn
    ) private view returns (uint256) {
        uint256 inverse = _inverse(product); // of all the distances: one modexp (Montgomery)
        uint256 sum = 0;
        while (k > 0) {
            --k;
            uint256 inverseDistance = mulmod(inverse, prefixes[k], FIELD_ORDER);
            inverse = mulmod(inverse, distances[k], FIELD_ORDER);
            sum = addmod(sum, mulmod(numerators[k], inverseDistance, FIELD_ORDER), FIELD_ORDER);
        }
        return mulmod(mulmod(sum, zn - 1, FIELD_ORDER), INVERSE_N, FIELD_ORDER);
    }

    /// @notice p(z) of the pubdata whose records are `records` at their slots and zero
    /// elsewhere (PROTOCOL 9.9; protocol.blob.evaluate_l1_records): by linearity each record
    /// adds its share of the (at most four) elements it overlaps, so the other slots cost
    /// nothing. Reverts L1RecordsMalformed unless the entries are whole, their slots strictly
    /// increasing and below `opsPerBlock`, and each record a priority request or an L1
    /// withdrawal; ChallengeOnDomain where z^4096 = 1.
    function evaluateRecords(bytes calldata records, uint256 opsPerBlock, uint256 z)
        internal
        view
        returns (uint256 y)
    {
        uint256 zn = powerN(z);
        if (records.length % L1_RECORD_BYTES != 0) revert L1RecordsMalformed();
        uint256 n = records.length / L1_RECORD_BYTES;
        uint256[] memory numerators = new uint256[](4 * n); // f * w
        uint256[] memory distances = new uint256[](4 * n); // z - w
        uint256[] memory prefixes = new uint256[](4 * n);
        uint256 product = 1;
        uint256 k = 0;
        uint256 next = 0; // the lowest slot the next entry may take
        for (uint256 e = 0; e < n; ++e) {
            uint256 off = e * L1_RECORD_BYTES;
            uint256 slot = (uint256(uint8(records[off])) << 8) | uint8(records[off + 1]);
            uint8 opType = uint8(records[off + 2]);
            if (
                slot < next || slot >= opsPerBlock
                    || (Operations.requestBytes(opType) == 0 && opType != Operations.WITHDRAW)
            ) revert L1RecordsMalformed();
            next = slot + 1;
            uint256 start = slot * RECORD_BYTES;
            for (uint256 i = start / ELEMENT_BYTES; i * ELEMENT_BYTES < start + RECORD_BYTES; ++i) {
                uint256 f = _share(records, off + 2, start, i);
                if (f == 0) continue;
                uint256 w = root(i);
                numerators[k] = mulmod(f, w, FIELD_ORDER);
                distances[k] = addmod(z, FIELD_ORDER - w, FIELD_ORDER);
                prefixes[k] = product;
                product = mulmod(product, distances[k], FIELD_ORDER);
                ++k;
            }
        }
        y = _combine(numerators, distances, prefixes, product, k, zn);
    }

    /// @dev Record `recordOffset`'s part of element i, placed where it sits in the element.
    function _share(bytes calldata records, uint256 recordOffset, uint256 start, uint256 i)
        private
        pure
        returns (uint256)
    {
        uint256 lo = i * ELEMENT_BYTES;
        uint256 hi = lo + ELEMENT_BYTES;
        if (lo < start) lo = start;
        if (hi > start + RECORD_BYTES) hi = start + RECORD_BYTES;
        uint256 word;
        uint256 at = recordOffset + lo - start;
        assembly ("memory-safe") {
            word := calldataload(add(records.offset, at))
        }
        uint256 part = word >> (8 * (32 - (hi - lo)));
        return part << (8 * ((i + 1) * ELEMENT_BYTES - hi));
    }

    /// @notice w_i = w^reverse_bits(i), w = 7^((r-1)/4096): a product of w^(2^b) over the bits.
    function root(uint256 i) internal pure returns (uint256 w) {
        uint256[12] memory powers = [
            uint256(0x564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306),
            0x6d031f1b5c49c83409f1ca610a08f16655ea6811be9c622d4a838b5d59cd79e5,
            0x325db5c3debf77a18f4de02c0f776af3ea437f9626fc085e3c28d666a5c2d854,
            0x095166525526a65439feec240d80689fd697168a3a6000fe4541b8ff2ee0434e,
            0x4f9b4098e2e9f12e6b368121ac0cf4ad0a0865a899e8deff4935bd2f817f694b,
            0x6898111413588742b7c68b4d7fdd60d098d0caac87f5713c5130c2c1660125be,
            0x45af6345ec055e4d14a1e27164d8fdbd2d967f4be2f951558140d032f0a9ee53,
            0x50e0903a157988bab4bcd40e22f55448bf6e88fb4c38fb8a360c60997369df4e,
            0x20b1ce9140267af9dd1c0af834cec32c17beb312f20b6f7653ea61d87742bcce,
            0x345766f603fa66e78c0625cd70d77ce2b38b21c28713b7007228fd3397743f7a,
            0x00000000000000008d51ccce760304d0ec030002760300000001000000000000,
            0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000
        ];
        w = 1;
        for (uint256 b = 0; b < LOG2_N; ++b) {
            // bit b of i is bit (11 - b) of reverse_bits(i)
            if ((i >> b) & 1 == 1) w = mulmod(w, powers[LOG2_N - 1 - b], FIELD_ORDER);
        }
    }

    /// @dev Element i: bytes [31 i, 31 i + 31) of data, big-endian, zero-padded at the end.
    function _element(bytes calldata data, uint256 i) private pure returns (uint256 f) {
        uint256 off = i * ELEMENT_BYTES;
        uint256 left = data.length - off;
        uint256 size = left < ELEMENT_BYTES ? left : ELEMENT_BYTES;
        uint256 word;
        assembly ("memory-safe") {
            word := calldataload(add(data.offset, off))
        }
        f = (word >> (8 * (32 - size))) << (8 * (ELEMENT_BYTES - size));
    }

    /// @dev x^(r-2) mod r with the modexp precompile (0x05); x != 0.
    function _inverse(uint256 x) private view returns (uint256 result) {
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, 0x20)
            mstore(add(p, 0x20), 0x20)
            mstore(add(p, 0x40), 0x20)
            mstore(add(p, 0x60), x)
            mstore(add(p, 0x80), sub(FIELD_ORDER, 2))
            mstore(add(p, 0xa0), FIELD_ORDER)
            ok := staticcall(gas(), 0x05, p, 0xc0, p, 0x20)
            result := mload(p)
        }
        if (!ok) revert PrecompileFailed();
    }
}
