"""Error and warning types that the kit shows to users.

A :class:`CxkitError` is a user error: the CLI prints its message and exits
non-zero, never a traceback. Anything else that escapes is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CxkitError", "CxkitWarning", "NotEstimable", "Problem", "ValidationError", "ParamsError",
           "RunFolderConflict", "RunFolderNotOurs", "OutputError"]


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
