"""Undo journal: how a rejected operation leaves the state exactly as it was.

Every named mutator of the state records the inverse of what it does as one entry
``(undo, a, b, c)``; rolling back calls the entries' ``undo(a, b, c)`` newest first. Savepoints
nest: ``begin`` marks the journal, ``rollback`` undoes back to the newest mark, ``commit`` drops
it (the entries stay until the outermost commit, so an enclosing rollback still undoes them).
Undoing restores values *and* positions (an order re-enters its price level where it was), so a
rolled-back state encodes to the same bytes as before. The journal is also the context manager
of ``State.transaction``: ``with`` begins, and commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mypy_extensions import mypyc_attr

_MISSING: Any = object()

Undo = tuple[Callable[[Any, Any, Any], object], Any, Any, Any]


def restore_item(mapping: dict[Any, Any], key: object, old: object) -> None:
    """Undo of ``mapping[key] = ...``: put back the old value, or delete a key that was new."""
    if old is _MISSING:
        del mapping[key]
    else:
        mapping[key] = old


def _list_delete(items: list[Any], index: int, _: object) -> None:
    del items[index]


def _list_insert(items: list[Any], index: int, item: object) -> None:
    items.insert(index, item)


@mypyc_attr(allow_interpreted_subclasses=True)  # see protocol.types: copyable when compiled
class Journal:
    """A list of undo entries and a stack of savepoints into it."""

    __slots__ = ("entries", "marks")

    def __init__(self) -> None:
        self.entries: list[Undo] = []
        self.marks: list[int] = []

    @property
    def depth(self) -> int:
        return len(self.marks)

    def begin(self) -> None:
        self.marks.append(len(self.entries))

    def __enter__(self) -> None:  # begin's body inline, as __exit__ has commit's
        self.marks.append(len(self.entries))

    def commit(self) -> None:
        marks = self.marks
        marks.pop()
        if not marks:
            self.entries.clear()

    def __exit__(self, kind: type[BaseException] | None, value: object, trace: object) -> None:
        if kind is not None:
            self.rollback()
            return
        marks = self.marks  # commit's body inline: one call less per operation and per fill
        marks.pop()
        if not marks:
            self.entries.clear()

    def rollback(self) -> None:
        self.rollback_to(self.marks.pop())

    def rollback_to(self, mark: int) -> None:
        """Undoes every entry after ``mark`` (a ``len(entries)`` taken earlier) without touching
        the savepoints: a cheap inner savepoint for a step that an enclosing one also covers."""
        entries = self.entries
        while len(entries) > mark:
            undo, a, b, c = entries.pop()
            undo(a, b, c)

    def set_attr(self, obj: object, name: str, value: object) -> None:
        """``obj.name = value``, journaled."""
        self.entries.append((setattr, obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def list_insert(self, items: list[Any], index: int, item: object) -> None:
        """``items.insert(index, item)``, journaled."""
        self.entries.append((_list_delete, items, index, None))
        items.insert(index, item)

    def list_delete(self, items: list[Any], index: int) -> None:
        """``del items[index]``, journaled (undo puts the item back at the same index)."""
        self.entries.append((_list_insert, items, index, items[index]))
        del items[index]

    def set_item(self, mapping: dict[Any, Any], key: object, value: object) -> None:
        """``mapping[key] = value``, journaled."""
        self.entries.append((restore_item, mapping, key, mapping.get(key, _MISSING)))
        mapping[key] = value

    def del_item(self, mapping: dict[Any, Any], key: object) -> None:
        """``del mapping[key]``, journaled (re-inserted at the end on undo)."""
        self.entries.append((restore_item, mapping, key, mapping.pop(key)))
