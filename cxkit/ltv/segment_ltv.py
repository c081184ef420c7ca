"""Lifetime value per segment: Kaplan-Meier inside the data, a fitted tail beyond, bootstrap intervals.

``LTV = sum over months t = 0 .. horizon - 1 of margin_per_month x S(t) x (1 + r) ** (-t / 12)``:
a customer alive at the start of month t pays that month's margin; ``r`` is the
annual discount rate. ``S(t)`` is the Kaplan-Meier curve of the segment up to
the last month with at least ``min_at_risk`` customers still at risk, and a
fitted tail (shifted-beta-geometric or Weibull, chosen by likelihood on the same
monthly counts) continues it beyond. Intervals come from a Poisson bootstrap
over customers (every customer gets a Poisson(1) weight), vectorised with
``bincount`` and re-fitting the tail in each replicate. A segment with more
than ``cells_above`` customers is first grouped into cells of customers that
share exit time, churn flag and revenue-rate bin (20 quantile bins); a cell of k
customers draws Poisson(k), which is exactly the customer-level Poisson
bootstrap when the customers of a cell are alike. Point estimates always use
every customer's own values.

Examples
--------
>>> from cxkit.synth import generate
>>> import pandas as pd
>>> t, _ = generate(3000, seed=1)                                       # doctest: +SKIP
>>> l = SegmentLTV(horizon=60, discount_rate=0.10, n_boot=50).fit(frame)  # doctest: +SKIP
>>> l.gap("promoter", "detractor")["estimate"] > 0                       # doctest: +SKIP
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit._display import html_block, unfitted_html
from cxkit.errors import CxkitError, NotEstimable
from cxkit.ltv.sbg import ConstantHazardTail, NoChurnTail, PeriodIndex, ShiftedBetaGeometric, poisson_upper_rate
from cxkit.ltv.weibull import DiscreteWeibull

__all__ = ["SegmentLTV", "sensitivity"]

TAILS = {"sbg": ShiftedBetaGeometric, "weibull": DiscreteWeibull}
CELL_BINS = 20  # revenue-rate quantile bins of the bootstrap cells
BOOT_AT_ONCE = 500_000  # weights of a block of bootstrap replicates (replicates x rows): 4 MB per array


class _Segment:
    """Arrays of one segment and the LTV computation for any customer weights."""

    def __init__(self, d, e, values: dict, n: int, owner: SegmentLTV):
        """``d, e, values``: one row per customer or per cell of alike customers (``values["count"]``)."""
        self.owner, self.n = owner, int(n)
        self.d, self.e, self.values = d, e, values
        self.count, self.rev_rate = values["count"], values["rev_rate"]  # rev_rate: sum over the cell
        self.times, self.tidx = np.unique(self.d, return_inverse=True)
        h = owner.horizon
        self.months = np.arange(h)
        whole = np.minimum(np.floor(self.d), h + 1).astype(int)
        at_risk = np.cumsum(np.bincount(whole, weights=self.count, minlength=h + 2)[::-1])[::-1]  # duration >= t
        ok = np.flatnonzero(at_risk[: h + 1] >= owner.min_at_risk)
        self.window = int(min(ok.max(), np.floor(self.d.max()))) if ok.size else 0
        self.month_pos = np.searchsorted(self.times, self.months, side="right") - 1
        self.periods = PeriodIndex(self.d, self.e)  # the tail models' period counts, indexed once

    @property
    def extrapolates(self) -> bool:
        """True when the horizon runs past the months the Kaplan-Meier curve covers."""
        return self.window < self.owner.horizon - 1

    @property
    def events(self) -> float:
        return float(np.sum(self.e * self.count))

    @property
    def exposure(self) -> float:
        """Months followed, summed over the segment's customers."""
        return float(np.sum(self.d * self.count))

    def unidentified_reason(self) -> str | None:
        """Why the segment's survival beyond its data is not identified: ``no_churn`` (nobody left, so
        no hazard to carry on), ``few_at_risk`` (fewer than ``min_at_risk`` customers from the start, so
        the whole curve is a tail), or None (identified, or nothing beyond the data within the horizon)."""
        if not self.extrapolates:
            return None
        if self.events <= 0:
            return "no_churn"
        if self.window == 0:
            return "few_at_risk"
        return None

    def period_counts(self, w):
        """Churned and censored counts per whole period for row weights ``w``: ``discrete_counts(d, e, w)``."""
        return self.periods.counts(w)

    def km_months(self, w) -> np.ndarray:
        """Kaplan-Meier at whole months for each row of ``w`` (replicates x rows, each weighing a customer or a
        cell's total), in one pass."""
        b, size = w.shape[0], self.times.size
        flat = (self.tidx[None, :] + size * np.arange(b)[:, None]).ravel()
        ev = np.bincount(flat, weights=(w * self.e).ravel(), minlength=b * size).reshape(b, size)
        out = np.bincount(flat, weights=w.ravel(), minlength=b * size).reshape(b, size)
        at_risk = w.sum(axis=1)[:, None] - np.concatenate([np.zeros((b, 1)), np.cumsum(out, axis=1)[:, :-1]], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.cumprod(np.where(at_risk > 0, 1 - ev / at_risk, 1.0), axis=1)
        return np.where(self.month_pos >= 0, s[:, np.maximum(self.month_pos, 0)], 1.0)

    def curves(self, w, tails) -> np.ndarray:
        """:meth:`curve` for each row of ``w`` with its tail in ``tails``: replicates x months, in one pass."""
        s = self.km_months(w)
        t = self.months
        beyond = t > self.window
        if beyond.any():
            base = s[:, min(self.window, s.shape[1] - 1)]
            at = np.append(t[beyond], self.window).astype(float)
            tail = np.array([m.survival(at) for m in tails])  # one call per replicate, not two per curve
            s = s.copy()
            s[:, beyond] = base[:, None] * tail[:, :-1] / tail[:, -1:]
        return s

    def evaluate_many(self, w, tails, revenue_tails, by_month: bool = False) -> tuple:
        """LTV and expected lifetime for each row of ``w`` (replicates): :meth:`evaluate` row by row, at once.

        With ``by_month`` also the value accumulated up to and including each month (replicates x months),
        from which the part inside the data is read."""
        counts = w * self.count
        s = self.curves(counts, tails)
        paid = w * self.rev_rate
        has_revenue = (paid > 0).any(axis=1)
        s_rev = s.copy()
        if has_revenue.any():
            s_rev[has_revenue] = self.curves(paid[has_revenue], [r for r, h in zip(revenue_tails, has_revenue,
                                                                                    strict=True) if h])
        disc = (1 + self.owner.discount_rate) ** (-self.months / 12)
        v = self.values
        exposure = (w * v["exposure"]).sum(axis=1)
        cost = np.divide((w * v["cost"]).sum(axis=1), exposure, out=np.zeros(w.shape[0]), where=exposure > 0)
        drawn = counts.sum(axis=1)  # 0 in a replicate that drew no customer of the band (a tiny band): NaN
        r0 = np.divide(paid.sum(axis=1), drawn, out=np.full(w.shape[0], np.nan), where=drawn > 0)
        ltv = r0 * (s_rev @ disc) - cost * (s @ disc)
        if by_month:
            cum = np.cumsum(r0[:, None] * s_rev * disc - cost[:, None] * s * disc, axis=1)
            return ltv, s.sum(axis=1), cum
        return ltv, s.sum(axis=1)

    def resample(self, rng, draws=None) -> np.ndarray:
        """Poisson bootstrap multipliers per row: a cell of k customers draws Poisson(k), scaled by 1/k; by the
        inverse of the Poisson CDF from lookup tables, one uniform a row (``draws``: this segment's
        :class:`cxkit.draws.PoissonDraws`, made once per bootstrap)."""
        if draws is None:
            from cxkit.draws import PoissonDraws

            draws = PoissonDraws(self.count)
        return draws.draw(rng) / self.count

    def tail_model(self, kind: str, w, start=None):
        lost, cens = self.period_counts(w)
        if lost.sum() <= 0:
            return NoChurnTail()
        if start is not None:  # a bootstrap replicate: a few Newton steps from the full-data fit
            return TAILS[kind]().refit(lost, cens, start)
        return TAILS[kind]().fit_counts(lost, cens)

    def tail_models(self, kind: str, weights, start) -> list:
        """:meth:`tail_model` for each row of ``weights`` (bootstrap replicates), refitted together from
        ``start``; a replicate without churn gets :class:`NoChurnTail`."""
        counts = [self.period_counts(w) for w in weights]
        lost = np.array([c[0] for c in counts])
        cens = np.array([c[1] for c in counts])
        churned = lost.sum(axis=1) > 0
        fitted = iter(TAILS[kind]().refit_many(lost[churned], cens[churned], start) if churned.any() else [])
        return [next(fitted) if c else NoChurnTail() for c in churned]

    def curve(self, w, tail) -> np.ndarray:
        """S(t) for months 0..horizon-1: KM inside the window, the tail's conditional survival after."""
        return self.curves(np.asarray(w, dtype=float)[None, :], [tail])[0]

    def rates(self, w) -> dict:
        v = self.values

        def ratio(num, den):
            total = np.sum(w * v[den])
            return float(np.sum(w * v[num]) / total) if total > 0 else 0.0

        return {"cost_to_serve_per_month": ratio("cost", "exposure"),
                "contacts_per_month": ratio("contacts", "exposure"),
                "retention_cost_per_month": ratio("retention_cost", "exposure"),
                "referrals_per_year": 12 * ratio("referrals", "tenure")}

    def evaluate(self, w, tail, revenue_tail) -> dict:
        """LTV and its parts for customer weights ``w``.

        Revenue uses the survival curve weighted by each customer's revenue per month
        (``S_R``), so a link between what customers pay and how long they stay is kept:
        ``LTV = R0 sum d_t S_R(t) - cost sum d_t S(t)`` with ``R0`` the mean revenue per month at
        the start. The reported revenue per month is ``R0 L_R / L``, so ``LTV = (revenue - cost) L``.
        """
        counts = w * self.count
        s = self.curve(counts, tail)
        s_rev = self.curve(w * self.rev_rate, revenue_tail) if np.any(w * self.rev_rate > 0) else s
        disc = (1 + self.owner.discount_rate) ** (-self.months / 12)
        rates = self.rates(w)
        r0 = float(np.sum(w * self.rev_rate) / np.sum(counts))
        lifetime, lifetime_rev = float(np.sum(s * disc)), float(np.sum(s_rev * disc))
        cost = rates["cost_to_serve_per_month"]
        ltv = r0 * lifetime_rev - cost * lifetime
        later = self.months > self.window
        extrapolated = r0 * np.sum((s_rev * disc)[later]) - cost * np.sum((s * disc)[later])
        revenue = r0 * lifetime_rev / lifetime if lifetime > 0 else 0.0
        return {"ltv": ltv, "margin_per_month": revenue - cost, "discounted_lifetime_months": lifetime,
                "expected_lifetime_months": float(s.sum()),
                "extrapolated_share": float(extrapolated / ltv) if ltv else 0.0,
                "revenue_per_month": revenue, **rates}


def _rows(frame: pd.DataFrame, cols: dict):
    """Durations, churn flags and per-customer values (zeros for absent columns) of one segment."""
    d = frame[cols["duration"]].to_numpy(dtype=float)
    e = frame[cols["event"]].to_numpy(dtype=float)
    values = {k: frame[c].to_numpy(dtype=float) if c in frame else np.zeros(len(frame))
              for k, c in cols.items() if k not in ("duration", "event", "segment")}
    billed = values["billed"]
    values["rev_rate"] = np.divide(values["revenue"], billed, out=np.zeros(d.size), where=billed > 0)
    values["count"] = np.ones(d.size)
    return d, e, values


def _edges(rate, bins: int = CELL_BINS):
    """Inner quantile edges of the revenue rate (``bins`` bins, ties merged)."""
    return np.unique(np.quantile(rate, np.linspace(0, 1, bins + 1)[1:-1]))


def _edge_ranks(n: int, bins: int = CELL_BINS):
    """Where :func:`_edges` reads a sorted sample of ``n``: the ranks (from 0) below and above each quantile and
    the weight between them, as numpy's default (linear) method computes them."""
    q = np.linspace(0, 1, bins + 1)[1:-1]
    virtual = (n - 1) * q  # numpy's virtual index for its linear method, the same operations
    below = np.floor(virtual)
    gamma = virtual - below
    below = below.astype(np.int64)
    above = below + 1
    last = virtual >= n - 1
    below[last] = above[last] = n - 1
    return below, above, gamma


def _edges_from_ranks(n: int, value_at, bins: int = CELL_BINS):
    """:func:`_edges` of a sample of ``n`` from only the order statistics it reads: ``value_at(ranks)`` gives the
    sorted sample's values at those ranks (from 0), asked once. The interpolation is numpy's (``_lerp``), so the
    edges are the same numbers to the last bit, read from at most ``2 * (bins - 1)`` values instead of ``n``."""
    below, above, gamma = _edge_ranks(n, bins)
    both = np.asarray(value_at(np.concatenate([below, above])), dtype=float)  # one look-up (one sort) for both
    a, b = both[:below.size], both[below.size:]
    diff = b - a
    lerp = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=lerp, where=gamma >= 0.5)
    return np.unique(lerp)


