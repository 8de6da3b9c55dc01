"""What the API serves, apart from HTTP: admission of signed transactions and JSON views of the
operator's live state, its store and L1.

Admission (``submit``) does every check that needs no block: the wire model (types, widths,
fields), then against the live state the account and market exist, the key is registered, the
nonce is the account's next one (its state nonce plus its transactions still pending), the
transaction has not expired, the signature verifies, the operation is one the block circuit
proves; only then is it appended to the write-ahead log (``Mempool.submit``), and the log's
sequence number is the acknowledgement. A refusal raises ``ApiError`` (status, code, message)
and logs nothing. The rules still run when the block is built (a transfer larger than the
collateral is dropped there, with its error).

The live state is shared with the operator's thread: every read and the admission's checks
hold ``lock``, which the operator holds while it seals a block (``ServedOperator``).

Admission runs on two threads of its own (``start`` queues a submission, ``submit`` queues one
and waits). The admission thread takes every submission queued meanwhile as a batch (up to
``ADMISSION_BATCH``):
- the wire models decoded and the rate limits taken;
- under the lock, the state checks, the nonces counted through the batch and past the groups
  still being logged;
- the signatures, outside the lock, all in one call of the native core per half batch
  (``protocol.signing.verify_tx_signatures``), one half on a helper thread, so that both cores
  verify and the GIL changes hands twice a batch rather than three times a transaction;
- the batch's passing submissions handed to the log thread as a group; the admission thread
  takes the next batch while that group is logged.

The log thread takes every group handed over meanwhile and commits them together: each
submission encoded for the log; under the lock again, every submission's nonces checked once
more against what is logged (one refused for its signature, or in an earlier group that
failed, leaves the later nonces of its account unusable); then all that pass appended in one
SQLite transaction (one fsync, outside the lock); and only then each acknowledged or refused,
in the order of admission, once the nonces the admission planned past them are settled. A
crash loses no acknowledged transaction. If the commit fails, every submission in it is
refused (503) and nothing of it is logged.

Each submission is all or nothing, and one submission's refusal refuses no other.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from queue import SimpleQueue
from typing import Any, TypeVar

from circuits.ops.slot import OP_CIRCUITS
from protocol.accounts import Account
from protocol.errors import UnknownAccount, UnknownMarket
from protocol.jubjub import Point
from protocol.markets import Market
from protocol.ops.registry import decode_request, get_priority_operation
from protocol.risk import compute_risk, compute_unsettled_funding
from protocol.signing import verify_tx_signatures
from protocol.state import State
from sequencer.api_models import WIRE_NAME, TxModel, to_operation
from sequencer.api_views import (
    L1View,
    compute_levels,
    describe,
    describe_market,
    describe_order,
    describe_records,
)
from sequencer.codec import L2_TYPES, CodecError, decode_priority_request, decode_tx
from sequencer.mempool import Mempool, encode_checked
from sequencer.progress import Progress
from sequencer.store import Store
from sequencer.submitter import L1Progress
from sequencer.witness import UnprovableOperationError, check_provable

# Operations the operator can include: the codec logs them and the block circuit proves them.
PROVABLE = frozenset(c.op_class for c in OP_CIRCUITS) & frozenset(L2_TYPES.values())


class ApiError(Exception):
    """A refused request: the HTTP status, a short code and a message for the user."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


@dataclass(frozen=True)
class Ack:
    """A logged transaction: its write-ahead-log sequence number and the client's order id."""

    seq: int
    type: str
    account: int
    nonce: int
    client_order_id: str | None


