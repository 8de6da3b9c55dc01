"""Proof and key encodings for the world outside Python (docs/PROTOCOL.md section 10).

- EIP-2537 bytes, what the L1 verifier reads: each Fp coordinate is 64 bytes (16 zero bytes,
  then 48 big-endian); G1 is ``x ‖ y`` (128 bytes), G2 ``x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1``
  (256 bytes), infinity all zeros; a proof is ``A ‖ B ‖ C`` (512 bytes).
- snarkjs JSON (``vk.json``, ``proof.json``, ``public.json``, curve ``bls12381``), which
  ``snarkjs groth16 verify`` checks: decimal strings, projective ``[x, y, "1"]``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prover.backend import G1_BYTES, G2_BYTES
from prover.groth16 import Proof
from prover.keys import VerifyingKey

PROOF_BYTES = 512


class MalformedEncodingError(ValueError):
    """Bytes or JSON that do not encode what they should (length, padding, shape, range)."""


# -- EIP-2537 ----------------------------------------------------------------------------------


def to_eip2537(point: bytes) -> bytes:
    """A canonical G1 (96) or G2 (192) point in EIP-2537 form (128 or 256 bytes)."""
    return b"".join(bytes(16) + point[i : i + 48] for i in range(0, len(point), 48))


def from_eip2537(data: bytes) -> bytes:
    """Inverse of ``to_eip2537``; refuses non-zero padding (it does not check the curve)."""
    if len(data) % 64:
        raise MalformedEncodingError(f"EIP-2537 points are 64-byte words, got {len(data)} bytes")
    words = [data[i : i + 64] for i in range(0, len(data), 64)]
    if any(w[:16] != bytes(16) for w in words):
        raise MalformedEncodingError("an EIP-2537 coordinate has non-zero padding")
    return b"".join(w[16:] for w in words)


def proof_to_bytes(proof: Proof) -> bytes:
    """The 512-byte ``A ‖ B ‖ C`` that ``verifyProof`` takes."""
    return to_eip2537(proof.a) + to_eip2537(proof.b) + to_eip2537(proof.c)


def proof_from_bytes(data: bytes) -> Proof:
    if len(data) != PROOF_BYTES:
        raise MalformedEncodingError(f"a proof is {PROOF_BYTES} bytes, got {len(data)}")
    return Proof(from_eip2537(data[:128]), from_eip2537(data[128:384]), from_eip2537(data[384:]))


# -- snarkjs JSON ------------------------------------------------------------------------------


def _coords(point: bytes) -> list[int]:
    return [int.from_bytes(point[i : i + 48], "big") for i in range(0, len(point), 48)]


def g1_to_json(point: bytes) -> list[str]:
    if not any(point):
        return ["0", "1", "0"]
    x, y = _coords(point)
    return [str(x), str(y), "1"]


def g2_to_json(point: bytes) -> list[list[str]]:
    if not any(point):
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    x0, x1, y0, y1 = _coords(point)
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def g1_from_json(obj: Any) -> bytes:
    x, y, z = (_decimal(v) for v in _list(obj, 3))
    return _affine([x], [y], [z], G1_BYTES)


def g2_from_json(obj: Any) -> bytes:
    x, y, z = ([_decimal(v) for v in _list(pair, 2)] for pair in _list(obj, 3))
    return _affine(x, y, z, G2_BYTES)


def vk_to_json(vk: VerifyingKey) -> dict[str, Any]:
    return {
        "protocol": "groth16",
        "curve": "bls12381",
        "nPublic": vk.num_public,
        "vk_alpha_1": g1_to_json(vk.alpha_g1),
        "vk_beta_2": g2_to_json(vk.beta_g2),
        "vk_gamma_2": g2_to_json(vk.gamma_g2),
        "vk_delta_2": g2_to_json(vk.delta_g2),
        "IC": [g1_to_json(p) for p in vk.ic],
    }


def vk_from_json(obj: Any) -> VerifyingKey:
    _require_groth16_bls(obj)
    try:
        beta, gamma, delta = (
            g2_from_json(obj[k]) for k in ("vk_beta_2", "vk_gamma_2", "vk_delta_2")
        )
        ic = tuple(g1_from_json(p) for p in obj["IC"])
        vk = VerifyingKey(g1_from_json(obj["vk_alpha_1"]), beta, gamma, delta, ic)
    except (KeyError, TypeError) as e:
        raise MalformedEncodingError(f"verification key JSON: {e!r}") from None
    if vk.num_public != obj.get("nPublic", vk.num_public):
        raise MalformedEncodingError("verification key JSON: nPublic does not match IC")
    return vk


def proof_to_json(proof: Proof) -> dict[str, Any]:
    return {
        "pi_a": g1_to_json(proof.a),
        "pi_b": g2_to_json(proof.b),
        "pi_c": g1_to_json(proof.c),
        "protocol": "groth16",
        "curve": "bls12381",
    }


def proof_from_json(obj: Any) -> Proof:
    _require_groth16_bls(obj)
    try:
        return Proof(
            g1_from_json(obj["pi_a"]), g2_from_json(obj["pi_b"]), g1_from_json(obj["pi_c"])
        )
    except (KeyError, TypeError) as e:
        raise MalformedEncodingError(f"proof JSON: {e!r}") from None


def public_to_json(inputs: Sequence[int]) -> list[str]:
    return [str(x) for x in inputs]


def public_from_json(obj: Any) -> list[int]:
    """Public inputs as ints; values >= r are kept (the verifier rejects them, not the parser)."""
    return [_decimal(v) for v in _list(obj, None)]


def _require_groth16_bls(obj: Any) -> None:
    if not isinstance(obj, dict):
        raise MalformedEncodingError("expected a JSON object")
    if obj.get("protocol", "groth16") != "groth16" or obj.get("curve", "bls12381") != "bls12381":
        raise MalformedEncodingError("not a Groth16 object over bls12381")


def _list(obj: Any, length: int | None) -> list[Any]:
    if not isinstance(obj, list) or (length is not None and len(obj) != length):
        raise MalformedEncodingError(f"expected a list of {length or 'any number of'} items")
    return obj


def _decimal(value: Any) -> int:
    if not isinstance(value, str) or not value.isdigit():
        raise MalformedEncodingError(f"expected a decimal string, got {value!r}")
    return int(value)


def _affine(x: list[int], y: list[int], z: list[int], size: int) -> bytes:
    """Canonical bytes of a point given with z = 1 (affine) or z = 0 (infinity)."""
    if not any(z):
        return bytes(size)
    if z[0] != 1 or any(z[1:]):
        raise MalformedEncodingError("only affine points (z = 1) or infinity (z = 0) are read")
    if any(c >= 1 << 384 for c in x + y):
        raise MalformedEncodingError("a coordinate does not fit 48 bytes")
    return b"".join(c.to_bytes(48, "big") for c in x + y)


# -- a proof directory: vk.json, proof.json, public.json ---------------------------------------


def write_proof_dir(out: Path, vk: VerifyingKey, proof: Proof, inputs: Sequence[int]) -> None:
    """Write the three snarkjs files into ``out`` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, obj in (
        ("vk.json", vk_to_json(vk)),
        ("proof.json", proof_to_json(proof)),
        ("public.json", public_to_json(inputs)),
    ):
        (out / name).write_text(json.dumps(obj, indent=1) + "\n")


def read_proof_dir(path: Path) -> tuple[VerifyingKey, Proof, list[int]]:
    """The verifying key, proof and public inputs of a proof directory; raises
    MalformedEncodingError for a missing, unreadable or malformed file."""
    try:
        vk, proof, public = (
            json.loads((path / name).read_text())
            for name in ("vk.json", "proof.json", "public.json")
        )
    except (OSError, ValueError) as e:
        raise MalformedEncodingError(f"cannot read {path}: {e}") from None
    return vk_from_json(vk), proof_from_json(proof), public_from_json(public)
