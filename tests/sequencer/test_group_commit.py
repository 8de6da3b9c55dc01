"""Batched admission and group commit of the write-ahead log (``sequencer.api_service``):
submissions queued meanwhile are admitted and logged together, fewer commits than submissions,
each acknowledged only after the commit that holds it; a failed commit refuses its whole group
and logs nothing of it, and the next submissions are logged as usual; within a batch the nonces
are counted through it, and one submission's refusal (a bad signature on either half of the
batch's split verification) refuses no other, except the later nonces of its own account."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from protocol.markets import MarketParams
from protocol.params import MINIMAL
from protocol.state import make_genesis
from sequencer.api_models import make_tx_adapter, to_wire
from sequencer.api_service import SPLIT_AT, Ack, ApiError, ApiService, _Submission
from sequencer.builder import build_block
from sequencer.codec import decode_tx
from sequencer.store import Store
from tests.sequencer.helpers import CHAIN_ID, USDC, chain_requests, open_accounts, transfer

USERS = list(range(3, 11))
PRESET = MINIMAL.with_overrides(account_tree_depth=5, ops_per_block=32)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ApiService]:
    state = make_genesis(PRESET, CHAIN_ID, [(MarketParams(), 10_000)])
    store = Store(tmp_path / "op.sqlite")
    store.add_requests(chain_requests(open_accounts(USERS, 1_000 * USDC)), "cursor", 1)
    sealed = build_block(state, 1, 1_000, store.get_requests(0), [])
    store.add_block(sealed.record, sealed.dropped)
    store.close()
    yield ApiService(state, tmp_path / "op.sqlite")


def models(service: ApiService, *txs: Any) -> list[Any]:
    adapter = make_tx_adapter(service.state.preset)
    return [adapter.validate_python(to_wire(tx)) for tx in txs]


def logged(service: ApiService) -> list[Any]:
    return [decode_tx(data) for _, data in service.store.get_pending_txs()]


class SlowCommits:
    """Wraps ``Store.append_txs``: counts commits, makes each take ``delay`` seconds (so that
    submissions arriving meanwhile queue up), and fails the ones listed in ``fail``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, delay: float, fail: Sequence[int] = ()):
        self.calls: list[int] = []
        self.fail, self.lock = set(fail), threading.Lock()
        original = Store.append_txs

        def append_txs(store: Store, txs: Sequence[bytes]) -> list[int]:
            with self.lock:
                self.calls.append(len(txs))
                number = len(self.calls)
            time.sleep(delay)
            if number in self.fail:
                raise sqlite3.OperationalError("disk I/O error")
            return original(store, txs)

        monkeypatch.setattr(Store, "append_txs", append_txs)


def submit_all(service: ApiService, txs: Sequence[Any]) -> list[list[Ack] | ApiError]:
    def one(tx: Any) -> list[Ack] | ApiError:
        try:
            return service.submit(models(service, tx))
        except ApiError as e:
            return e

    with ThreadPoolExecutor(len(txs)) as pool:
        return list(pool.map(one, txs))


