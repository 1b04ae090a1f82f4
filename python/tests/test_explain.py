"""Run.explain / gaib.explain: one path month by month, its totals equal to the path's row of
``Run.paths`` exactly, the same as ``gaib explain DIR --format json``, and bad input."""

from __future__ import annotations

import json

import polars as pl
import pytest

import gaib

from conftest import SAMPLE, run_cli


@pytest.fixture(scope="module")
def run():
    return gaib.simulate(SAMPLE, paths=500, seed=11, path_range=(200, 700), paths_out=True)


def test_totals_equal_the_paths_row(run):
    for path in (200, 433, 699):
        e = run.explain(path)
        assert (e.path, e.seed, e.months) == (path, 11, e.months)
        row = run.paths.filter(pl.col("path") == path).row(0, named=True)
        assert e.portfolio_loss_frac == row["portfolio_loss_frac"]
        assert e.defaults == row["defaults"]
        for t in e.tranche_totals.iter_rows(named=True):
            assert t["loss_frac"] == row[f"tranche/{t['tranche']}/loss_frac"]
            assert t["pv_frac"] == row[f"tranche/{t['tranche']}/pv_frac"]
        for d in e.deal_totals.iter_rows(named=True):
            assert d["loss_frac"] == row[f"deal/{d['deal']}/loss_frac"]
            assert d["pv_frac"] == row[f"deal/{d['deal']}/pv_frac"]
        assert e.deals.height == e.months * e.deal_totals.height
        assert {"month", "deal", "dsra_balance_usd", "default_kind", "recovery_usd"} <= set(
            e.deals.columns
        )


def test_worst_tranche_and_focus(run):
    col = "tranche/GPU-ABS-1/E/loss_frac"
    worst = run.paths.sort([col, "path"], descending=[True, False]).row(0, named=True)
    e = run.explain(worst_tranche="GPU-ABS-1/E")
    assert e.path == worst["path"]
    e = run.explain(300, pool="GPU-ABS-1")
    assert set(e.pools["pool"].to_list()) == {"GPU-ABS-1"}
    assert e.vault.height == 0
    e = run.explain(300, deal="L-01")
    assert set(e.deals["deal"].to_list()) == {"L-01"}
    assert e.tranches.height == 0


def test_explain_dir_equals_the_cli(tmp_path, run):
    d = run.save(tmp_path / "r")
    e = gaib.explain(d, 433, deal="L-01")
    cli = json.loads(run_cli("explain", str(d), "--path", "433", "--deal", "L-01",
                             "--format", "json").stdout)
    assert e.deals.to_dicts() == cli["deals"]
    assert e.deal_totals.to_dicts() == cli["totals"]["deals"]
    assert e.portfolio_loss_frac == cli["totals"]["portfolio_loss_frac"]


def test_bad_input(tmp_path, run):
    with pytest.raises(ValueError, match="path"):
        run.explain(199)
    with pytest.raises(ValueError, match="NOPE"):
        run.explain(300, deal="NOPE")
    with pytest.raises(ValueError, match="NOPE"):
        run.explain(300, pool="NOPE")
    with pytest.raises(ValueError, match="GPU-ABS-1/Z"):
        run.explain(worst_tranche="GPU-ABS-1/Z")
    with pytest.raises(ValueError, match="exactly one"):
        run.explain()
    with pytest.raises(TypeError):
        run.explain(300, deal=1)  # type: ignore[arg-type]
    with pytest.raises(gaib.InvalidRun):
        gaib.explain(tmp_path, 1)
