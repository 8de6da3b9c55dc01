"""The API's wire format of signed L2 transactions: one JSON object per transaction, its fields
those of the protocol operation (PROTOCOL section 5) plus ``type``, the signature as 128 hex
digits and an optional ``client_order_id`` the acknowledgement echoes (it is not signed).

The models are made per preset (``make_tx_adapter``), so every integer is checked against its
width from ``protocol/params.py`` before anything else looks at it: a number out of range, a
wrong type, a missing or unknown field is refused with the field named.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, TypeAdapter, create_model

from protocol.eddsa import Signature
from protocol.ops.burn_shares import BurnShares
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.create_order import CreateOrder
from protocol.ops.mint_shares import MintShares
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.set_leverage import SetLeverage
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.params import RECORD_RATE_BYTES, Preset

# Every L2-signed operation a trader sends, by its wire name.
L2_OPERATIONS: dict[str, type[Any]] = {
    "transfer": Transfer,
    "withdraw": Withdraw,
    "create_order": CreateOrder,
    "cancel_order": CancelOrder,
    "modify_order": ModifyOrder,
    "cancel_all": CancelAll,
    "set_leverage": SetLeverage,
    "mint_shares": MintShares,
    "burn_shares": BurnShares,
}
WIRE_NAME = {cls: name for name, cls in L2_OPERATIONS.items()}
BOOL_FIELDS = frozenset({"is_ask", "reduce_only", "is_trigger"})
SIGNATURE_PATTERN = r"^[0-9a-fA-F]{128}$"


def get_field_bound(preset: Preset, name: str) -> int:
    """The exclusive upper bound of an integer field, from the preset's widths."""
    bits = {
        "nonce": preset.account_nonce_bits,
        "expiry": preset.timestamp_bits,
        "order_expiry": preset.timestamp_bits,
        "amount": preset.amount_bits,
        "size": preset.base_amount_bits,
        "price": preset.price_bits,
        "trigger_price": preset.price_bits,
        "key": preset.price_bits + preset.order_nonce_bits,
        "kind": 2,
        "time_in_force": 2,
        "imf": 8 * RECORD_RATE_BYTES,
        "shares": preset.pool_share_bits,
    }
    if name in ("account", "to"):
        return preset.max_accounts
    if name == "market":
        return preset.max_markets
    return 1 << bits.get(name, 64)


class TxModel(BaseModel):
    """What every transaction on the wire carries besides its own fields."""

    model_config = ConfigDict(extra="forbid")
    signature: Annotated[str, Field(pattern=SIGNATURE_PATTERN, description="R ‖ s, 64 bytes hex")]
    client_order_id: Annotated[str | None, Field(max_length=64)] = None


def make_tx_model(preset: Preset, name: str, cls: type[Any]) -> type[TxModel]:
    """The pydantic model of one operation's wire form."""
    specs: dict[str, Any] = {"type": (Literal[name], ...)}
    for f in fields(cls):
        if f.name == "signature":
            continue
        default = ... if f.default is MISSING else f.default
        if f.name in BOOL_FIELDS:
            specs[f.name] = (StrictBool, default)
        else:
            bound = Field(default, ge=0, lt=get_field_bound(preset, f.name))
            specs[f.name] = (StrictInt, bound)
    model: type[TxModel] = create_model(
        f"{cls.__name__}Tx",
        __base__=TxModel,
        __doc__=f"A signed {name} (L2 operation type {cls.op_type()}).",
        **specs,
    )
    return model


def make_tx_adapter(preset: Preset) -> TypeAdapter[Any]:
    """Validates one transaction of any type (``type`` picks the model)."""
    models = tuple(make_tx_model(preset, n, c) for n, c in L2_OPERATIONS.items())
    union = Annotated[Union[models], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(union)


def to_operation(model: TxModel) -> Any:
    """The protocol operation a validated wire transaction stands for (signature decoded:
    raises ValueError for bytes that are not a signature)."""
    cls = L2_OPERATIONS[model.type]  # type: ignore[attr-defined]
    body = model.model_dump(exclude={"type", "signature", "client_order_id"})
    return cls(**body, signature=Signature.from_bytes(bytes.fromhex(model.signature)))


def to_wire(op: Any, client_order_id: str | None = None) -> dict[str, Any]:
    """The wire form of a signed protocol operation (what the SDK sends)."""
    body: dict[str, Any] = {"type": WIRE_NAME[type(op)]}
    for f in fields(op):
        value = getattr(op, f.name)
        body[f.name] = value.to_bytes().hex() if isinstance(value, Signature) else value
    if body.get("signature") is None:
        raise ValueError("the operation is not signed")
    if client_order_id is not None:
        body["client_order_id"] = client_order_id
    return body