class _Submission:
    """One request's transactions, from the admission queue to their outcome: acknowledged once
    logged, or refused. With ``reply``, the outcome is handed to it (on the admission or the log
    thread); without, ``wait`` returns it. While ``held`` (by the log thread) the outcome is
    kept until ``release``."""

    def __init__(
        self, models: Sequence[TxModel], client: object, reply: Reply | None = None
    ) -> None:
        self.models, self.client, self.reply = models, client, reply
        self.ops: list[Any] = []
        self.keys: list[Point] = []
        self.data: list[bytes] = []  # the log's encodings
        self.outcome: list[Ack] | ApiError | None = None
        self.done = threading.Event() if reply is None else None
        self.held = False  # an outcome is kept until ``release``

    def accept(self, seqs: Sequence[int]) -> None:
        """Logged under these sequence numbers: acknowledged."""
        self.finish(
            [
                Ack(seq, m.type, op.account, op.nonce, m.client_order_id)  # type: ignore[attr-defined]
                for seq, op, m in zip(seqs, self.ops, self.models, strict=True)
            ]
        )

    def refuse(self, error: ApiError) -> None:
        self.finish(error)

    def finish(self, outcome: list[Ack] | ApiError) -> None:
        self.outcome = outcome
        if not self.held:
            self.release()

    def release(self) -> None:
        """Hands the outcome over (to ``reply`` or ``wait``), now that nothing holds it."""
        self.held = False
        if self.reply is not None:
            assert self.outcome is not None
            self.reply(self.outcome)
        if self.done is not None:
            self.done.set()

    def wait(self) -> list[Ack]:
        assert self.done is not None, "a submission with a reply is not waited for"
        self.done.wait()
        if isinstance(self.outcome, ApiError):
            raise self.outcome
        assert self.outcome is not None
        return self.outcome


Reply = Callable[[list[Ack] | ApiError], None]
ADMISSION_BATCH = 256  # submissions admitted together, at most
SPLIT_AT = 4  # transactions in a batch from which half its signatures go to the helper thread


Item = TypeVar("Item")


def _drain(queue: SimpleQueue[Item | None], most: int) -> Iterator[list[Item]]:
    """Everything queued meanwhile, up to ``most`` items a list, one list after another, until
    ``None`` is taken (what was taken before it still comes out)."""
    while True:
        first = queue.get()
        if first is None:
            return
        items = [first]
        while len(items) < most and not queue.empty():
            item = queue.get()
            if item is None:
                yield items
                return
            items.append(item)
        yield items


def _refuse_unanswered(submissions: list[_Submission], e: Exception) -> None:
    for submission in submissions:
        if submission.outcome is None:
            submission.refuse(ApiError(500, "internal", f"not logged: {e}"))


