"""A batch's analysis stores: the data its reports share, validated once, with the shared numbers.

Reports of one batch that read the same data (the audiences of a params file, or a folder of files
naming the same inputs) share one :class:`cxkit.store.AnalysisStore`: the batch validates the data
once, writes the store into ``OUT/.store/``, computes once the numbers of every population a report
is compared with (everyone, and each parent of a hierarchy), and each report reads from it. A store
whose key already exists (same inputs, as_of, settings and kit) is reused, so a rerun validates nothing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from cxkit.errors import CxkitError
from cxkit.sources import check_unchanged

__all__ = ["prepare_stores", "prune_stores", "cluster_columns", "store_data", "STORE_DIR", "STORE_KEEP_DAYS"]

STORE_DIR = ".store"
STORE_KEEP_DAYS = 7  # a store no batch has used for this long is deleted (it is rebuilt from the data if needed)
#: The LeadershipAnalysis settings the leadership notebook passes from its parameters. When they drift,
#: a report's population key no longer matches the store's and the report computes the numbers itself.
ANALYSIS_SETTINGS = ("score", "clock", "which", "horizon_months", "discount_rate", "share_moved", "n_boot", "seed",
                     "period", "focus", "nps_window_months")


def effective_params(raw: dict, where: str):
    """``(notebook, effective parameters)`` of a params file's content (read with ``read_params``), as the
    preflight checks them; None when they do not check out (its own render then reports why) or the
    notebook does not read a store."""
    from cxkit.render.preflight import checked_parameters

    try:
        notebook, declared, _, effective = checked_parameters(raw, where)
    except CxkitError:
        return None
    return (notebook, effective) if "store" in {p.name for p in declared} else None


def key_of(effective: dict) -> str:
    from cxkit.render.preflight import data_spec
    from cxkit.store import store_key

    return store_key(**data_spec(effective))


def open_or_build(effective: dict, out_dir, cluster_by=None):
    """The store of ``effective``'s data under ``out_dir``: opened when it exists, else validated and built.

    ``cluster_by``: the customer columns the batch's audiences are cut by, which the store's rows are ordered
    by (:meth:`cxkit.store.AnalysisStore.build`); a store ordered otherwise is rewritten in that order from
    itself (nothing is validated again). None: any order.

    Raises ``ValidationError`` / ``ParamsError`` for data that fails the gateway (nothing is written).
    """
    from cxkit.errors import CxkitWarning
    from cxkit.load import engine_of, load
    from cxkit.render.preflight import data_spec
    from cxkit.store import AnalysisStore

    key = key_of(effective)
    path = Path(out_dir) / STORE_DIR / f"{key}.duckdb"
    if path.is_file():
        store = AnalysisStore(path)
        if not store.holds_rows or cluster_by is None or store.cluster_by == list(cluster_by):
            return store
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CxkitWarning)  # the load's warnings, kept in the store's record
            data = store.data()
        notes = store.meta_["warnings"]
    else:
        spec = data_spec(effective)
        warehouse = engine_of(spec["data"]) == "warehouse"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CxkitWarning)
            # a store of local data is a DuckDB file of its validated rows; a warehouse's rows stay there
            data = load(spec, pin=True, engine=None if warehouse else "local")
        notes = [str(w.message) for w in caught if issubclass(w.category, CxkitWarning)]
    try:
        built = AnalysisStore.build(data, path.parent, key, notes, cluster_by or ())
    finally:
        if data.engine != "warehouse":
            data.con.close()
    try:  # the store holds what was read: the inputs must still be what their fingerprints say
        check_unchanged(data.sources, "while the batch read it")
    except CxkitError:
        built.path.unlink(missing_ok=True)
        raise
    if data.engine == "warehouse":
        _WAREHOUSE_DATA[str(built.path)] = built.attached_to(data)
    return built


#: Store file -> the warehouse data its batch validated (in this process): a store of warehouse data holds no
#: rows, so the batch's own steps (audiences, shared numbers) read the warehouse through this, validated once.
_WAREHOUSE_DATA: dict = {}


def store_data(store, effective: dict):
    """The validated data behind ``store``: its rows, or (a warehouse's) the data its batch loaded in this
    process, else loaded from ``effective``'s spec again, with the store's numbers attached."""
    from cxkit.load import load
    from cxkit.render.preflight import data_spec

    if store.holds_rows:
        return store.data()
    if str(store.path) not in _WAREHOUSE_DATA:
        _WAREHOUSE_DATA[str(store.path)] = store.attached_to(load(data_spec(effective), pin=True))
    return _WAREHOUSE_DATA[str(store.path)]


def cluster_columns(slices) -> list:
    """The columns to order a store by for audiences cut by ``slices`` (their ``slice_by`` mappings): those
    most audiences use first (a hierarchy's top level), then in the order they are named."""
    from collections import Counter

    counts = Counter(column for slice_by in slices for column in slice_by or {})
    return [column for column, _ in counts.most_common()]  # ties keep the order they were first named in


def _populations(store, members) -> dict:
    """Reference numbers of every population the sliced reports are compared with, each computed once."""
    from cxkit.leadership import LeadershipAnalysis
    from cxkit.render.preflight import DEFAULT_NOTEBOOK

    numbers, everyone = {}, None
    for notebook, effective in members:
        if notebook.stem != DEFAULT_NOTEBOOK or not effective.get("slice_by"):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            everyone = everyone or store_data(store, effective)
            analysis = LeadershipAnalysis(**{k: effective[k] for k in ANALYSIS_SETTINGS if k in effective})
            try:
                analysis.resolve(everyone)
                wanted = [everyone] + ([everyone.subset(effective["parent_slice"])] if effective.get("parent_slice")
                                       else [])
                for population in wanted:
                    key = analysis.population_key(population)
                    if key not in numbers and store.numbers(key) is None:
                        numbers[key] = analysis.population_numbers(population)
            except (CxkitError, ValueError, KeyError, IndexError):
                continue  # the report computes (or reports) it itself
    return numbers


def prepare_stores(files, out_dir, failed: dict | None = None) -> dict[str, object]:
    """One store per data shared by two or more of ``files``; returns ``str(file) -> AnalysisStore``.

    Files whose data fails validation get no store. Each of them is added to ``failed`` (``str(file) ->``
    the message ``cxkit validate`` gives), so the batch fails their reports without validating the same data
    again in each; without ``failed``, their reports fail on their own as they render.
    """
    from cxkit.params import read_params

    groups: dict[str, list] = {}
    for f in files:
        try:
            plan = effective_params(read_params(f), str(f))
            key = key_of(plan[1]) if plan is not None else None
        except (CxkitError, OSError):
            continue
        if key is not None:
            groups.setdefault(key, []).append((str(f), *plan))
    stores = {}
    for members in groups.values():
        if len(members) < 2:
            continue  # one report gains nothing from a store
        try:
            store = open_or_build(members[0][2], out_dir,
                                  cluster_columns(eff.get("slice_by") for _, _, eff in members))
        except CxkitError as exc:  # the data fails validation: so does every report on it, with this message
            if failed is not None:
                failed.update((f, str(exc)) for f, _, _ in members)
            continue
        try:
            store.add_numbers(_populations(store, [(nb, eff) for _, nb, eff in members]))
        except CxkitError:
            continue
        for f, _, _ in members:
            stores[f] = store
    prune_stores(out_dir, {str(s.path) for s in stores.values()})
    return stores


def prune_stores(out_dir, used=(), keep_days: float = STORE_KEEP_DAYS) -> list[Path]:
    """Delete stores under ``out_dir`` that this batch did not use and no batch opened for ``keep_days``.

    A store is rebuilt from the data whenever it is missing, so pruning only costs a later batch with the same
    data its validation; the stores ``used`` now are touched, so their age counts from today. A store of data
    read from an Ibis backend is never reused by another batch (:data:`cxkit.store.VOLATILE_SUFFIX`), so it
    goes as soon as a batch does not use it. Returns the files deleted.
    """
    import os
    import time

    from cxkit.store import VOLATILE_SUFFIX

    folder = Path(out_dir) / STORE_DIR
    if not folder.is_dir():
        return []
    now = time.time()
    used = {str(Path(u)) for u in used}
    gone = []
    for path in folder.glob("*.duckdb"):
        if str(path) in used:
            os.utime(path)
            continue
        if path.stem.endswith(VOLATILE_SUFFIX) or now - path.stat().st_mtime > keep_days * 86400:
            for part in (path, path.with_suffix(".numbers.json"), path.with_name(path.name + ".wal")):
                if part.exists():
                    part.unlink()
                    gone.append(part)
    return gone
