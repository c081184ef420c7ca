"""Error and warning types that the kit shows to users.

A :class:`CxkitError` is a user error: the CLI prints its message and exits
non-zero, never a traceback. Anything else that escapes is a bug.
"""

from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["CxkitError", "CxkitWarning", "NotEstimable", "Problem", "ValidationError", "ParamsError",
           "RunFolderConflict", "RunFolderNotOurs", "OutputError", "warn", "holding_warnings"]


class CxkitError(Exception):
    """An error caused by the user's input or settings, with a message meant for them."""


class ParamsError(CxkitError):
    """A parameter file or parameter value is wrong."""


class RunFolderConflict(ParamsError):
    """Two reports of one batch would write the same report folder.

    The plan itself is ambiguous (which report should the folder hold?), so ``cxkit batch`` refuses the whole
    batch before anything is written, where a single broken params file only fails its own report.
    """


class RunFolderNotOurs(ParamsError):
    """Something the kit did not write is in the way of a run folder: refused by name, nothing changed."""


class OutputError(CxkitError):
    """The report could not be written (a full disk, a read-only folder); the previous report is as it was."""


class NotEstimable(CxkitError):
    """The data cannot support this estimate (no churn to model, a band with no answers, ...).

    Not a mistake in the input: a report shows what it can and says, with this message, what it cannot.
    """


class CxkitWarning(UserWarning):
    """Something in the data deserves a look but does not stop the analysis."""


@dataclass(frozen=True)
class Problem:
    """One broken rule in one column of one table.

    Parameters
    ----------
    table, column : str
        Where the rule is broken (``column`` may be ``"*"`` for a whole-table rule).
    rule : str
        The rule, in words ("duplicate customer_id").
    count : int
        How many rows break it.
    keys : tuple
        Up to five offending keys (customer ids or raw values) to look at.
    """

    table: str
    column: str
    rule: str
    count: int = 0
    keys: tuple = field(default_factory=tuple)
    more: bool | None = None  # whether there are more offending keys than shown (default: count > len(keys))

    def __str__(self) -> str:
        where = self.table if self.column == "*" else f"{self.table}.{self.column}"
        text = f"{where}: {self.rule}"
        if self.count:
            text += f" ({self.count:,} row{'s' if self.count != 1 else ''}"
            if self.keys:
                shown = ", ".join(str(k) for k in self.keys)
                more = ", ..." if (self.count > len(self.keys) if self.more is None else self.more) else ""
                text += f"; e.g. {shown}{more}"
            text += ")"
        return text


class ValidationError(CxkitError):
    """The input data breaks one or more rules of the data contract.

    Attributes
    ----------
    problems : list of Problem
        Every rule that failed, each naming table, column, count and a few keys.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [f"the data breaks {len(self.problems)} rule(s) of the contract:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


_held: dict | None = None  # thread -> the kit's warnings held by holding_warnings, in the order they came
_held_lock = threading.Lock()


def warn(message: str, stacklevel: int = 2) -> None:
    """Warn with a :class:`CxkitWarning` (``stacklevel`` as :func:`warnings.warn` counts it from the caller); while
    :func:`holding_warnings` is on, keep it to be warned when that ends."""
    with _held_lock:
        if _held is not None:
            _held.setdefault(threading.get_ident(), []).append(message)
            return
    warnings.warn(message, CxkitWarning, stacklevel=stacklevel + 1)


@contextmanager
def holding_warnings():
    """Hold the kit's warnings (:func:`warn`) while work runs in two threads, and warn them when it ends: the
    calling thread's first, then the others', each in the order they came, so they read as one thread's would.

    Python's warnings filters (before 3.14) are one list for the whole process, which every
    :class:`warnings.catch_warnings` swaps in and out (pandas enters one in many calls): two threads doing so
    can hide each other's warnings for a moment, or leave one's filter behind. So the kit's own warnings wait
    until one thread is left, and a list of filters left behind by another thread is put back as it was.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with holding_warnings():
    ...         warn("first")
    ...         print(len(caught))
    0
    >>> [str(w.message) for w in caught]
    ['first']
    """
    global _held
    with _held_lock:
        nested = _held is not None
        if not nested:
            _held = {}
    filters = warnings.filters
    try:
        yield
    finally:
        if not nested:
            with _held_lock:
                held, _held = _held, None
            if warnings.filters is not filters:  # another thread's catch_warnings left its filters behind
                warnings.filters = filters
                warnings._filters_mutated()
            me = threading.get_ident()
            for thread in sorted(held, key=lambda t: t != me):  # stable: this thread's, then the others' in order
                for message in held[thread]:
                    warnings.warn(message, CxkitWarning, stacklevel=3)
