"""Derivatives and hedges in Python (MODEL.md §10): ``run.derivatives`` and ``run.hedges`` are
results.json's ``derivatives`` and ``hedges`` as polars tables, and a plain portfolio has no
rows and no comparison."""

from __future__ import annotations

import json

import polars as pl

import gaib
from conftest import REPO, SMALL

HEDGED = REPO / "tests" / "fixtures" / "derivatives" / "small_hedged.toml"


def test_derivatives_and_hedges_are_the_results_tables():
    run = gaib.simulate(gaib.load_portfolio(HEDGED), paths=400, seed=7)
    d = run.derivatives
    assert isinstance(d, pl.DataFrame)
    assert d["id"].to_list() == ["SW-H100", "RF-B", "CAP-H100", "FWD-A100"]
    assert d["kind"].to_list() == ["swap", "revenue_floor", "cap", "forward"]
    results = json.loads(run.results_json)
    for row, rec in zip(d.iter_rows(named=True), results["derivatives"]):
        assert row["pv_usd"] == rec["pv_usd"]["value"]
        assert row["pv_usd_se"] == rec["pv_usd"]["std_error"]
        assert row["closed_form_pv_usd"] == rec["closed_form_pv_usd"]
    # The revenue floor has no closed form and says why; the others agree within 4 se.
    rf = d.filter(pl.col("id") == "RF-B").row(0, named=True)
    assert rf["closed_form_note"] == "revenue floor" and rf["closed_form_z"] is None
    others = d.filter(pl.col("closed_form_z").is_not_null())
    assert others.height == 3 and (others["closed_form_z"].abs() < 4).all()
    h = run.hedges
    assert h is not None
    assert set(h["metric"]) >= {"pd_pct", "expected_loss_pct", "price_pct", "haircut_pct"}
    l1 = h.filter((pl.col("instrument") == "L-1") & (pl.col("metric") == "pd_pct")).row(0, named=True)
    deal = next(x for x in results["hedges"]["deals"] if x["id"] == "L-1")
    assert l1["hedged"] == deal["pd_pct"]["hedged"]["value"]
    assert l1["unhedged"] == deal["pd_pct"]["unhedged"]["value"]
    assert l1["hedged_by"] == "SW-H100"


def test_a_portfolio_without_derivatives_has_no_rows_and_no_comparison():
    run = gaib.simulate(gaib.load_portfolio(SMALL), paths=50, seed=1)
    assert run.derivatives.height == 0
    assert run.hedges is None
