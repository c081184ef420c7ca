"""Small helpers so every result object shows well in notebooks and reports.

A result's HTML (its ``_repr_html_``) is a titled table, notes under it and a "read next" line naming the
attributes and methods to turn to; an object not fitted yet says so and names the call that fits it.

Examples
--------
>>> import pandas as pd
>>> html_block("Churn", pd.DataFrame({"band": ["a"], "rate": [0.25]}), read_next={"summary": "the table"}
...            ).split("</table>")[1]
"<p class='cx-note'>Read next: <code>.summary</code> (the table).</p></div>"
>>> unfitted_html("KeyDrivers(outcome='nps')  # unfitted", "fit(frame)")
"<div class='cx-result'><pre>KeyDrivers(outcome=&#x27;nps&#x27;)  # unfitted</pre><p class='cx-note'>Not fitted yet: \
call <code>.fit(frame)</code>.</p></div>"
"""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["html_block", "unfitted_html", "read_next_html"]


def read_next_html(read_next: dict) -> str:
    """``{attribute: what it holds}`` as one "Read next" note."""
    items = "; ".join(f"<code>.{html.escape(k)}</code> ({html.escape(v)})" for k, v in read_next.items())
    return f"<p class='cx-note'>Read next: {items}.</p>"


def html_block(title: str, frame: pd.DataFrame, notes: list[str] | None = None, digits: int = 3,
               read_next: dict | None = None) -> str:
    """A titled, escaped HTML table with notes under it (used by ``_repr_html_``)."""
    from cxkit.formats import number

    table = frame.to_html(index=False, float_format=lambda v: number(v, digits), na_rep="–",
                          classes="cx-table", border=0, escape=True)
    notes_html = "".join(f"<p class='cx-note'>{html.escape(n)}</p>" for n in notes or [])
    more = read_next_html(read_next) if read_next else ""
    return f"<div class='cx-result'><h4>{html.escape(title)}</h4>{table}{notes_html}{more}</div>"


def unfitted_html(text: str, call: str) -> str:
    """What an object not fitted yet shows: its settings (``text``, its repr) and the call that fits it."""
    return (f"<div class='cx-result'><pre>{html.escape(text)}</pre><p class='cx-note'>Not fitted yet: call "
            f"<code>.{html.escape(call)}</code>.</p></div>")
