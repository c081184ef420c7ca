"""Benchmark steps: the kit's way and the straightforward way (pandas + lifelines on raw rows).

Each function takes the data folder and returns ``(setup, run)``: ``setup()`` prepares inputs (not timed)
and ``run(inputs)`` does the timed work and returns a small result used to check that both ways agree.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.simplefilter("ignore")
BANDS4 = ["detractor", "passive", "promoter", "no answer"]
TAU = 24.0
N_BOOT = 200
BASELINE_BOOT = 10  # the row-level bootstrap is timed on this many replicates and scaled to N_BOOT


def _params(folder: Path) -> Path:
    return folder / "params.yaml"


def _frame_sql() -> str:
    """Tenure clock for every customer; segment = band of their latest answer, or 'no answer'."""
    from cxkit.frames import answer_order
    from cxkit.nps import band_sql

    latest = ("SELECT customer_id, nps FROM responses QUALIFY row_number() OVER "
              f"(PARTITION BY customer_id ORDER BY {answer_order('nps', 'DESC')}) = 1")
    return ("SELECT date_diff('day', c.signup_date, coalesce(c.end_date, DATE '2026-09-30')) / (365.25 / 12) "
            "AS duration, CASE WHEN c.end_date IS NULL THEN 0 ELSE 1 END AS event, "
            f"coalesce({band_sql('l.nps')}, 'no answer') AS segment, c.plan, c.region "
            f"FROM customers c LEFT JOIN ({latest}) l USING (customer_id)")


def _data(folder):
    from cxkit.load import load

    return load(_params(folder))


def _frame_file(folder) -> Path:
    """The analysis frame (10M rows at the largest size) written once to Parquet: where such a table lives."""
    path = folder / "frame.parquet"
    if not path.exists():
        data = _data(folder)
        data.con.execute(f"COPY ({_frame_sql()}) TO '{path}' (FORMAT parquet)")
    return path


def _frame_table(folder):
    """A connection and the frame's file; steps read it with ``read_parquet`` (nothing held in memory)."""
    from cxkit.engine import connect

    return connect(), _frame_file(folder)


def _frame_pandas(folder):
    df = pd.read_parquet(_frame_file(folder))
    df["segment"] = df["segment"].astype(str)
    return df


# ---------------------------------------------------------------- load and validate
def kit_load(folder):
    def run(_):
        data = _data(folder)
        return {"rows": data.row_counts}
    return (lambda: None), run


def base_load(folder):
    def run(_):
        t = {n: pd.read_parquet(folder / f"{n}.parquet") for n in ("customers", "responses", "contacts")}
        c, r = t["customers"], t["responses"]
        problems = int(c["customer_id"].duplicated().sum())
        problems += int((c["end_date"] < c["signup_date"]).sum())
        problems += int((~r["nps"].between(0, 10)).sum() + (~r["customer_id"].isin(c["customer_id"])).sum())
        ends = r.merge(c[["customer_id", "end_date"]], on="customer_id", how="left")
        problems += int((ends["response_date"] > ends["end_date"]).sum())
        problems += int((~t["contacts"]["customer_id"].isin(c["customer_id"])).sum())
        return {"rows": {n: len(v) for n, v in t.items()}, "problems": problems}
    return (lambda: None), run


# ------------------------------------------------------- Kaplan-Meier, log-rank, RMST
def scan(folder):
    def run(inputs):
        con, path = inputs
        con.sql(f"SELECT sum(duration), sum(event), count(segment) FROM read_parquet('{path}')").fetchall()
        return {}
    return (lambda: _frame_table(folder)), run


def read(folder):
    """The three columns read out of the file into Arrow: the least any method outside the engine pays."""
    def run(inputs):
        con, path = inputs
        table = con.sql(f"SELECT duration, event, segment FROM read_parquet('{path}')").arrow()
        if hasattr(table, "read_all"):
            table = table.read_all()
        return {"rows": table.num_rows}
    return (lambda: _frame_table(folder)), run