def test_concurrent_submissions_share_commits_and_each_gets_its_own_ack(
    service: ApiService, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = SlowCommits(monkeypatch, delay=0.2)
    txs = [transfer(a, 0, USERS[0] if a != USERS[0] else USERS[1], USDC) for a in USERS]
    results = submit_all(service, txs)
    assert all(isinstance(r, list) for r in results), results
    acks = [r[0] for r in results if isinstance(r, list)]
    assert sorted(a.seq for a in acks) == list(range(1, len(USERS) + 1))
    assert [a.account for a in acks] == USERS
    assert sum(commits.calls) == len(USERS) and len(commits.calls) < len(USERS)
    by_seq = dict(service.store.get_pending_txs())
    for ack, tx in zip(acks, txs, strict=True):
        assert decode_tx(by_seq[ack.seq]) == tx  # each ack names its own transaction


def test_a_failed_commit_refuses_its_group_and_logs_none_of_it(
    service: ApiService, monkeypatch: pytest.MonkeyPatch
) -> None:
    SlowCommits(monkeypatch, delay=0.05, fail=[1])
    results = submit_all(service, [transfer(3, 0, 4, USDC)])
    assert isinstance(results[0], ApiError) and results[0].status == 503
    assert logged(service) == []
    again = transfer(3, 0, 4, USDC)  # the nonce was not taken: the same one is next
    (ack,) = service.submit(models(service, again))
    assert logged(service) == [again] and ack.nonce == 0


def test_every_waiter_of_a_failed_group_is_refused_and_the_service_goes_on(
    service: ApiService, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = SlowCommits(monkeypatch, delay=0.2, fail=[1, 2])
    results = submit_all(service, [transfer(a, 0, 3 if a != 3 else 4, USDC) for a in USERS])
    refused = [r for r in results if isinstance(r, ApiError)]
    assert all(r.status == 503 and r.code == "log_unavailable" for r in refused)
    assert len(refused) == sum(commits.calls[:2])  # everything in the failed commits
    assert len(logged(service)) == len(USERS) - len(refused)  # and only that, lost unacked


def test_nonces_are_counted_through_a_group(
    service: ApiService, monkeypatch: pytest.MonkeyPatch
) -> None:
    SlowCommits(monkeypatch, delay=0.2)
    first, duplicate = transfer(3, 0, 4, USDC), transfer(3, 0, 5, USDC)
    results = submit_all(service, [first, duplicate])
    errors = [r for r in results if isinstance(r, ApiError)]
    assert len(errors) == 1 and errors[0].code == "bad_nonce"
    assert len(logged(service)) == 1


def bad(tx: Any) -> Any:
    """``tx`` with the signature of another transaction of its account."""
    return replace(tx, signature=transfer(tx.account, tx.nonce, 9, 1).signature)


def admit_batch(service: ApiService, *submissions: Sequence[Any]) -> list[list[Ack] | ApiError]:
    """One admission batch of these submissions (each a list of transactions), as the
    admission thread takes it; the outcome of each."""
    batch = [_Submission(models(service, *txs), None) for txs in submissions]
    group = service._admit(batch)
    if group:
        service._commit_group(group)
    return [s.outcome for s in batch]  # type: ignore[misc]


def test_a_batch_refuses_each_bad_submission_alone(service: ApiService) -> None:
    """A bad signature refuses its submission and the later nonce of its account in the same
    batch; every other submission is logged, nonces counted through the batch, in order."""
    good = [transfer(3, 0, 4, USDC), transfer(5, 0, 4, USDC), transfer(3, 1, 4, USDC)]
    outcomes = admit_batch(
        service,
        [good[0]],
        [bad(transfer(4, 0, 3, USDC))],
        [transfer(4, 1, 3, USDC)],
        [good[1]],
        [good[2]],
    )
    codes = [o.code if isinstance(o, ApiError) else "ack" for o in outcomes]
    assert codes == ["ack", "bad_signature", "bad_nonce", "ack", "ack"]
    assert logged(service) == good
    assert [o[0].seq for o in outcomes if isinstance(o, list)] == [1, 2, 3]


def test_a_submission_with_one_bad_signature_logs_none_of_it(service: ApiService) -> None:
    (outcome,) = admit_batch(service, [transfer(3, 0, 4, USDC), bad(transfer(3, 1, 4, USDC))])
    assert isinstance(outcome, ApiError) and outcome.status == 401
    assert logged(service) == []
    (again,) = admit_batch(service, [transfer(3, 0, 4, USDC)])
    assert isinstance(again, list) and again[0].nonce == 0


@pytest.mark.parametrize("where", [0, SPLIT_AT * 2 - 1])
def test_the_split_verification_refuses_a_bad_signature_on_either_half(
    service: ApiService, where: int
) -> None:
    """A batch of ``2 * SPLIT_AT`` transactions is verified half on the helper thread, half on
    the admission thread: a bad signature in either half is found."""
    txs = [transfer(a, 0, 3 if a != 3 else 4, USDC) for a in USERS[: SPLIT_AT * 2]]
    txs[where] = bad(txs[where])
    outcomes = admit_batch(service, *([tx] for tx in txs))
    refused = [i for i, o in enumerate(outcomes) if isinstance(o, ApiError)]
    assert refused == [where]
    assert logged(service) == [tx for i, tx in enumerate(txs) if i != where]


def test_after_close_a_submission_is_refused_and_nothing_logged(service: ApiService) -> None:
    (ack,) = service.submit(models(service, transfer(3, 0, 4, USDC)))
    service.close()
    with pytest.raises(ApiError, match="stopping; not logged"):
        service.submit(models(service, transfer(3, 1, 4, USDC)))
    assert logged(service) == [transfer(3, 0, 4, USDC)] and ack.seq == 1


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def submit_while_logging(
    service: ApiService, commits: SlowCommits, first: Any, second: Any
) -> list[list[Ack] | ApiError]:
    """``first``, then ``second`` once ``first``'s commit has begun; ``second`` must be checked,
    verified and handed to the log thread while that commit still runs."""

    def one(tx: Any) -> list[Ack] | ApiError:
        try:
            return service.submit(models(service, tx))
        except ApiError as e:
            return e

    with ThreadPoolExecutor(2) as pool:
        outcomes = [pool.submit(one, first)]
        wait_for(lambda: len(commits.calls) == 1)
        outcomes.append(pool.submit(one, second))
        wait_for(lambda: service.checked.qsize() == 1)
        assert len(commits.calls) == 1 and not outcomes[0].done()  # still logging the first
        return [o.result() for o in outcomes]


def test_the_next_batch_is_admitted_while_a_group_is_logged_its_nonces_past_it(
    service: ApiService, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = SlowCommits(monkeypatch, delay=0.5)
    first, second = transfer(3, 0, 4, USDC), transfer(3, 1, 5, USDC)
    outcomes = submit_while_logging(service, commits, first, second)
    assert [o[0].seq for o in outcomes if isinstance(o, list)] == [1, 2]
    assert commits.calls == [1, 1] and logged(service) == [first, second]
    assert service.in_flight == {}


def test_a_failed_commit_refuses_the_nonces_planned_past_it_and_frees_them(
    service: ApiService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first group's commit fails: the next nonce of its account, admitted meanwhile, is
    refused when it is checked against the log again; then the first nonce is next again."""
    commits = SlowCommits(monkeypatch, delay=0.5, fail=[1])
    first, second = transfer(3, 0, 4, USDC), transfer(3, 1, 5, USDC)
    outcomes = submit_while_logging(service, commits, first, second)
    codes = [o.code if isinstance(o, ApiError) else "ack" for o in outcomes]
    assert codes == ["log_unavailable", "bad_nonce"] and logged(service) == []
    assert service.in_flight == {}
    (ack,) = service.submit(models(service, first))
    assert ack.nonce == 0 and logged(service) == [first]
