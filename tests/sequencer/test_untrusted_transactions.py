"""No transaction a wallet can hand the operator stops it (issue 12, item 1).

Random and extreme values in every field of every L2 transaction type go through
``Mempool.submit`` (the path of ``submit_to_file``) and then ``build_block``: submit may only
refuse, with CodecError; what it logged, the builder includes or drops with a reason, never
raises, and the honest transaction queued behind it is batched.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circuits.ops.slot import PROVEN_TYPES
from protocol.eddsa import Signature
from protocol.field import R
from protocol.jubjub import Point
from protocol.ops.registry import DESCRIPTORS
from protocol.pubdata import OpType, Origin
from protocol.signing import sign_tx
from protocol.state import State
from sequencer import codec
from sequencer.builder import build_block
from sequencer.codec import L2_TYPES, CodecError, decode_tx, encode_tx, get_l2_types
from sequencer.mempool import Mempool, encode_checked
from sequencer.store import Store
from tests.sequencer.helpers import (
    CHAIN_ID,
    CONFIG,
    USDC,
    chain_requests,
    key_of,
    open_accounts,
    withdraw,
)

SIGNED = [d.op_class for d in DESCRIPTORS if d.origin == Origin.L2_SIGNED]
EXTREMES = [
    *(0, 1, 2, 3, 4, 15, 16, -1, -(2**63), (R - 1) // 2, (R + 1) // 2, R - 1, R, R + 1),
    *(2**32 - 1, 2**32, 2**40 - 1, 2**40, 2**48 - 1, 2**48, 2**64 - 1, 2**64, 2**255, 2**256),
]
values = st.one_of(
    st.sampled_from(EXTREMES),
    st.integers(-(2**300), 2**300),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.floats(allow_nan=True),
)
signatures = st.one_of(
    st.none(),
    st.just("sign"),  # the honest wallet's signature, where its message can be computed
    st.builds(
        Signature,
        st.builds(Point, st.sampled_from(EXTREMES), st.sampled_from(EXTREMES)),
        st.sampled_from(EXTREMES),
    ),
    st.binary(max_size=64),
)


def is_flag(f: Any) -> bool:
    return f.type is bool or f.type == "bool"  # compiled dataclasses carry real types


def sensible(f: Any) -> Any:
    if is_flag(f):
        return False
    return {"account": 3, "nonce": 0, "expiry": 2**40 - 1, "to": 3}.get(f.name, 1)


def make(cls: Any, body: dict[str, Any], signature: Any) -> Any:
    """``cls(**body, signature=signature)``; under the compiled engine, whose dataclasses
    refuse a value of another type when it is made (so no wallet can hand one over), each
    such value is replaced by a sensible one."""
    try:
        return cls(**body, signature=signature)
    except TypeError:
        pass
    for f in fields(cls):
        if f.name in body and not isinstance(body[f.name], bool if is_flag(f) else int):
            body[f.name] = sensible(f)
    return cls(**body, signature=signature if isinstance(signature, Signature) else None)


@st.composite
def transactions(draw: st.DrawFn) -> Any:
    """An L2 transaction of any signed type: each field the sender's account 3 or a valid-ish
    value, or anything at all."""
    cls = draw(st.sampled_from(SIGNED))
    body: dict[str, Any] = {}
    for f in fields(cls):
        if f.name != "signature":
            body[f.name] = draw(st.one_of(st.just(sensible(f)), values))
    signature = draw(signatures)
    tx = make(cls, body, None if signature == "sign" else signature)
    if signature == "sign":
        try:
            return sign_tx(tx, key_of(3), CHAIN_ID)
        except Exception:  # the wallet cannot sign it: sent unsigned
            return tx
    return tx


def opened() -> State:
    """Accounts 3 and 4 funded, with keys (block 1)."""
    state = CONFIG.make_genesis()
    requests = chain_requests(open_accounts([3, 4], 5 * USDC))
    build_block(state, 1, 1_000, requests, [])
    return state


OPENED = opened()


def submit(mempool: Mempool, tx: Any) -> int | None:
    """The acknowledgement, or None when submit refuses ``tx`` (CodecError only)."""
    try:
        return mempool.submit(tx)
    except CodecError:
        return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(transactions(), min_size=1, max_size=3))
def test_no_transaction_stops_the_builder(txs: list[Any]) -> None:
    state = copy.deepcopy(OPENED)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "operator.db")
        try:
            mempool = Mempool(store)
            acknowledged = [seq for tx in txs if (seq := submit(mempool, tx)) is not None]
            honest = mempool.submit(withdraw(4, 0, 1))
            sealed = build_block(state, 2, 1_001, [], mempool.get_pending())
        finally:
            store.close()
    assert honest in sealed.record.l2_seqs
    for seq in acknowledged:
        assert (seq in sealed.record.l2_seqs) != (seq in sealed.dropped)


@pytest.mark.parametrize(
    ("field", "value"),
    [("to", 2**256), ("to", (R + 1) // 2), ("to", -1), ("amount", 2**64), ("nonce", 2**32),
     ("expiry", 2**40), ("account", 2**48), ("amount", True), ("to", "4")],
)  # fmt: skip
def test_submit_refuses_a_value_out_of_its_width(field: str, value: object) -> None:
    transfer_type = next(cls for cls in L2_TYPES.values() if cls.__name__ == "Transfer")
    body: dict[str, Any] = {"account": 3, "nonce": 0, "expiry": 2**40 - 1, "to": 4, "amount": 1}
    body[field] = value
    try:
        tx = transfer_type(**body)
    except TypeError:  # the compiled engine's dataclass refuses it already
        return
    if type(getattr(tx, field)) is not type(value):  # the compiled dataclass converted it
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "operator.db")
        try:
            with pytest.raises(CodecError, match=field):
                Mempool(store).submit(tx)
            assert Mempool(store).get_pending() == []
        finally:
            store.close()


def test_a_poisoned_log_entry_is_dropped_and_the_queue_moves_on() -> None:
    """An entry written past the codec (an older operator, a hand-edited file) is dropped with
    its reason; the transaction behind it is batched."""
    honest = encode_tx(withdraw(4, 0, 1))
    poison = b'\x03{"account": 3, "amount": 1, "expiry": 1099511627775, "nonce": 0, ' + (
        b'"signature": null, "to": %d}' % 2**256
    )
    with pytest.raises(CodecError, match="to"):
        decode_tx(poison)
    state = copy.deepcopy(OPENED)
    sealed = build_block(state, 2, 1_001, [], [(1, poison), (2, honest)])
    assert sealed.record.l2_seqs == (2,)
    assert "CodecError" in sealed.dropped[1]


def test_the_mempool_accepts_only_what_the_circuit_proves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every L2 transaction is proven today; a type the circuit did not prove would be refused
    (the codec's set narrowed to show it)."""
    assert set(L2_TYPES.values()) == set(SIGNED)
    later = {OpType.CANCEL_ALL, OpType.MINT_SHARES, OpType.BURN_SHARES}
    narrower = get_l2_types(PROVEN_TYPES - later)
    monkeypatch.setattr(codec, "L2_TYPES", narrower)
    unproven = [cls for cls in SIGNED if cls not in narrower.values()]
    assert len(unproven) == len(later)
    for cls in unproven:
        body = {f.name: sensible(f) for f in fields(cls) if f.name != "signature"}
        with pytest.raises(CodecError, match="not proven yet"):
            encode_tx(cls(**body))


def test_a_known_signature_is_reused_only_for_its_own_bytes() -> None:
    """``decode_tx(data, known)`` (the mempool's read-back of what it has just encoded) takes
    ``known`` for a signature of the same 64 bytes and decodes any other signature itself: a
    log entry never reads back with a signature it does not carry."""
    tx, other = withdraw(4, 0, 1), withdraw(4, 0, 2)
    assert tx.signature is not None and other.signature is not None
    data = encode_tx(tx)
    assert decode_tx(data, known=tx.signature) == decode_tx(data) == tx
    assert decode_tx(data, known=tx.signature).signature is tx.signature  # not decoded again
    assert decode_tx(data, known=other.signature) == tx
    assert decode_tx(data, known=other.signature).signature is not other.signature
    assert encode_checked(tx) == data
