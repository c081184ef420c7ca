"""The survival clock: which clocks exist, how each is described, its entry column and its phrases.

Examples
--------
>>> entry_column("tenure_entry"), since("response"), since("tenure")
('entry', 'after answering', 'of tenure')
"""

from __future__ import annotations

__all__ = ["CLOCKS", "clock_description", "entry_column", "since", "clock_of"]

CLOCKS = ("response", "tenure_entry", "tenure")


def clock_description(clock: str, which: str = "latest", mode: str = "dated") -> str:
    """One sentence that says how time is measured, for every summary and report."""
    if clock == "response":
        answer = "latest" if which == "latest" else "first"
        text = (f"months since the customer's {answer} survey answer (landmark clock), in the band of that "
                "answer")
        return text + ("; a later answer starts a new spell in its own band" if which == "latest" else "")
    if clock == "tenure_entry":
        return ("months since signup, with customers counted from their survey answer on "
                "(delayed entry, so no one is credited with time before they answered)")
    if mode == "snapshot":
        return ("months since signup (tenure clock); the score is a snapshot taken at the end of follow-up, "
                "so it describes customers as they were then, not before")
    return ("months since signup (tenure clock); customers had to survive until they answered, so this clock "
            "flatters respondents (immortal-time bias): prefer the response clock")


def entry_column(clock: str) -> str | None:
    """The delayed-entry column a clock's frame carries (only ``tenure_entry`` has one)."""
    return "entry" if clock == "tenure_entry" else None


def since(clock: str) -> str:
    """How a time on this clock is said: ``12 months after answering`` or ``12 months of tenure``."""
    return "after answering" if clock == "response" else "of tenure"


def clock_of(mode: str, clock: str) -> str:
    """The clock a report uses: snapshot data has only the tenure clock."""
    return "tenure" if mode == "snapshot" else clock