def kit_km(folder):
    def run(inputs):
        from cxkit.survival import SegmentSurvival

        con, path = inputs
        s = SegmentSurvival(order=BANDS4).fit(con.sql(f"SELECT * FROM read_parquet('{path}')"),
                                              "duration", "event", "segment")
        return {"logrank": s.logrank_.statistic, "rmst": s.rmst(TAU)["rmst"].tolist(),
                "curves": {k: g.set_index("time")["survival"] for k, g in s.survival_.groupby("segment")}}
    return (lambda: _frame_table(folder)), run


def base_km(folder):
    def run(df):
        from lifelines import KaplanMeierFitter
        from lifelines.statistics import multivariate_logrank_test
        from lifelines.utils import restricted_mean_survival_time

        curves, rmst = {}, []
        for seg in BANDS4:
            rows = df[df["segment"] == seg]
            km = KaplanMeierFitter().fit(rows["duration"], rows["event"])
            curves[seg] = km.survival_function_.iloc[:, 0]
            rmst.append(restricted_mean_survival_time(km, t=TAU))
        lr = multivariate_logrank_test(df["duration"], df["segment"], df["event"])
        return {"logrank": lr.test_statistic, "rmst": rmst, "curves": curves}
    return (lambda: _frame_pandas(folder)), run


# ---------------------------------------------------------------------------- Cox
COVARIATES = ["segment", "plan", "region"]
REFERENCE = {"segment": "passive", "plan": "Basic", "region": "North"}


def kit_cox(folder):
    def run(inputs):
        from cxkit.survival import CoxModel

        con, path = inputs
        fit = CoxModel(reference=REFERENCE).fit(con.sql(f"SELECT * FROM read_parquet('{path}')"), "duration",
                                                "event", COVARIATES)
        return {"coef": fit.params_.sort_index()}
    return (lambda: _frame_table(folder)), run


def base_cox(folder):
    def run(df):
        from lifelines import CoxPHFitter

        x = pd.get_dummies(df[COVARIATES], dtype=float)
        x = x.drop(columns=[f"{k}_{v}" for k, v in REFERENCE.items()])
        x.columns = [c.replace("_", "[", 1) + "]" for c in x.columns]
        fit = CoxPHFitter().fit(pd.concat([df[["duration", "event"]], x], axis=1), "duration", "event",
                                fit_options={"precision": 1e-10})
        return {"coef": fit.params_.sort_index()}
    return (lambda: _frame_pandas(folder)), run


# ---------------------------------------------------------------------- NPS bands
def kit_bands(folder):
    """NPS with its standard error for everyone, per plan and per region (latest answer per customer)."""
    def run(data):
        from cxkit.frames import nps_counts
        from cxkit.nps import nps_table_from_counts

        out = {}
        for by in (None, "plan", "region"):
            # like for like: everyone's latest answer (the report's headline counts active customers only)
            t = nps_table_from_counts(nps_counts(data, by=by, active_only=False, window_months=None), by=by)
            key = t[by].astype(str).tolist() if by else ["all"]
            out[by or "all"] = pd.DataFrame({"nps": t["nps"].to_numpy(), "se": t["se"].to_numpy()}, index=key)
        return out
    return (lambda: _data(folder)), run


def base_bands(folder):
    def setup():
        return (pd.read_parquet(folder / "responses.parquet", columns=["customer_id", "response_date", "nps"]),
                pd.read_parquet(folder / "customers.parquet", columns=["customer_id", "plan", "region"]))

    def run(inputs):
        r, c = inputs
        latest = r.dropna(subset=["nps"]).sort_values(  # same-day answers: the lowest score counts as latest
            ["customer_id", "response_date", "nps"], ascending=[True, True, False]).drop_duplicates(
            "customer_id", keep="last").merge(c, on="customer_id")
        latest["all"] = "all"
        out = {}
        for by in ("all", "plan", "region"):
            g = latest.assign(p=latest.nps >= 9, d=latest.nps <= 6).groupby(latest[by].astype(str))
            n, p, d = g.size(), g["p"].mean(), g["d"].mean()
            out[by] = pd.DataFrame({"nps": 100 * (p - d), "se": 100 * np.sqrt((p + d - (p - d) ** 2) / n)})
        return out
    return setup, run


