"""The analysis store of a batch: validated data and the numbers many audiences share, computed once.

A batch renders many audience reports over the same data. Without a store each report validates the
raw inputs again (twice: before the kernel starts and inside it) and recomputes the population it is
compared with (everyone, and its parent in a hierarchy). With one, the batch validates the data once,
writes the validated tables and the warnings their load raised into a DuckDB file inside the output
folder (``OUT/.store/<key>.duckdb``), and computes each population's reference numbers once
(:meth:`cxkit.leadership.LeadershipAnalysis.population_numbers`). Every report then opens the store
read-only, takes its slice of the validated tables, and reads the comparison numbers from it.

The key covers what the validated tables depend on: each input's identity (path, size, modified and
changed time, inode; or its query), its mapping and read options, ``as_of``, ``min_segment_size`` and the kit's
version. A changed input makes a new key, so a stale store is never read.

Examples
--------
>>> store = AnalysisStore.build(load("params/demo.yaml"), "reports/.store", "k1")  # doctest: +SKIP
>>> data = store.data().subset({"region": "West"})                                # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path

from cxkit.errors import CxkitWarning
from cxkit.sources import RecordedSource

__all__ = ["AnalysisStore", "RecordedSource", "store_key", "VOLATILE_SUFFIX"]

_FORMAT = 2  # bump when the store's layout changes (2: rows in audience order, with POSITION)
#: The hidden column of a store's tables: the place of the row's customer in the store's audience order.
POSITION = "__cxkit_position"


#: Tables read from an Ibis backend have no cheap identity (no file to stat): a store of such data is keyed
#: by the batch that built it (``CXKIT_BATCH_ID``, set by :func:`cxkit.render.batch.batch` and inherited by
#: its workers), so every batch reads the backend afresh, and the store is deleted as soon as a batch does
#: not use it (:func:`cxkit.render.stores.prune_stores`).
BATCH_ID_VARIABLE = "CXKIT_BATCH_ID"
VOLATILE_SUFFIX = "-w"


def batch_id() -> str:
    """This batch's id (made on first use, so the workers started afterwards inherit it)."""
    return os.environ.setdefault(BATCH_ID_VARIABLE, uuid.uuid4().hex)


def _identity(source) -> dict:
    """What a source's validated table depends on, without reading it: its spec and its files' stat."""
    spec = {"table": source.table, "kind": source.kind, "query": source.query, "db_table": source.db_table,
            "columns": source.columns, "date_format": source.date_format, "csv": source.csv}
    if source.kind == "ibis":
        spec.update(ibis=source.ibis, batch=batch_id())
    if source.path is not None:
        files = [source.path] if source.path.is_file() else sorted(source.path.parent.glob(source.path.name))
        stats = [(f, f.stat()) for f in files]  # the inode and change time too: neither can be set back by hand
        spec["files"] = [(str(f.resolve()), s.st_size, s.st_mtime_ns, s.st_ino, s.st_ctime_ns) for f, s in stats]
    return spec


def store_key(data: dict, as_of, min_segment_size, base_dir=".") -> str:
    """The store key of a params file's ``data`` spec: equal keys mean equal validated tables.

    Reads no data (each file's size, modified and changed time and inode stand for its content).
    """
    from cxkit import __version__
    from cxkit.load import engine_of
    from cxkit.sources import Source

    sources = [_identity(Source.from_spec(t, s, Path(base_dir))) for t, s in sorted(data.items()) if t != "engine"]
    text = json.dumps({"format": _FORMAT, "version": __version__, "sources": sources, "as_of": str(as_of),
                       "min_segment_size": min_segment_size, "engine": engine_of(data, base_dir)},
                      sort_keys=True, default=str)
    volatile = any(s["kind"] == "ibis" for s in sources)
    return hashlib.sha256(text.encode()).hexdigest()[:16] + (VOLATILE_SUFFIX if volatile else "")


