"""gaib.dask on a 2-worker LocalCluster: the merged run equals gaib.simulate byte for byte."""

from __future__ import annotations

import pytest
from distributed import Client, LocalCluster

import gaib
import gaib.dask

SAMPLE = "data/portfolios/sample.toml"


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_split_covers_the_range_in_order():
    assert gaib.dask.split(10, 7, 3) == [(10, 3), (13, 2), (15, 2)]
    assert gaib.dask.split(0, 2, 5) == [(0, 1), (1, 1)]


def test_dask_run_equals_the_single_process_run(client):
    single = gaib.simulate(SAMPLE, paths=4000, seed=42)
    spread = gaib.dask.simulate(SAMPLE, paths=4000, seed=42, client=client, chunks=7)
    assert spread.results_json == single.results_json
    assert spread.output("report.html") == single.output("report.html")
    assert spread.manifest["results_sha256"] == single.manifest["results_sha256"]
    assert spread.manifest["inputs"] == single.manifest["inputs"]
    assert spread.tranches.equals(single.tranches)


def test_dask_stress_and_sensitivities_equal_the_single_process_run(client):
    single = gaib.simulate(SAMPLE, paths=900, seed=3, scenarios=["bank-run", "gpu-glut"])
    spread = gaib.dask.simulate(SAMPLE, paths=900, seed=3, scenarios=["bank-run", "gpu-glut"],
                                client=client, chunks=4)
    assert spread.output("stress.json") == single.output("stress.json")
    assert spread.results_json == single.results_json
    s1 = gaib.simulate(SAMPLE, paths=600, seed=4, sensitivities=True)
    s2 = gaib.dask.simulate(SAMPLE, paths=600, seed=4, sensitivities=True, client=client)
    assert s2.output("sensitivities.json") == s1.output("sensitivities.json")


def test_dask_run_of_a_dict_portfolio_and_a_saved_directory(client, tmp_path):
    p = gaib.load_portfolio(SAMPLE)
    d = gaib.load_portfolio(p.to_dict(), base_dir="data/portfolios")
    spread = gaib.dask.simulate(d, paths=500, seed=8, client=client, chunks=3)
    assert spread.results_json == gaib.simulate(d, paths=500, seed=8).results_json
    out = spread.save(tmp_path / "run")
    assert gaib.reproduce(out) == (True, [])


def test_dask_arguments_are_checked_before_any_task(client):
    with pytest.raises(ValueError, match="invalid paths"):
        gaib.dask.simulate(SAMPLE, paths=0, seed=1, client=client)
    with pytest.raises(ValueError, match="no such file"):
        gaib.dask.simulate(SAMPLE, paths=10, seed=1, scenarios=["nope"], client=client)
    with pytest.raises(ValueError, match="chunks"):
        gaib.dask.simulate(SAMPLE, paths=10, seed=1, chunks=0, client=client)
    with pytest.raises(gaib.InvalidPortfolio):
        gaib.dask.simulate("tests/fixtures/invalid/negative_principal.toml", paths=10, seed=1,
                           client=client)