# ---------------------------------------------------------------------- lifetime value
def kit_ltv(folder):
    def run(data):
        from cxkit.frames import ltv_frame
        from cxkit.ltv import SegmentLTV

        fit = SegmentLTV(n_boot=N_BOOT, seed=0).fit(ltv_frame(data, relation=True))  # summed in DuckDB
        return {"ltv": fit.summary.set_index("segment")["ltv"]}
    return (lambda: _data(folder)), run


def base_ltv(folder):
    """Row level: lifelines (weighted) Kaplan-Meier per segment and per bootstrap resample of rows."""
    def setup():
        from cxkit.frames import ltv_frame

        return ltv_frame(_data(folder))

    def run(frame):
        from lifelines import KaplanMeierFitter

        from cxkit.ltv import SegmentLTV

        horizon, months = 60, np.arange(60)
        disc = 1.1 ** (-months / 12)
        ltv_kit = SegmentLTV(n_boot=1)  # same tail models: only the survival and margins are recomputed here
        out = {}
        rng = np.random.default_rng(0)
        for seg, rows in frame.groupby("segment", observed=True):
            ltv_kit.fit(rows.assign(segment=str(seg)))
            part = ltv_kit._segments[str(seg)]
            tail, rev_tail = ltv_kit._tails[str(seg)]
            billed = rows["billed_months"].to_numpy(float)
            rate = np.divide(rows["revenue"].to_numpy(float), billed, out=np.zeros(len(rows)), where=billed > 0)
            fixed = (part.window, tail, rev_tail, months, disc, KaplanMeierFitter)
            out[str(seg)] = _row_level_ltv(rows, rate, *fixed)
            for _ in range(BASELINE_BOOT):
                pick = rng.integers(0, len(rows), len(rows))
                _row_level_ltv(rows.iloc[pick], rate[pick], *fixed)
        return {"ltv": pd.Series(out).sort_index(), "horizon": horizon}
    return setup, run


def _row_level_ltv(r, rr, w, tail, rev_tail, months, disc, km_fitter):
    """LTV of one segment from its rows with lifelines' (weighted) Kaplan-Meier and the kit's tails."""
    s = km_fitter().fit(r["duration"], r["event"]).survival_function_at_times(months).to_numpy()
    sr = km_fitter().fit(r["duration"], r["event"], weights=rr + 1e-300).survival_function_at_times(months).to_numpy()
    s[w + 1:] = s[w] * tail.survival(months[w + 1:]) / tail.survival(w)
    sr[w + 1:] = sr[w] * rev_tail.survival(months[w + 1:]) / rev_tail.survival(w)
    cost = r["cost"].sum() / r["exposure_months"].sum()
    return rr.mean() * np.sum(sr * disc) - cost * np.sum(s * disc)


# --------------------------------------------------------------------- ledger and trend
def kit_ledger(folder):
    def run(data):
        from cxkit.ledger import CustomerLedger

        return {"table": CustomerLedger("M").fit_data(data).table[["start", "new", "lost", "end"]].to_numpy()}
    return (lambda: _data(folder)), run


def base_ledger(folder):
    def run(c):
        as_of = pd.Timestamp("2026-09-30")
        starts = pd.date_range(c["signup_date"].min().to_period("M").to_timestamp(), as_of, freq="MS")
        rows = []
        for p0 in starts:
            p1 = p0 + pd.offsets.MonthEnd(0)
            rows.append([((c.signup_date < p0) & (c.end_date.isna() | (c.end_date >= p0))).sum(),
                         c.signup_date.between(p0, p1).sum(), c.end_date.between(p0, p1).sum(),
                         ((c.signup_date <= p1) & (c.end_date.isna() | (c.end_date > p1))).sum()])
        return {"table": np.array(rows)}
    return (lambda: pd.read_parquet(folder / "customers.parquet")), run