def _cells(d, e, values, bins: int = CELL_BINS):
    """Group customers by exit time, churn flag and revenue-rate quantile bin; sums per cell."""
    rate = values["rev_rate"]
    rbin = np.searchsorted(_edges(rate, bins), rate, side="right")
    times, tidx = np.unique(d, return_inverse=True)
    key = (tidx.astype(np.int64) * 2 + e.astype(np.int64)) * (bins + 1) + rbin  # one integer per cell
    cells, inverse = np.unique(key, return_inverse=True)
    sums = {k: np.bincount(inverse, weights=v, minlength=cells.size) for k, v in values.items()}
    return times[cells // (bins + 1) // 2], ((cells // (bins + 1)) % 2).astype(float), sums


class SegmentLTV:
    """Lifetime value per segment with a tail beyond the data and bootstrap intervals.

    Parameters
    ----------
    horizon : int
        Months of value counted (60 = five years).
    discount_rate : float
        Annual discount rate (0.10 = 10% a year), applied monthly.
    tail : {"auto", "sbg", "weibull"}
        Survival model beyond the data; ``auto`` picks the higher likelihood per segment.
    alpha : float
        1 - confidence level of intervals.
    n_boot : int
        Bootstrap replicates.
    seed : int
        Seed of the bootstrap; the same seed gives the same intervals.
    min_at_risk : int
        The Kaplan-Meier part ends at the last month with at least this many customers at risk.
    currency : str
        Symbol used in sentences and labels.
    cells_above : int
        Segments with more customers are bootstrapped over cells of alike customers.

    Attributes
    ----------
    summary : DataFrame
        ``segment, customers, ltv, lower, upper, margin_per_month, expected_lifetime_months,
        discounted_lifetime_months, extrapolated_share, observed_months, tail_model, horizon_months``.
    components_ : DataFrame
        Per segment: revenue, cost to serve, contacts, retention cost per month, referrals per year,
        expected lifetime in months.
    curves_ : DataFrame
        ``segment, month, survival, extrapolated`` for plotting.
    replicates_ : DataFrame
        Bootstrap LTV per replicate and segment.
    """

    def __init__(self, horizon: int = 60, discount_rate: float = 0.10, tail: str = "auto", alpha: float = 0.05,
                 n_boot: int = 200, seed: int = 0, min_at_risk: int = 50, currency: str = "$",
                 clock: str | None = None, cells_above: int = 50_000):
        if tail not in ("auto", *TAILS):
            raise ValueError("tail must be 'auto', 'sbg' or 'weibull'")
        self.horizon, self.discount_rate, self.tail = int(horizon), float(discount_rate), tail
        self.alpha, self.n_boot, self.seed, self.min_at_risk = alpha, int(n_boot), seed, int(min_at_risk)
        self.currency, self.clock, self.cells_above = currency, clock, int(cells_above)

    def fit(self, df: pd.DataFrame, duration_col: str = "duration", event_col: str = "event",
            segment_col: str = "segment", revenue_col: str = "revenue", billed_col: str = "billed_months",
            cost_col: str = "cost", exposure_col: str = "exposure_months", base_counts: dict | None = None,
            order=None) -> SegmentLTV:
        """Fit on one row per customer (see :func:`cxkit.frames.ltv_frame`).

        Parameters
        ----------
        df : DataFrame or DuckDB relation
            Durations in months since the answer, the churn flag, the segment, and per customer the
            revenue billed and its number of months, the cost to serve and the months it covers.
            A relation (``ltv_frame(data, relation=True)``) is aggregated in DuckDB: small segments
            come back one row per customer (in ``customer_id`` order), large ones as cells.
        base_counts : dict, optional
            Customers per segment in the base the value at stake applies to (default: the customers
            in ``df`` per segment).
        """
        cols = {"duration": duration_col, "event": event_col, "segment": segment_col, "revenue": revenue_col,
                "billed": billed_col, "cost": cost_col, "exposure": exposure_col, "contacts": "contacts",
                "retention_cost": "retention_cost", "referrals": "referrals", "tenure": "tenure_months"}
        if isinstance(df, pd.DataFrame):
            self._segments = self._from_frame(df, cols, order)
        else:
            self._segments = self._from_relation(df, cols, order)
        self.segments_ = list(self._segments)
        if base_counts is None and isinstance(df, pd.DataFrame):
            base_counts = df.attrs.get("base_counts")  # ltv_frame's active base: the report's default too
        self.base_counts_ = {s: float(v) for s, v in (base_counts or {s: self._segments[s].n
                                                                     for s in self.segments_}).items()}
        rows, self._tails = [], {}
        for s, part in self._segments.items():
            ones = np.ones(part.d.size)
            fits = {k: part.tail_model(k, part.count) for k in TAILS}
            kind = self.tail if self.tail != "auto" else max(fits, key=lambda k: fits[k].log_likelihood_)
            kind = kind if part.e.any() else "sbg"  # no churn: both tails are NoChurnTail
            revenue_tail = part.tail_model(kind, part.rev_rate)  # rows weighted by their revenue per month
            self._tails[s] = (fits[kind], revenue_tail)
            point = part.evaluate(ones, fits[kind], revenue_tail)
            rows.append({"segment": s, "customers": part.n, **point, "observed_months": part.window,
                         "tail_model": fits[kind].name,
                         "tail_loglik_sbg": fits["sbg"].log_likelihood_,
                         "tail_loglik_weibull": fits["weibull"].log_likelihood_})
        self._point = pd.DataFrame(rows).set_index("segment")
        self._identify()
        self._bootstrap()
        return self

    def _identify(self) -> None:
        """Split each LTV into the part inside the data and the part beyond it; for a segment whose survival
        beyond the data is not identified, find the tails that give its lowest and highest value.

        The candidates: nobody leaves beyond the data (``no_exit``), the segment's own fitted tail (``own``,
        when it has churn), each other churning segment's tail from the same month on (``like:<segment>``),
        and a constant hazard at the exact Poisson upper bound on its own churn rate (``bound``).
        """
        p = self._point
        self._cum, self._scenarios = {}, {}
        cols = {k: [] for k in ("identified", "unidentified_reason", "ltv_observed", "ltv_extrapolated", "tail_low",
                                "tail_high", "tail_low_assumption", "tail_high_assumption")}
        for s, part in self._segments.items():
            ones = np.ones(part.d.size)
            tail, revenue_tail = self._tails[s]
            self._cum[s] = part.evaluate_many(ones[None, :], [tail], [revenue_tail], by_month=True)[2][0]
            reason = part.unidentified_reason()
            observed = float(self._cum[s][min(part.window, self.horizon - 1)])
            beyond = float(p.loc[s, "ltv"]) - observed
            low = high = None
            low_value = high_value = beyond
            if reason is not None:
                bound = ConstantHazardTail(poisson_upper_rate(part.events, part.exposure, self.alpha))
                options = {"no_exit": (NoChurnTail(), NoChurnTail()), "bound": (bound, bound)}
                if part.events > 0:
                    options["own"] = (tail, revenue_tail)
                options |= {f"like:{o}": (self._tails[o][0],) * 2 for o, other in self._segments.items()
                            if o != s and other.events > 0}
                value = {k: part.evaluate(ones, *pair)["ltv"] for k, pair in options.items()}
                low, high = min(value, key=value.get), max(value, key=value.get)
                self._scenarios[s] = {"low": (low, options[low]), "high": (high, options[high])}
                low_value, high_value = value[low] - observed, value[high] - observed
            for k, v in zip(cols, (reason is None, reason, observed, beyond, low_value, high_value, low, high),
                            strict=True):
                cols[k].append(v)
        for k, v in cols.items():
            p[k] = pd.Series(v, index=p.index, dtype=bool if k == "identified" else None)

    def _from_frame(self, df: pd.DataFrame, cols: dict, order) -> dict:
        for key in ("duration", "event", "segment"):
            if cols[key] not in df:
                raise CxkitError(f"lifetime value: missing column {cols[key]!r}")
        seg = df[cols["segment"]]
        if isinstance(seg.dtype, pd.CategoricalDtype):
            codes, known = seg.cat.codes.to_numpy(), {str(c): i for i, c in enumerate(seg.cat.categories)}
            order = order if order is not None else list(known)
            masks = {s: codes == known[s] for s in order if s in known}
        else:
            text = seg.astype(str).to_numpy()
            order = order if order is not None else sorted(seg.dropna().astype(str).unique())
            masks = {s: text == s for s in order}
        d_all, e_all, v_all = _rows(df, cols)
        out = {}
        for s, mask in masks.items():
            if not mask.any():
                continue
            d, e, values = d_all[mask], e_all[mask], {k: v[mask] for k, v in v_all.items()}
            n = d.size
            if n > self.cells_above:
                d, e, values = _cells(d, e, values)
            out[s] = _Segment(d, e, values, n, self)
        return out

    def _from_relation(self, rel, cols: dict, order) -> dict:
        """Segments from a DuckDB relation: customers or cells summed where the data lives."""
        names = set(rel.columns)
        for key in ("duration", "event", "segment"):
            if cols[key] not in names:
                raise CxkitError(f"lifetime value: missing column {cols[key]!r}")
        keys = [k for k in cols if k not in ("duration", "event", "segment")]
        expr = {k: f'CAST("{cols[k]}" AS DOUBLE)' if cols[k] in names else "0.0" for k in keys}
        rate = f"CASE WHEN {expr['billed']} > 0 THEN {expr['revenue']} / {expr['billed']} ELSE 0.0 END"
        rows = (f'SELECT CAST("{cols["segment"]}" AS VARCHAR) AS _segment, CAST("{cols["duration"]}" AS DOUBLE) '
                f'AS _d, CAST("{cols["event"]}" AS DOUBLE) AS _e, '
                + "".join(f"{expr[k]} AS _{k}, " for k in keys) + f"{rate} AS _rev_rate, "
                + ("customer_id AS _id" if "customer_id" in names else "0 AS _id") + " FROM _ltv_rows")
        found = dict(rel.query("_ltv_rows", f"SELECT _segment, count(*) FROM ({rows}) "
                                            "WHERE _segment IS NOT NULL GROUP BY 1").fetchall())
        order = order if order is not None else sorted(found)
        value_cols = [*keys, "rev_rate"]
        out = {}
        for s in (s for s in order if s in found):
            n = found[s]
            where = "_segment = '" + s.replace("'", "''") + "'"
            if n <= self.cells_above:
                got = rel.query("_ltv_rows", f"SELECT _d, _e, {', '.join('_' + k for k in value_cols)} "
                                f"FROM ({rows}) WHERE {where} ORDER BY _id, _d, _e, "
                                + ", ".join("_" + k for k in value_cols)).fetchnumpy()
                values = {k: np.asarray(got["_" + k], dtype=float) for k in value_cols}
                values["count"] = np.ones(n)
            else:  # numpy's quantiles from the few order statistics they read, ranked where the data lives
                edges = _edges_from_ranks(n, lambda ranks, where=where: self._order_statistics(rel, rows, where,
                                                                                               ranks))
                bin_sql = " + ".join(f"CAST(_rev_rate >= CAST('{float(e)!r}' AS DOUBLE) AS INTEGER)"
                                     for e in edges) or "0"
                got = rel.query("_ltv_rows", f"SELECT _d, _e, {bin_sql} AS _bin, "
                                + ", ".join(f"sum(_{k}) AS _{k}" for k in value_cols) + ", count(*) AS _count "
                                f"FROM ({rows}) WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").fetchnumpy()
                values = {k: np.asarray(got["_" + k], dtype=float) for k in [*value_cols, "count"]}
            out[s] = _Segment(np.asarray(got["_d"], dtype=float), np.asarray(got["_e"], dtype=float), values, n,
                              self)
        return out

    @staticmethod
    def _order_statistics(rel, rows: str, where: str, ranks) -> np.ndarray:
        """A segment's sorted revenue rates at ``ranks`` (from 0), ranked in the relation's engine: only those
        values come back. A missing rate sorts last, as numpy's NaN."""
        wanted = sorted({int(r) for r in ranks})
        got = dict(rel.query("_ltv_rows", "SELECT _rank, _rev_rate FROM (SELECT _rev_rate, row_number() OVER "
                                          "(ORDER BY _rev_rate ASC NULLS LAST) - 1 AS _rank FROM "
                                          f"({rows}) WHERE {where}) WHERE _rank IN "
                                          f"({', '.join(map(str, wanted))})").fetchall())
        return np.array([np.nan if got[int(r)] is None else float(got[int(r)]) for r in ranks])

    def _bootstrap(self, block: int | None = None) -> None:
        """Poisson-bootstrap replicates, drawn in the order replicate by replicate, segment by segment (so
        a seed gives the same draws however they are processed); the tails of a block of replicates are
        refitted together (:meth:`~cxkit.ltv.sbg.ShiftedBetaGeometric.refit_many`). A block is 50 replicates,
        fewer where a segment has so many rows (customers or cells) that a block's weights would pass
        :data:`BOOT_AT_ONCE` numbers: the memory does not grow with the rows."""
        rows = max((part.d.size for part in self._segments.values()), default=1)
        block = block or int(np.clip(BOOT_AT_ONCE // max(rows, 1), 1, 50))
        from cxkit.draws import PoissonDraws

        rng = np.random.default_rng(self.seed)
        tables = {s: PoissonDraws(part.count) for s, part in self._segments.items()}  # kept for this bootstrap only
        reps = {s: np.empty(self.n_boot) for s in self.segments_}
        life = {s: np.empty(self.n_boot) for s in self.segments_}
        cums = {s: np.empty((self.n_boot, self.horizon)) for s in self.segments_}
        ranges = {s: {side: np.empty(self.n_boot) for side in ("low", "high")} for s in self._scenarios}
        for first in range(0, self.n_boot, block):
            size = min(block, self.n_boot - first)
            draws = {s: np.empty((size, part.d.size)) for s, part in self._segments.items()}
            for b in range(size):
                for s, part in self._segments.items():
                    draws[s][b] = part.resample(rng, tables[s])
            for s, part in self._segments.items():
                tail, revenue_tail = self._tails[s]
                kind = "weibull" if isinstance(tail, DiscreteWeibull) else "sbg"
                w = draws[s]
                tails = part.tail_models(kind, w * part.count, tail.params_)
                revenue_tails = part.tail_models(kind, w * part.rev_rate, revenue_tail.params_)
                block_of = slice(first, first + size)
                reps[s][block_of], life[s][block_of], cums[s][block_of] = part.evaluate_many(
                    w, tails, revenue_tails, by_month=True)
                for side, (name, (t_side, r_side)) in self._scenarios.get(s, {}).items():
                    ranges[s][side][block_of] = (reps[s][block_of] if name == "own" else
                                                 part.evaluate_many(w, [t_side] * size, [r_side] * size)[0])
        self.replicates_ = pd.DataFrame(reps)
        self._lifetime_reps = pd.DataFrame(life)
        self._cum_reps = cums
        self._range_reps = ranges

    def _interval(self, values) -> tuple[float, float]:
        lo, hi = np.quantile(values, [self.alpha / 2, 1 - self.alpha / 2])
        return float(lo), float(hi)

    def _range(self, s: str) -> tuple[np.ndarray, np.ndarray]:
        """Replicates of a segment's LTV under its lowest and highest tail (its own replicates when its
        survival beyond the data is identified)."""
        if s in self._range_reps:
            return self._range_reps[s]["low"], self._range_reps[s]["high"]
        return self.replicates_[s].to_numpy(), self.replicates_[s].to_numpy()

    def _spread(self, low, high, model) -> tuple[float, float]:
        """The lower end of ``low``'s interval and the upper end of ``high``'s, and never inside ``model``'s
        (the replicates under the fitted tails): an interval widened by the range of tail assumptions."""
        model_lo, model_hi = self._interval(model)
        return min(self._interval(low)[0], model_lo), max(self._interval(high)[1], model_hi)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per segment: LTV with its interval, margin, lifetimes and the tail used."""
        out = self._point.reset_index()
        bounds = [self._spread(*self._range(s), self.replicates_[s]) for s in out["segment"]]
        out.insert(3, "lower", [b[0] for b in bounds])
        out.insert(4, "upper", [b[1] for b in bounds])
        model = [self._interval(self.replicates_[s]) for s in out["segment"]]
        out["model_lower"], out["model_upper"] = [b[0] for b in model], [b[1] for b in model]
        observed = [self._interval(self._cum_reps[s][:, min(w, self.horizon - 1)])
                    for s, w in zip(out["segment"], out["observed_months"], strict=True)]
        out["observed_lower"], out["observed_upper"] = [b[0] for b in observed], [b[1] for b in observed]
        out["horizon_months"] = self.horizon
        keep = ["segment", "customers", "ltv", "lower", "upper", "margin_per_month", "expected_lifetime_months",
                "discounted_lifetime_months", "extrapolated_share", "observed_months", "tail_model", "horizon_months",
                "identified", "unidentified_reason", "ltv_observed", "observed_lower", "observed_upper",
                "ltv_extrapolated", "tail_low", "tail_high", "tail_low_assumption", "tail_high_assumption",
                "model_lower", "model_upper"]
        return out[keep]

    @property
    def components_(self) -> pd.DataFrame:
        cols = ["revenue_per_month", "cost_to_serve_per_month", "contacts_per_month", "retention_cost_per_month",
                "referrals_per_year", "expected_lifetime_months"]
        out = self._point[cols].reset_index()
        if (out["retention_cost_per_month"] == 0).all():
            out = out.drop(columns="retention_cost_per_month")
        return out

    @property
    def curves_(self) -> pd.DataFrame:
        parts = []
        for s, part in self._segments.items():
            surv = part.curve(part.count, self._tails[s][0])
            parts.append(pd.DataFrame({"segment": s, "month": part.months, "survival": surv,
                                       "extrapolated": part.months > part.window}))
        return pd.concat(parts, ignore_index=True)

    @property
    def tails_(self) -> pd.DataFrame:
        """Per segment: log-likelihood of each tail on the monthly counts, the one used, months observed."""
        p = self._point
        return pd.DataFrame({"segment": p.index, "loglik_sbg": p["tail_loglik_sbg"].to_numpy(),
                             "loglik_weibull": p["tail_loglik_weibull"].to_numpy(),
                             "tail_used": p["tail_model"].to_numpy(),
                             "observed_months": p["observed_months"].to_numpy(),
                             "identified": p["identified"].to_numpy(),
                             "unidentified_reason": p["unidentified_reason"].to_numpy(),
                             "tail_low_assumption": p["tail_low_assumption"].to_numpy(),
                             "tail_high_assumption": p["tail_high_assumption"].to_numpy()})

    def unidentified(self, *segments) -> list[str]:
        """Those of ``segments`` (default: all) whose survival beyond the data, within the horizon, is not
        identified (see ``summary['unidentified_reason']``)."""
        p = self._point
        return [s for s in (segments or self.segments_) if not p.loc[s, "identified"]]

    def gap(self, a: str, b: str) -> dict:
        """LTV of segment ``a`` minus segment ``b``, with interval and the difference in expected lifetime.

        Returns
        -------
        dict
            ``estimate`` (under each segment's own tail); ``lower, upper``: the bootstrap interval when both
            segments' survival is identified over the horizon, else the range under the tail assumptions
            (the lower end of the interval under the least favourable assumption to the upper end under the
            most favourable; see ``summary``'s ``tail_low_assumption``); ``model_lower, model_upper``: the
            bootstrap interval under the fitted tails alone; ``identified`` and ``unidentified`` (the
            segments resting on an assumed tail); ``observed_months, observed_estimate, observed_lower,
            observed_upper``: the gap over the first months both segments' curves cover (Kaplan-Meier
            only); ``lifetime_months, lifetime_lower, lifetime_upper``.
        """
        self._check(a, b)
        diffs = self.replicates_[a] - self.replicates_[b]
        model_lo, model_hi = self._interval(diffs)
        unidentified = self.unidentified(a, b)
        (low_a, high_a), (low_b, high_b) = self._range(a), self._range(b)
        lo, hi = self._spread(low_a - high_b, high_a - low_b, diffs) if unidentified else (model_lo, model_hi)
        p = self._point
        life = p.loc[a, "expected_lifetime_months"] - p.loc[b, "expected_lifetime_months"]
        life_lo, life_hi = self._interval(self._lifetime_reps[a] - self._lifetime_reps[b])
        last = int(min(p.loc[a, "observed_months"], p.loc[b, "observed_months"], self.horizon - 1))
        obs_lo, obs_hi = self._interval(self._cum_reps[a][:, last] - self._cum_reps[b][:, last])
        return {"estimate": float(p.loc[a, "ltv"] - p.loc[b, "ltv"]), "lower": lo, "upper": hi,
                "model_lower": model_lo, "model_upper": model_hi, "identified": not unidentified,
                "unidentified": unidentified, "observed_months": last + 1,
                "observed_estimate": float(self._cum[a][last] - self._cum[b][last]),
                "observed_lower": obs_lo, "observed_upper": obs_hi,
                "lifetime_months": float(life), "lifetime_lower": life_lo, "lifetime_upper": life_hi}

    def gap_parts(self, a: str, b: str) -> pd.DataFrame:
        """The LTV gap split into longer life, higher revenue and lower cost to serve (they add up).

        With ``LTV = (revenue - cost) x L`` (L the discounted lifetime in months):
        ``LTV_a - LTV_b = margin_b (L_a - L_b) + (rev_a - rev_b) L_a - (cost_a - cost_b) L_a``.
        """
        self._check(a, b)
        p = self._point
        la, lb = p.loc[a, "discounted_lifetime_months"], p.loc[b, "discounted_lifetime_months"]
        parts = {"longer life": p.loc[b, "margin_per_month"] * (la - lb),
                 "higher revenue": (p.loc[a, "revenue_per_month"] - p.loc[b, "revenue_per_month"]) * la,
                 "lower cost to serve": -(p.loc[a, "cost_to_serve_per_month"]
                                          - p.loc[b, "cost_to_serve_per_month"]) * la}
        out = pd.DataFrame({"part": list(parts), "value": list(parts.values())})
        return pd.concat([out, pd.DataFrame([{"part": "total", "value": out["value"].sum()}])], ignore_index=True)

    def value_at_stake(self, moves: dict, share: float = 0.10, base_counts: dict | None = None) -> dict:
        """Change in the base's total LTV if ``share`` of each ``from`` segment moved to ``to``.

        Parameters
        ----------
        moves : dict
            ``{"detractor": "passive"}``: from segment -> to segment.
        share : float
            Share of each from-segment moved (0.10 = 10%).
        base_counts : dict, optional
            Customers per segment in the base (or an audience slice); default ``base_counts_``.

        Returns
        -------
        dict
            ``estimate, lower, upper, customers_moved, per_customer``; ``identified`` and ``unidentified``
            as in :meth:`gap`: when a segment involved rests on an assumed tail, ``lower, upper`` are the
            range under the tail assumptions and ``model_lower, model_upper`` the bootstrap interval under
            the fitted tails alone.
        """
        counts = base_counts or self.base_counts_
        total, low, high = np.zeros(self.n_boot), np.zeros(self.n_boot), np.zeros(self.n_boot)
        estimate = moved = 0.0
        for src, dst in moves.items():
            self._check(src, dst)
            n = share * float(counts.get(src, 0))
            moved += n
            estimate += n * (self._point.loc[dst, "ltv"] - self._point.loc[src, "ltv"])
            total += n * (self.replicates_[dst] - self.replicates_[src]).to_numpy()
            (low_src, high_src), (low_dst, high_dst) = self._range(src), self._range(dst)
            low += n * (low_dst - high_src)
            high += n * (high_dst - low_src)
        model_lo, model_hi = self._interval(total)
        unidentified = self.unidentified(*dict.fromkeys(s for pair in moves.items() for s in pair))
        lo, hi = self._spread(low, high, total) if unidentified else (model_lo, model_hi)
        return {"estimate": float(estimate), "lower": lo, "upper": hi, "model_lower": model_lo,
                "model_upper": model_hi, "identified": not unidentified, "unidentified": unidentified,
                "customers_moved": moved, "per_customer": float(estimate / moved) if moved else np.nan}

    def _check(self, *segments) -> None:
        for s in segments:
            if s not in self._point.index:
                raise NotEstimable(f"unknown segment {s!r}; segments: {', '.join(self.segments_)}")

    def __repr__(self) -> str:
        fitted = f": {', '.join(map(str, self.segments_))}" if hasattr(self, "segments_") else "  # unfitted"
        return f"SegmentLTV(horizon={self.horizon}, discount_rate={self.discount_rate}, n_boot={self.n_boot}){fitted}"

    def _repr_html_(self) -> str:
        if not hasattr(self, "segments_"):
            return unfitted_html(repr(self), "fit(frame)")
        notes = [f"Lifetime value over {self.horizon} months at {self.discount_rate:.0%} a year, "
                 f"{int((1 - self.alpha) * 100)}% bootstrap intervals ({self.n_boot} replicates, seed {self.seed})."]
        notes += [f"Clock: {self.clock}"] if self.clock else []
        shown = self.summary[["segment", "customers", "ltv", "lower", "upper", "margin_per_month",
                              "expected_lifetime_months", "extrapolated_share", "tail_model"]]
        return html_block("Lifetime value by segment", shown, notes, digits=2, read_next={
            "summary": "every column: observed and extrapolated parts, tail assumptions",
            "gap(a, b)": "the difference between two segments, with its interval",
            "gap_parts(a, b)": "what that difference is made of",
            "value_at_stake({from: to})": "the money in moving customers between segments",
            "components_": "revenue, cost and lifetime per segment", "tails_": "how each curve goes on past the data",
            "plot()": "the chart"})

    def plot(self, ax=None, **kwargs):
        """LTV per segment with intervals (see :func:`cxkit.plots.plot_ltv`)."""
        from cxkit.drawing import draw

        return draw("plot_ltv", self, ax=ax, **kwargs)


def sensitivity(frame, horizons=(24, 36, 60), discount_rates=(0.05, 0.10, 0.15), **fit_kwargs):
    """Point LTV per segment for each horizon and discount rate (no bootstrap), one row per setting.

    ``frame`` is what :meth:`SegmentLTV.fit` takes (a DataFrame or a DuckDB relation); ``fit_kwargs``
    go to it (``order=`` for the segments' order), except ``min_at_risk``, ``tail`` and ``currency``, which
    set up each fit as in :class:`SegmentLTV` (the same defaults, so the row at a fit's horizon and rate
    equals that fit's lifetime values).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"duration": [1.0, 5, 9, 12], "event": [1, 0, 1, 0], "segment": "a", "revenue": 10.0,
    ...                   "billed_months": 1.0, "cost": 0.0, "exposure_months": 1.0})
    >>> # 10 x (1 + 8 x 0.75 + 3 x 0.375), with every month inside the data (min_at_risk=1)
    >>> sensitivity(f, horizons=(12,), discount_rates=(0.0,), min_at_risk=1)["a"].round(2).tolist()
    [81.25]
    """
    settings = {k: fit_kwargs.pop(k) for k in ("min_at_risk", "tail", "currency") if k in fit_kwargs}
    rows = []
    for h in horizons:
        for r in discount_rates:
            fit = SegmentLTV(horizon=h, discount_rate=r, n_boot=1, **settings).fit(frame, **fit_kwargs)
            rows.append({"horizon_months": h, "discount_rate": r,
                         **fit._point["ltv"].to_dict()})
    return pd.DataFrame(rows)
