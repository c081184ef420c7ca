"""The report's drivers section beside its models: a second thread on a twin DuckDB connection gives the same
numbers and the same warnings, in the same order, as one after the other; an audience's section reads the
audience's rows; an error in either thread is raised; the kit's warnings wait for the join."""

from __future__ import annotations

import threading
import warnings

import pandas as pd
import pytest

import cxkit.engine as engine
from cxkit.errors import CxkitWarning, holding_warnings, warn
from cxkit.leadership import LeadershipAnalysis
from cxkit.load import load
from cxkit.synth import generate, write

from .conftest import write_case

FIT_WHY = LeadershipAnalysis._fit_why


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return load(write(tmp_path_factory.mktemp("beside"), n_customers=4000, seed=2))


def _fit(data, beside: bool, monkeypatch, why_done: threading.Event | None = None):
    """The analysis with the drivers section in a thread (or not), the threads it ran in, the kit's warnings;
    ``why_done`` is set when the drivers section has ended."""
    monkeypatch.setattr(engine, "room_beside", lambda con: beside)
    threads = []

    def why(self, d):
        threads.append(threading.current_thread() is threading.main_thread())
        try:
            return FIT_WHY(self, d)
        finally:
            if why_done is not None:
                why_done.set()

    monkeypatch.setattr(LeadershipAnalysis, "_fit_why", why)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's, in a tiny world's degenerate fits
        warnings.simplefilter("always", CxkitWarning)
        a = LeadershipAnalysis(n_boot=20).fit(data)
    return a, threads, [str(w.message) for w in caught if issubclass(w.category, CxkitWarning)]


def _section(a) -> list:
    return [a.key_drivers_.importance_, a.key_drivers_.coefficients_, a.touchpoints_.summary,
            a.experiences_.summary, a.experiences_.revenue_at_risk_, a.departures_.summary]


def _same(left: list, right: list) -> None:
    for x, y in zip(left, right, strict=True):  # DuckDB's parallel sums may differ in the last bits
        pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-12, atol=1e-9)


def test_the_drivers_section_in_a_thread_gives_the_same_numbers(data, monkeypatch):
    serial, ran_serial, _ = _fit(data, False, monkeypatch)
    beside, ran_beside, _ = _fit(data, True, monkeypatch)
    assert ran_serial == [True] and ran_beside == [False]  # it really ran in a thread
    _same(_section(serial), _section(beside))
    assert serial.why_missing_ == beside.why_missing_ and serial.key_drivers_.n_ == beside.key_drivers_.n_
    assert serial.ltv_.summary.equals(beside.ltv_.summary)


def test_an_audience_section_in_a_thread_reads_the_audience(data, monkeypatch):
    """The thread's connection searches the slice's schema first, as the slice's does: a bare cursor would read
    everyone's answers."""
    west = data.subset({"region": "West"})
    serial, _, _ = _fit(west, False, monkeypatch)
    beside, ran, _ = _fit(west, True, monkeypatch)
    everyone, _, _ = _fit(data, False, monkeypatch)
    assert ran == [False]
    assert beside.key_drivers_.n_ == serial.key_drivers_.n_ < everyone.key_drivers_.n_
    _same(_section(serial), _section(beside))


def test_the_warnings_of_both_threads_come_in_the_serial_order(tmp_path, monkeypatch):
    """A world of 40 customers: the churn model warns (main thread) and so does the hazards' (the drivers
    thread). The models are held until the drivers section has ended, so its warnings are raised first; held
    until the join, they still come as they do one after the other (models first)."""
    tables, _ = generate(n_customers=40, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = load(write_case(tmp_path, tables, "parquet"))
    _, _, serial = _fit(small, False, monkeypatch)
    done, models = threading.Event(), LeadershipAnalysis._fit_models

    def after_the_drivers(self, *args):
        assert done.wait(120)
        return models(self, *args)

    monkeypatch.setattr(LeadershipAnalysis, "_fit_models", after_the_drivers)
    _, ran, beside = _fit(small, True, monkeypatch, why_done=done)
    assert ran == [False] and len(serial) >= 2 and beside == serial


def test_an_error_in_the_thread_is_raised_and_the_models_error_comes_first(data, monkeypatch):
    monkeypatch.setattr(engine, "room_beside", lambda con: True)

    def broken(self, d):
        raise RuntimeError("drivers broke")

    monkeypatch.setattr(LeadershipAnalysis, "_fit_why", broken)
    with pytest.raises(RuntimeError, match="drivers broke"):
        LeadershipAnalysis(n_boot=10).fit(data)

    def models_broke(self, *args):
        raise ValueError("models broke")

    monkeypatch.setattr(LeadershipAnalysis, "_fit_models", models_broke)
    with pytest.raises(ValueError, match="models broke"):
        LeadershipAnalysis(n_boot=10).fit(data)


def test_held_warnings_wait_and_come_in_thread_order():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with holding_warnings():
            other = threading.Thread(target=warn, args=("from the other thread",))
            other.start()
            other.join()
            warn("from this thread")
            assert caught == []
    assert [str(w.message) for w in caught] == ["from this thread", "from the other thread"]
    assert all(w.category is CxkitWarning for w in caught)


def test_filters_left_behind_by_another_thread_are_put_back():
    """One thread's catch_warnings exiting after another's entered leaves the other's filters in place: the
    list of filters is put back as it was when holding began."""
    before = warnings.filters
    with holding_warnings():
        warnings.filters = [("ignore", None, Warning, None, 0), *before]  # what such an interleaving leaves
    assert warnings.filters is before
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn("seen")
    assert [str(w.message) for w in caught] == ["seen"]