class AnalysisStore:
    """A batch's validated data and shared numbers, in one DuckDB file.

    Parameters
    ----------
    path : str or Path
        The store file (``OUT/.store/<key>.duckdb``).

    Attributes
    ----------
    meta_ : dict
        ``key, mode, as_of, segments, scores, row_counts, columns, min_segment_size, inputs, warnings``.
    """

    def __init__(self, path):
        self.path = Path(path).resolve()  # the kernel runs in the notebooks' folder: a relative path would miss
        if not self.path.is_file():
            raise FileNotFoundError(f"no analysis store at {self.path}")
        con = self._connect()
        try:
            self.meta_ = json.loads(con.execute("SELECT value FROM cxstore.meta WHERE key = 'meta'").fetchall()[0][0])
        finally:
            con.close()
        self._numbers: dict | None = None

    def __repr__(self) -> str:
        return f"AnalysisStore({str(self.path)!r}, key={self.meta_['key']!r})"

    @property
    def key(self) -> str:
        return self.meta_["key"]

    def _connect(self):
        from cxkit.engine import connect
        from cxkit.sql import literal

        con = connect()
        con.execute(f"ATTACH {literal(str(self.path))} AS cxstore (READ_ONLY)")
        return con

    @classmethod
    def build(cls, data, folder, key: str, load_warnings=(), cluster_by=()) -> AnalysisStore:
        """Write ``data``'s validated tables (and the warnings loading them raised) to ``folder/<key>.duckdb``.

        With ``cluster_by`` (the columns the batch's audiences are cut by), the rows are stored in audience
        order: customers sorted by those columns (then by id), and every other table by its customer's place
        in that order (:data:`POSITION`, a column the store's readers never see). An audience's rows are then
        one stretch of each table, which DuckDB finds from its row groups' ranges instead of reading every row
        (:meth:`slice_sources`). Without, the rows stay as they came. Written to a temporary name and renamed,
        so a reader never sees half a store.
        """
        from cxkit.engine import connect
        from cxkit.sql import literal

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{key}.duckdb"
        staging = folder / f".{key}-{uuid.uuid4().hex[:8]}.duckdb"
        rows = data.engine != "warehouse"  # a warehouse's rows stay there: its store holds the shared numbers only
        cluster_by = [c for c in cluster_by if c in data.columns.get("customers", ())] if rows else []
        meta = {"key": key, "mode": data.mode, "as_of": data.as_of.isoformat() if data.as_of else None,
                "segments": list(data.segments), "scores": list(data.scores), "row_counts": data.row_counts,
                "columns": data.columns, "min_segment_size": data.min_segment_size,
                "inputs": {t: s.fingerprint() for t, s in data.sources.items()},
                "warnings": [str(w) for w in load_warnings], "cluster_by": cluster_by, "engine": data.engine}
        alias = "cxstore_w"
        con = data.con if rows else connect()
        try:
            con.execute(f"ATTACH {literal(str(staging))} AS {alias}")
            cls._write(data, con, alias, cluster_by if rows else None, meta)
        except Exception as exc:  # a full disk: DuckDB's IOException or its failed commit; never a half store left
            for left in (staging, staging.with_name(staging.name + ".wal")):
                left.unlink(missing_ok=True)
            if isinstance(exc, OSError) or "No space left" in str(exc) or "Could not write" in str(exc):
                from cxkit.errors import OutputError

                text = str(exc)
                reason = "No space left on device" if "No space left" in text else text.strip().splitlines()[0]
                raise OutputError(f"cannot write the batch's analysis store in {folder}: {reason}; "
                                  "nothing was published and earlier reports are as they were") from None
            raise
        os.replace(staging, target)
        return cls(target)

    @staticmethod
    def _write(data, con, alias: str, cluster_by: list | None, meta: dict) -> None:
        """The store's tables (none with ``cluster_by`` None) and its meta, into the database ``alias`` attached
        to ``con`` (detached at the end)."""
        from cxkit.sql import ident

        pos = ident(POSITION)
        order = ", ".join([*(f"{ident(c)} NULLS LAST" for c in cluster_by or ()), "customer_id"])
        try:
            if cluster_by is None:
                pass  # the numbers only
            elif not cluster_by:  # no audiences to keep together: the rows as they came
                for table in data.tables:
                    con.execute(f"CREATE TABLE {alias}.{ident(table)} AS SELECT * FROM main.{ident(table)}")
            else:
                con.execute(f"CREATE TABLE {alias}.customers AS SELECT *, row_number() OVER (ORDER BY {order}) "
                                 f"AS {pos} FROM main.customers ORDER BY {pos}")
                for table in (t for t in data.tables if t != "customers"):
                    columns = ", ".join(f"t.{ident(c)}" for c in data.columns[table])
                    con.execute(f"CREATE TABLE {alias}.{ident(table)} AS SELECT {columns}, c.{pos} "
                                     f"FROM main.{ident(table)} AS t LEFT JOIN {alias}.customers AS c "
                                     f"USING (customer_id) ORDER BY c.{pos} NULLS LAST, {columns}")
            con.execute(f"CREATE TABLE {alias}.meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            con.execute(f"INSERT INTO {alias}.meta VALUES ('meta', ?)", [json.dumps(meta, default=str)])
        except Exception:
            try:
                con.execute(f"DETACH {alias}")
            except Exception:  # noqa: BLE001 - a failed checkpoint after a failed write: the write's error says why
                pass
            raise
        con.execute(f"DETACH {alias}")  # its checkpoint writes the file: a full disk may show only here

    @property
    def holds_rows(self) -> bool:
        """False for a store of data in a warehouse (``data.engine: warehouse``): the rows stay there, and the
        store holds only the numbers the batch's reports share; each report reads the warehouse itself."""
        return self.meta_.get("engine", "local") != "warehouse"

    def attached_to(self, data):
        """``data`` (loaded from the warehouse, for a store that does not :attr:`holds_rows`) with this store's
        shared numbers at hand: its reports then compare with everyone without computing everyone again."""
        from dataclasses import replace

        return replace(data, store=self)

    @property
    def cluster_by(self) -> list:
        """The customer columns the store's rows are ordered by (the audiences' columns when it was built)."""
        return list(self.meta_.get("cluster_by", []))

    def slice_sources(self, con, where: str) -> dict[str, str] | None:
        """Table -> SQL for its rows in the stretch of the store that the customers matching ``where`` (a
        condition on customer columns) occupy, on a connection from :meth:`data`. DuckDB then skips every row
        group outside the stretch; the caller still filters the rows (by ``where``, or by customer id).
        None for a store in no audience order (``cluster_by`` empty): a slice then reads the whole tables.
        """
        from cxkit.sql import ident

        if not self.cluster_by:
            return None
        pos = ident(POSITION)
        low, high = con.execute(f"SELECT min({pos}), max({pos}) FROM cxstore.customers WHERE {where}").fetchall()[0]
        stretch = f"{pos} BETWEEN {int(low)} AND {int(high)}" if low is not None else "FALSE"
        return {table: f"(SELECT {', '.join(ident(c) for c in columns)} FROM cxstore.{ident(table)} WHERE {stretch})"
                for table, columns in self.meta_["columns"].items()}

    @property
    def numbers_path(self) -> Path:
        """The populations' numbers, beside the store (``<key>.numbers.json``): the store file itself stays
        read-only once built, so any number of reports can read it while the batch adds numbers."""
        return self.path.with_suffix(".numbers.json")

    def add_numbers(self, numbers: dict) -> None:
        """Record populations' reference numbers (``key -> numbers``); done by the batch before rendering."""
        merged = {**self._read_numbers(), **numbers}
        staging = self.path.parent / f".{self.path.stem}-{uuid.uuid4().hex[:8]}.json"
        staging.write_text(json.dumps(merged), encoding="utf-8")
        os.replace(staging, self.numbers_path)
        self._numbers = merged

    def _read_numbers(self) -> dict:
        try:
            return json.loads(self.numbers_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def numbers(self, key: str) -> dict | None:
        """A population's reference numbers, or None when the store does not hold them."""
        if self._numbers is None:
            self._numbers = self._read_numbers()
        return self._numbers.get(key)

    def data(self):
        """The validated data, read-only from the store: a :class:`~cxkit.load.CXData` that slices as usual.

        The warnings the original load raised are raised again, so a report's data notes are the same.
        """
        import datetime as dt

        from cxkit.load import CXData
        from cxkit.sql import ident

        if not self.holds_rows:
            from cxkit.errors import CxkitError

            raise CxkitError(f"the analysis store {self.path.name} holds no rows: its data stays in the warehouse; "
                             "load it from its params and read the shared numbers with attached_to(data)")
        con = self._connect()
        m = self.meta_
        for table in m["row_counts"]:
            columns = ", ".join(ident(c) for c in m["columns"][table])
            con.execute(f"CREATE VIEW main.{ident(table)} AS SELECT {columns} FROM cxstore.{ident(table)}")
        for text in m["warnings"]:
            warnings.warn(text, CxkitWarning, stacklevel=2)
        return CXData(con, m["mode"], dt.date.fromisoformat(m["as_of"]) if m["as_of"] else None,
                      tuple(m["segments"]), tuple(m["scores"]), dict(m["row_counts"]),
                      {t: RecordedSource(f) for t, f in m["inputs"].items()}, m["min_segment_size"],
                      {t: list(c) for t, c in m["columns"].items()}, store=self)