def kit_trend(folder):
    def run(data):
        from cxkit.aggregate import nps_counts_sql
        from cxkit.trends import NPSTrend

        counts = data.sql(nps_counts_sql("responses", "M")).df()  # like for like: no response rates here
        return {"nps": NPSTrend("M").fit_counts(counts).table["nps"].to_numpy()}
    return (lambda: _data(folder)), run


def base_trend(folder):
    def run(r):
        month = r["response_date"].dt.to_period("M")
        g = r.assign(p=(r.nps >= 9), d=(r.nps <= 6)).groupby(month)
        n = g.size()
        nps = 100 * (g["p"].sum() - g["d"].sum()) / n
        return {"nps": np.where(n >= 30, nps, np.nan)}
    return (lambda: pd.read_parquet(folder / "responses.parquet")), run


# ------------------------------------------------------------------------ the whole analysis
def kit_whole(folder):
    def run(_):
        from cxkit.leadership import LeadershipAnalysis
        from cxkit.narrative import summary

        a = LeadershipAnalysis(n_boot=N_BOOT).fit(_data(folder))
        return {"sentences": len(summary(a))}
    return (lambda: None), run


# ------------------------------------------------------------------------ drivers
DRIVER_COLUMNS = ["tenure_months", "plan", "region", "csat", "call_contacts", "chat_contacts", "complaint_contacts",
                  "email_contacts", "repeat_contacts"]


def kit_drivers(folder):
    """The driver frame as the report builds it: the answers (each with its contacts in the 90 days before)
    collapsed to their distinct patterns with counts (``driver_frame(relation="patterns")``: a compiled pass over
    the customers, contacts and answers in id order, in a temporary table), and the weights with their bootstrap
    read from it; on loaded data (the load is its own row, and the whole analysis's first step), as the other
    steps are timed."""
    def run(data):
        from cxkit.drivers import KeyDrivers, driver_frame
        from cxkit.drivers.frame import drop_answers_table

        try:
            kd = KeyDrivers(n_boot=N_BOOT).fit(driver_frame(data, relation="patterns"), DRIVER_COLUMNS)
        finally:
            drop_answers_table(data)
        return {"weights": kd.importance_.set_index("driver")["weight"], "patterns": kd.patterns_}
    return (lambda: _data(folder)), run


