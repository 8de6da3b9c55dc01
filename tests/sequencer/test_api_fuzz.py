"""Malformed requests against the real server: every one gets a 4xx with a message, over HTTP
and over the WebSocket, and afterwards the operator's state and write-ahead log are exactly
what they were (and the server still takes a good transaction)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from protocol.snapshot import encode_state
from sequencer.api_models import to_wire
from tests.sequencer.api_env import ApiEnv, start_api_env
from tests.sequencer.helpers import USDC, transfer

SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    SCALARS | FLOATS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
GOOD = to_wire(transfer(3, 0, 4, USDC))  # account 3's next transaction, correctly signed
SIGNED_FIELDS = [k for k in GOOD if k != "client_order_id"]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """The good transaction with one signed field changed, dropped, or a field added."""
    body = dict(GOOD)
    how = draw(st.sampled_from(["change", "drop", "add", "signature"]))
    name = draw(st.sampled_from(SIGNED_FIELDS))
    if how == "change":
        value = draw(JSON | st.integers(-(1 << 70), 1 << 70))
        if value == body[name] and type(value) is type(body[name]):
            value = f"{value}!"
        body[name] = value
    elif how == "drop":
        del body[name]
    elif how == "add":
        body[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in GOOD))] = draw(JSON)
    else:
        signature = bytearray(bytes.fromhex(GOOD["signature"]))
        signature[draw(st.integers(0, 63))] ^= 1 << draw(st.integers(0, 7))
        body["signature"] = signature.hex()
    return body


def fingerprint(env: ApiEnv) -> tuple[bytes, list[Any]]:
    log = env.store.db.execute("SELECT seq, tx FROM l2_log").fetchall()
    return encode_state(env.state), log


def test_malformed_requests_get_a_4xx_and_change_nothing(tmp_path: Path) -> None:
    env = start_api_env(tmp_path)
    http = httpx.Client(base_url=env.url, timeout=30)
    ws = connect(env.ws_url).__enter__()  # closed in the finally clause
    before = fingerprint(env)
    try:

        @settings(
            max_examples=250,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(
            st.one_of(
                mutated().map(lambda b: ("one", b)),
                JSON.map(lambda b: ("one", b)),
                st.lists(mutated(), min_size=1, max_size=3).map(lambda b: ("batch", [GOOD, *b])),
                JSON.map(lambda b: ("batch", b)),
                st.binary(max_size=40).map(lambda b: ("raw", b)),
                mutated().map(lambda b: ("ws", b)),
                JSON.map(lambda b: ("ws-any", b)),
            )
        )
        def check(case: tuple[str, Any]) -> None:
            kind, body = case
            if kind in ("ws", "ws-any"):
                message = {"op": "submit", "id": 1, "tx": body} if kind == "ws" else body
                ws.send(json.dumps(message))
                reply = json.loads(ws.recv(timeout=30))
                assert reply["type"] == "error" and 400 <= reply["status"] < 500, reply
                assert reply["message"]
                return
            if kind == "raw":
                answer = http.post("/v1/transactions", content=body)
            else:
                path = "/v1/transactions" + ("/batch" if kind == "batch" else "")
                answer = http.post(path, json=body)
            assert 400 <= answer.status_code < 500, (body, answer.text)
            assert answer.json()["message"]

        check()
    finally:
        after = fingerprint(env)
        ws.__exit__(None, None, None)
        good = http.post("/v1/transactions", json=GOOD)
        http.close()
        env.stop()
    assert after == before
    assert good.status_code == 200