class RateLimiter:
    """A token bucket per key (an account, a connection): ``rate`` per second, ``burst`` deep.
    One key's flood empties its own bucket only."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.buckets: dict[object, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, key: object, n: int = 1) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            ok = tokens >= n
            self.buckets[key] = (tokens - n if ok else tokens, now)
        return ok


class ApiService:
    """See the module docstring."""

    def __init__(
        self,
        state: State,
        store_path: Path,
        lock: threading.RLock | None = None,
        l1: L1View | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.state = state
        self.store_path = store_path
        self.lock = lock or threading.RLock()
        self.l1 = l1
        self.limiter = limiter or RateLimiter(rate=1_000.0, burst=2_000.0)
        self.local = threading.local()
        self.next_nonces: dict[int, int] = {}
        self.proving: dict[int, dict[str, float]] = {}  # batch -> stage start / end times
        self.pending: SimpleQueue[_Submission | None] = SimpleQueue()
        # groups checked and verified, for the log thread: (number, submissions)
        self.checked: SimpleQueue[tuple[int, list[_Submission]] | None] = SimpleQueue()
        # account -> (its next nonce past the groups being logged, the last such group)
        self.in_flight: dict[int, tuple[int, int]] = {}
        self.groups = 0  # groups handed to the log thread so far
        self.started = False  # the admission and log threads
        self.admitter_lock = threading.Lock()
        self.closed = False
        self.helper = ThreadPoolExecutor(1, thread_name_prefix="api-verify")
        with self.lock:
            self.refresh_nonces()

    @property
    def store(self) -> Store:
        """This thread's connection to the operator's SQLite file."""
        store = getattr(self.local, "store", None)
        if store is None:
            store = self.local.store = Store(self.store_path)
        return store

    # -- admission ------------------------------------------------------------------------------

    def refresh_nonces(self) -> None:
        """Next nonces of the accounts with pending transactions (call holding the lock)."""
        nonces: dict[int, int] = {}
        for _, data in Mempool(self.store).get_pending():
            tx = decode_tx(data)
            nonces[tx.account] = max(nonces.get(tx.account, 0), tx.nonce + 1)
        self.next_nonces = nonces

    def get_next_nonce(self, account: Account) -> int:
        """The state's nonce, past the pending transactions."""
        return max(account.nonce, self.next_nonces.get(account.index, 0))

    def _get_planned_nonce(self, account: Account) -> int:
        """The next nonce past the pending transactions and the groups being logged: what the
        admission plans from (call holding the lock)."""
        entry = self.in_flight.get(account.index)
        logged = self.get_next_nonce(account)
        return logged if entry is None else max(logged, entry[0])

    def submit(self, models: Sequence[TxModel], client: object = None) -> list[Ack]:
        """Admits one submission (see the module docstring) and waits: its acks, all or
        nothing; ``ApiError`` if it is refused."""
        submission = _Submission(models, client)
        self._enqueue(submission)
        return submission.wait()

    def start(self, models: Sequence[TxModel], client: object, reply: Reply) -> None:
        """Queues one submission for admission; ``reply`` gets its acks or its refusal later,
        on the admission thread."""
        self._enqueue(_Submission(models, client, reply))

    def close(self) -> None:
        """Stops the admission thread once it has answered what is queued; later submissions
        are refused."""
        with self.admitter_lock:
            self.closed = True
            self.pending.put(None)

    def _enqueue(self, submission: _Submission) -> None:
        with self.admitter_lock:
            if self.closed:
                submission.refuse(ApiError(503, "stopping", "the API is stopping; not logged"))
                return
            self.pending.put(submission)
            if not self.started:
                self.started = True
                for target, name in ((self._admit_queued, "admission"), (self._log_queued, "log")):
                    threading.Thread(target=target, name=f"api-{name}", daemon=True).start()

    def _admit_queued(self) -> None:
        """The admission thread: batches of whatever is queued, until ``close``; each batch's
        group to the log thread."""
        for batch in _drain(self.pending, ADMISSION_BATCH):
            try:
                group = self._admit(batch)
            except Exception as e:  # never leave a client without its answer
                _refuse_unanswered(batch, e)
                continue
            if group:
                self._hand_over(group)
        self.helper.shutdown(wait=False)
        self.checked.put(None)

    def _hand_over(self, group: list[_Submission]) -> None:
        """``group`` to the log thread; the admission plans the next nonces past it."""
        with self.lock:
            self.groups += 1
            for submission in group:
                for op in submission.ops:
                    self.in_flight[op.account] = (op.nonce + 1, self.groups)
        self.checked.put((self.groups, group))

    def _log_queued(self) -> None:
        """The log thread: every group handed over meanwhile, in one commit, until the
        admission thread stops."""
        for groups in _drain(self.checked, ADMISSION_BATCH):
            submissions = [s for _, group in groups for s in group]
            for submission in submissions:  # answered once the nonces below are settled
                submission.held = True
            try:
                self._commit_group(submissions)
            except Exception as e:
                _refuse_unanswered(submissions, e)
            with self.lock:  # logged or refused: their nonces are planned from the log again
                for number, group in groups:
                    for op in (op for s in group for op in s.ops):
                        if self.in_flight.get(op.account, (0, 0))[1] == number:
                            del self.in_flight[op.account]
            for submission in submissions:
                submission.release()

    def _admit(self, batch: list[_Submission]) -> list[_Submission]:
        """One batch through the admission's checks (the module docstring): the submissions
        that pass, for the group commit; the others are refused."""
        live = []
        for submission in batch:
            try:
                submission.ops = [self._decode(m) for m in submission.models]
                self._take_rate(submission)
            except ApiError as e:
                submission.refuse(e)
                continue
            live.append(submission)
        checked = []
        with self.lock:
            planned: dict[int, int] = {}
            for submission in live:
                trial = dict(planned)
                try:
                    submission.keys = self._check(submission.ops, trial, self._get_planned_nonce)
                except ApiError as e:
                    submission.refuse(e)
                    continue
                planned = trial
                checked.append(submission)
        group = []
        for submission, signed in zip(checked, self._verify(checked), strict=True):
            if not signed:
                account = next(op.account for op in submission.ops)
                submission.refuse(
                    ApiError(401, "bad_signature", f"bad signature for account {account}")
                )
                continue
            group.append(submission)
        return group

    def _take_rate(self, submission: _Submission) -> None:
        for op in submission.ops:
            client = submission.client
            if not self.limiter.take(("account", op.account)) or (
                client is not None and not self.limiter.take(("client", client))
            ):
                raise ApiError(429, "rate_limited", f"account {op.account}: too many requests")

    def _verify(self, submissions: list[_Submission]) -> list[bool]:
        """Whether every signature of each submission verifies: the batch's signatures, half on
        the helper thread where there are ``SPLIT_AT`` or more."""
        chain_id = self.state.config.chain_id
        signed = [(k, op) for s in submissions for k, op in zip(s.keys, s.ops, strict=True)]
        half = len(signed) // 2 if len(signed) >= SPLIT_AT else 0
        other = self.helper.submit(verify_tx_signatures, chain_id, signed[:half]) if half else None
        valid = verify_tx_signatures(chain_id, signed[half:])
        if other is not None:
            valid = other.result() + valid
        answers, start = [], 0
        for submission in submissions:
            answers.append(all(valid[start : start + len(submission.ops)]))
            start += len(submission.ops)
        return answers

    def _commit_group(self, group: list[_Submission]) -> None:
        """Encodes each submission for the log and re-checks it under the lock (nonces counted
        through the group, from what is logged); logs those that pass in one SQLite transaction
        without the lock (the fsync holds up neither the operator nor the views); then
        acknowledges or refuses each, and advances the next nonces."""
        encoded = []
        for submission in group:
            try:
                submission.data = [self._encode(op) for op in submission.ops]
            except ApiError as e:
                submission.refuse(e)
                continue
            encoded.append(submission)
        with self.lock:
            accepted, planned = self._admit_group(encoded)
        try:
            seqs = Mempool(self.store).submit_encoded([d for s in accepted for d in s.data])
        except sqlite3.Error as e:
            for submission in accepted:
                submission.refuse(ApiError(503, "log_unavailable", f"not logged: {e}"))
            return
        with self.lock:
            for account, nonce in planned.items():
                self.next_nonces[account] = max(self.next_nonces.get(account, 0), nonce)
        start = 0
        for submission in accepted:
            submission.accept(seqs[start : start + len(submission.data)])
            start += len(submission.data)

    def _admit_group(self, group: list[_Submission]) -> tuple[list[_Submission], dict[int, int]]:
        """The submissions that pass the state checks again and the next nonces they leave; the
        others are refused (call holding the lock)."""
        planned: dict[int, int] = {}
        accepted = []
        for submission in group:
            trial = dict(planned)
            try:
                self._check(submission.ops, trial)
            except ApiError as e:
                submission.refuse(e)
                continue
            planned = trial
            accepted.append(submission)
        return accepted, planned

    @staticmethod
    def _encode(op: Any) -> bytes:
        try:
            return encode_checked(op)
        except (CodecError, ValueError) as e:
            raise ApiError(400, "malformed", str(e)) from None

    @staticmethod
    def _decode(model: TxModel) -> Any:
        try:
            return to_operation(model)
        except ValueError as e:
            raise ApiError(400, "malformed_signature", f"malformed signature: {e}") from None

    def _check(
        self,
        ops: Sequence[Any],
        planned: dict[int, int] | None = None,
        next_nonce: Callable[[Account], int] | None = None,
    ) -> list[Point]:
        """State checks of a batch (nonces counted through it, and after those in ``planned``,
        which is updated; an account not in ``planned`` from ``next_nonce``, by default
        ``get_next_nonce``); the signers' keys."""
        planned = {} if planned is None else planned
        next_nonce = next_nonce or self.get_next_nonce
        keys = []
        for op in ops:
            account = self._get_account(op.account)
            for name in ("to",):
                if hasattr(op, name):
                    self._get_account(getattr(op, name))
            if hasattr(op, "market"):
                self._get_market(op.market)
            if type(op) not in PROVABLE:
                raise ApiError(
                    422,
                    "unprovable_operation",
                    f"{WIRE_NAME[type(op)]}: the block circuit does not prove "
                    f"{type(op).__name__} yet, so the operator cannot include it; not logged",
                )
            try:  # e.g. an account index outside the tree
                check_provable(self.state, op)
            except UnprovableOperationError as e:
                message = f"{WIRE_NAME[type(op)]}: {e}, so the operator cannot include it"
                raise ApiError(422, "unprovable_operation", f"{message}; not logged") from e
            if not account.has_key():
                raise ApiError(403, "key_not_registered", f"account {op.account} has no L2 key")
            expected = planned.get(op.account, next_nonce(account))
            if op.nonce != expected:
                what = "was used already" if op.nonce < expected else "is ahead"
                message = f"nonce {op.nonce} of account {op.account} {what}; next is {expected}"
                raise ApiError(409, "bad_nonce", message)
            planned[op.account] = expected + 1
            if op.expiry < self.state.timestamp:
                raise ApiError(422, "expired", f"expired at {op.expiry}, L2 time is later")
            keys.append(Point(*account.pubkey))
        return keys

    def _get_account(self, index: int) -> Account:
        try:
            return self.state.get_account(index)
        except UnknownAccount:
            raise ApiError(404, "unknown_account", f"no account {index}") from None

    def _get_market(self, index: int) -> Market:
        try:
            return self.state.get_market(index)
        except UnknownMarket:
            raise ApiError(404, "unknown_market", f"no market {index}") from None

    # -- views of the state ---------------------------------------------------------------------

    def get_account(self, index: int) -> dict[str, Any]:
        with self.lock:
            account = self._get_account(index)
            markets = self.state.markets
            risk = compute_risk(account, markets)
            positions = [
                {
                    "market": m,
                    "size": p.size,
                    "entry_quote": p.entry_quote,
                    "unsettled_funding": compute_unsettled_funding(p, markets[m]),
                    "imf": p.imf,
                }
                for m, p in sorted(account.positions.items())
                if not p.is_empty()
            ]
            orders = [describe_order(ref, order) for ref, order in account.orders.items()]
            return {
                "index": index,
                "owner": "0x" + account.owner.hex(),
                "key_registered": account.has_key(),
                "nonce": account.nonce,
                "next_nonce": self.get_next_nonce(account),
                "collateral": account.collateral,
                "positions": positions,
                "open_orders": orders,
                "pool_shares": account.pool_shares,
                "tav": risk.tav,
                "imr": risk.imr,
                "mmr": risk.mmr,
                "cmr": risk.cmr,
                "health": risk.health.name.lower(),
            }

    def list_accounts(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {
                    "index": a.index,
                    "owner": "0x" + a.owner.hex(),
                    "collateral": a.collateral,
                    "nonce": a.nonce,
                    "open_orders": a.open_orders,
                }
                for _, a in sorted(self.state.accounts.items())
            ]

    def list_markets(self) -> list[dict[str, Any]]:
        with self.lock:
            return [describe_market(m) for m in self.state.markets]

    def get_market(self, index: int) -> dict[str, Any]:
        with self.lock:
            return describe_market(self._get_market(index))

    def get_levels(self) -> list[dict[str, list[list[int]]]]:
        """Every market's book as price levels (the feed's source)."""
        with self.lock:
            return [compute_levels(m, self.state.accounts) for m in self.state.markets]

    # -- batches, the priority queue, L1 --------------------------------------------------------

    def on_progress(self, p: Progress) -> None:
        """Times each batch's proving from the operator's progress reports."""
        times = self.proving.setdefault(p.batch, {})
        if p.stage in ("witness", "prove"):
            times.setdefault("start", time.monotonic())
        elif p.stage == "verify" and "start" in times:
            times.setdefault("end", time.monotonic())

    def get_batches(self, limit: int = 50) -> list[dict[str, Any]]:
        blocks = self.store.get_blocks()[-limit:]
        l1 = self.l1.get_progress() if self.l1 else None
        return [self._describe_block(b, l1, with_ops=False) for b in reversed(blocks)]

    def get_batch(self, number: int) -> dict[str, Any]:
        blocks = [b for b in self.store.get_blocks() if b.number == number]
        if not blocks:
            raise ApiError(404, "unknown_batch", f"no batch {number}")
        l1 = self.l1.get_progress() if self.l1 else None
        return self._describe_block(blocks[0], l1, with_ops=True)

    def _describe_block(self, b: Any, l1: L1Progress | None, with_ops: bool) -> dict[str, Any]:
        status, steps = "sealed", {}
        if l1 is not None and self.l1 is not None:
            for step, reached in (
                ("commit", l1.committed),
                ("verify", l1.verified),
                ("execute", l1.executed),
            ):
                if b.number <= reached:
                    status = {"commit": "committed", "verify": "verified"}.get(step, "executed")
                    steps[step] = self.l1.get_batch_tx(step, b.number)
        times = self.proving.get(b.number, {})
        body: dict[str, Any] = {
            "number": b.number,
            "timestamp": b.timestamp,
            "status": status,
            "state_root": hex(b.state_root),
            "priority_requests": b.priority_count,
            "l2_transactions": len(b.l2_seqs),
            "l1": steps,
            "proving_seconds": times["end"] - times["start"] if "end" in times else None,
        }
        if with_ops:
            requests = self.store.get_requests(b.priority_first, b.priority_count)
            ops: list[Any] = [decode_priority_request(r.request) for r in requests]
            ops += [decode_tx(self.store.get_tx(seq)) for seq in b.l2_seqs]
            body["operations"] = [describe(op) for op in ops]
            body["slots"] = describe_records(self.store.get_block_records(b.number))
            dropped = self.store.get_dropped()
            body["dropped"] = [
                {"seq": s, "error": e}
                for s, e in sorted(dropped.items())
                if s in self._dropped_in(b.number)
            ]
        return body

    def _dropped_in(self, number: int) -> set[int]:
        rows = self.store.db.execute("SELECT seq FROM dropped WHERE block = ?", (number,))
        return {int(r[0]) for r in rows}

    def get_priority_queue(self) -> dict[str, Any]:
        """The requests not executed yet (from L1 where there is a link, else as the operator
        took them), each with its deadline and whether a sealed batch holds it already."""
        consumed = sum(b.priority_count for b in self.store.get_blocks())
        if self.l1 is not None:
            now: int | None = self.l1.get_time()
            requests = self.l1.get_queue()
        else:
            now, requests = None, self.store.get_requests(consumed)
        queue = [
            {
                "id": r.id,
                "operation": describe(get_priority_operation(decode_request(r.request))),
                "deadline": r.expires_at,
                "overdue": now is not None and now >= r.expires_at,
                "in_sealed_batch": r.id < consumed,
                "l1_tx": r.tx_hash,
            }
            for r in requests
        ]
        return {"next_request": consumed, "l1_time": now, "pending": queue}

    def get_status(self) -> dict[str, Any]:
        with self.lock:
            block, timestamp = self.state.block_number, self.state.timestamp
        body: dict[str, Any] = {
            "chain_id": self.state.config.chain_id,
            "preset": self.state.preset.name,
            "l2_block": block,
            "l2_time": timestamp,
            "mempool": len(Mempool(self.store)),
            "desert_mode": None,
            "l1": None,
        }
        if self.l1 is not None:
            body["desert_mode"] = self.l1.is_desert()
            body["l1"] = asdict(self.l1.get_progress())
        return body