def base_drivers(folder):
    """pandas: each answer's contacts in the 90 days before, then Johnson's weights on the rows, with a
    row bootstrap (timed on BASELINE_BOOT replicates and scaled to N_BOOT). The tables are read before the clock
    starts, as the kit's are loaded."""
    def setup():
        return (pd.read_parquet(folder / "customers.parquet", columns=["customer_id", "signup_date", "plan", "region"]),
                pd.read_parquet(folder / "responses.parquet", columns=["customer_id", "response_date", "nps", "csat"]),
                pd.read_parquet(folder / "contacts.parquet", columns=["customer_id", "date", "kind"]))

    def run(tables):
        c, r, k = tables
        k["kind"] = k["kind"].astype(str)
        k = k.sort_values(["customer_id", "date"])
        k["repeat"] = k.groupby("customer_id")["date"].diff().dt.days.le(7)
        keys = r[["customer_id", "response_date"]].drop_duplicates()
        m = keys.merge(k, on="customer_id")
        m = m[(m["date"] >= m["response_date"] - pd.Timedelta(days=90)) & (m["date"] < m["response_date"])]
        counts = pd.crosstab([m["customer_id"], m["response_date"]], m["kind"])
        counts.columns = [f"{x}_contacts" for x in counts.columns]
        counts["repeat_contacts"] = m.groupby(["customer_id", "response_date"])["repeat"].sum()
        f = r.merge(c, on="customer_id").merge(counts.reset_index(), on=["customer_id", "response_date"], how="left")
        f = f.fillna({col: 0 for col in counts.columns})
        f["tenure_months"] = np.floor((f["response_date"] - f["signup_date"]).dt.days / (365.25 / 12))
        levels = {}
        for col in ("plan", "region"):
            ref = f[col].value_counts().idxmax()
            levels[col] = [v for v in sorted(f[col].astype(str).unique()) if v != ref]
        cols, groups = [], []
        for d in DRIVER_COLUMNS:
            if d in levels:
                names = [f"{d}={v}" for v in levels[d]]
                for v in levels[d]:
                    f[f"{d}={v}"] = (f[d].astype(str) == v).astype(float)
            else:
                names = [d]
            groups.append(list(range(len(cols), len(cols) + len(names))))
            cols += names
        data = f[["nps", *cols]].to_numpy(dtype=float)

        def weights(rows):
            corr = np.corrcoef(rows, rowvar=False)
            lam, q = np.linalg.eigh(corr[1:, 1:])
            half = q @ np.diag(np.sqrt(lam)) @ q.T
            beta = q @ np.diag(1 / np.sqrt(lam)) @ q.T @ corr[1:, 0]
            raw = (half**2) @ (beta**2)
            return np.array([raw[g].sum() for g in groups])

        point = weights(data)
        rng = np.random.default_rng(0)
        for _ in range(BASELINE_BOOT):
            weights(data[rng.integers(0, len(data), len(data))])
        return {"weights": pd.Series(point, index=DRIVER_COLUMNS)}
    return setup, run


def kit_experiences(folder):
    def run(data):
        from cxkit.drivers import ExperienceHazards

        # both models the report fits: plan and region (compared with the lifelines baseline, which fits that one)
        # and the one that allows for the earlier answer (prior_score), on the time after first answers; on
        # loaded data, as the other steps are timed
        eh = ExperienceHazards().fit_data(data)
        return {"hr": eh.unadjusted_cox_.params_, "spells": eh.spells_, "adjusted": eh.cox_.params_}
    return (lambda: _data(folder)), run


def base_experiences(folder):
    """lifelines: (start, stop] rows with lifelines' own add_covariate_to_timeline, then CoxTimeVaryingFitter (the
    tables read before the clock starts)."""
    def setup():
        return (pd.read_parquet(folder / "customers.parquet", columns=["customer_id", "signup_date", "end_date",
                                                                       "plan", "region"]),
                pd.read_parquet(folder / "contacts.parquet", columns=["customer_id", "date", "kind"]))

    def run(tables):
        from lifelines import CoxTimeVaryingFitter
        from lifelines.utils import add_covariate_to_timeline

        as_of = pd.Timestamp("2026-09-30")
        c, k = tables
        c["event"] = c["end_date"].notna().astype(int)
        c["duration"] = ((c["end_date"].fillna(as_of) - c["signup_date"]).dt.days).astype(float)
        c = c[c["duration"] > 0]
        base = pd.get_dummies(c[["customer_id", "duration", "event", "plan", "region"]], columns=["plan", "region"],
                              drop_first=True, dtype=float)
        base["start"], base["stop"] = 0.0, base.pop("duration")
        k = k.merge(c[["customer_id", "signup_date"]], on="customer_id")
        k = k.sort_values(["customer_id", "date"])
        day = (k["date"] - k["signup_date"]).dt.days.astype(float)
        k["complaints"] = (k["kind"].astype(str) == "complaint").astype(float)
        k["repeat_contacts"] = k.groupby("customer_id")["date"].diff().dt.days.le(7).astype(float)
        up = pd.DataFrame({"customer_id": k["customer_id"], "time": day + 7, "complaints": k["complaints"],
                           "repeat_contacts": k["repeat_contacts"]})
        down = up.assign(time=day + 97, complaints=-up["complaints"], repeat_contacts=-up["repeat_contacts"])
        cv = pd.concat([up, down]).groupby(["customer_id", "time"], as_index=False).sum()
        long = add_covariate_to_timeline(base, cv, "customer_id", "time", "event", cumulative_sum=True)
        long = long.rename(columns={"cumsum_complaints": "complaints", "cumsum_repeat_contacts": "repeat_contacts"})
        long = long.fillna({"complaints": 0, "repeat_contacts": 0})
        long["event"] = long["event"].astype(int)
        long["start"], long["stop"] = long["start"] / (365.25 / 12), long["stop"] / (365.25 / 12)
        ctv = CoxTimeVaryingFitter().fit(long, id_col="customer_id", event_col="event", start_col="start",
                                         stop_col="stop")
        return {"hr": ctv.params_}
    return setup, run


