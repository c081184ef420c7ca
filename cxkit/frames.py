"""Analysis-ready tables built in DuckDB from validated data.

Each function takes a :class:`~cxkit.load.CXData` and returns a small pandas
frame (or a DuckDB relation for large ones); the SQL lives here once, so every
analysis, notebook and the benchmark build their inputs the same way.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["answers"]


def answers(data, which: str = "latest", score: str = "nps") -> pd.DataFrame:
    """Survey answers with the customer's segment columns.

    Parameters
    ----------
    data : CXData
    which : {"latest", "first", "all"}
        One answer per customer (their latest or first before ``as_of``) or every answer.
    score : str
        Score column to keep rows for (rows without it are dropped).

    Returns
    -------
    DataFrame
        ``customer_id, response_date`` (dated data), the score columns, and the segment columns.
    """
    if which not in ("latest", "first", "all"):
        raise ValueError("which must be 'latest', 'first' or 'all'")
    segs = "".join(f', c."{s}"' for s in data.segments)
    if data.mode == "snapshot":
        scores = ", ".join(f"c.{s}" for s in data.scores)
        return data.df(f"SELECT c.customer_id, {scores}{segs} FROM customers c WHERE c.{score} IS NOT NULL")
    scores = ", ".join(f"r.{s}" for s in data.scores)
    query = (f"SELECT r.customer_id, r.response_date, {scores}{segs} FROM responses r "
             f"JOIN customers c USING (customer_id) WHERE r.{score} IS NOT NULL")
    if which != "all":
        order = "DESC" if which == "latest" else "ASC"
        query += f" QUALIFY row_number() OVER (PARTITION BY r.customer_id ORDER BY r.response_date {order}) = 1"
    return data.df(query + " ORDER BY r.customer_id, r.response_date")