STEPS = {
    "load_validate": (kit_load, base_load),
    "nps_bands": (kit_bands, base_bands),
    "km_logrank_rmst": (kit_km, base_km),
    "cox": (kit_cox, base_cox),
    "ltv_with_intervals": (kit_ltv, base_ltv),
    "ledger": (kit_ledger, base_ledger),
    "nps_trend": (kit_trend, base_trend),
    "whole_analysis": (kit_whole, None),
    "key_drivers": (kit_drivers, base_drivers),
    "experience_hazards": (kit_experiences, base_experiences),
}
#: Baselines too slow to run beyond this many customers (their time is left out there, not guessed).
BASELINE_MAX = {"experience_hazards": 100_000}
#: Every measurable function, the column scan and read (yardsticks for Kaplan-Meier) included.
ALL = {**STEPS, "scan": (scan, None), "read": (read, None)}


def agree(step: str, kit: dict, base: dict | None) -> bool | None:
    """Do the two ways give the same numbers (1e-9 for KM, log-rank, RMST; 1e-6 for Cox)?"""
    if base is None:
        return None
    if step == "load_validate":
        return kit["rows"] == {k: v for k, v in base["rows"].items()} and base["problems"] == 0
    if step == "nps_bands":
        return all(np.allclose(kit[k].to_numpy(), base[k].loc[kit[k].index].to_numpy(), atol=1e-9, rtol=0)
                   and len(kit[k]) == len(base[k]) for k in base)
    if step == "km_logrank_rmst":
        same_curves = all(np.allclose(kit["curves"][s].to_numpy(), base["curves"][s].loc[kit["curves"][s].index]
                                      .to_numpy(), atol=1e-9, rtol=0) for s in BANDS4)
        return bool(same_curves and abs(kit["logrank"] - base["logrank"]) <= 1e-9 * abs(base["logrank"])
                    and np.allclose(kit["rmst"], base["rmst"], atol=1e-9, rtol=0))
    if step == "cox":
        return bool(np.allclose(kit["coef"].to_numpy(), base["coef"].loc[kit["coef"].index].to_numpy(), atol=1e-6))
    if step == "ltv_with_intervals":
        return bool(np.allclose(kit["ltv"].sort_index().to_numpy(), base["ltv"].to_numpy(), rtol=1e-6))
    if step == "ledger":
        return bool(np.array_equal(kit["table"], base["table"]))
    if step == "nps_trend":
        return bool(np.allclose(kit["nps"], base["nps"], equal_nan=True, atol=1e-9))
    if step == "key_drivers":
        return bool(np.allclose(kit["weights"].loc[base["weights"].index].to_numpy(), base["weights"].to_numpy(),
                                atol=1e-8))
    if step == "experience_hazards":
        terms = ["complaints", "repeat_contacts"]
        return bool(np.allclose(kit["hr"].loc[terms].to_numpy(), base["hr"].loc[terms].to_numpy(), atol=1e-6))
    return None
