"""The API surface of the `gaib` package against the `gaib` CLI: the same inputs, seed and
paths give the same bytes."""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import signal
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import gaib
from gaib import _native

from conftest import INVALID, REPO, run_cli

SAMPLE = "data/portfolios/sample.toml"
SMALL = "tests/fixtures/valid/small.toml"


# --- portfolios -------------------------------------------------------------------------


def test_load_portfolio_from_file_dict_and_portfolio():
    p = gaib.load_portfolio(SAMPLE)
    assert p.id and len(p.sha256) == 64 and p.source == SAMPLE
    assert gaib.load_portfolio(p) is p
    assert gaib.load_portfolio(Path(SAMPLE)).sha256 == p.sha256
    roles = [f[0] for f in p.files]
    assert roles == ["portfolio", "loan_tape"]
    # A dict of the same document; its loan tape resolved against base_dir.
    d = p.to_dict()
    q = gaib.load_portfolio(d, base_dir="data/portfolios")
    assert q.source == "(request body)"
    assert q.deal_ids == p.deal_ids and q.tranche_ids == p.tranche_ids
    # The same dict, whatever its key order, has the same canonical bytes.
    r = gaib.load_portfolio(dict(reversed(list(d.items()))), base_dir="data/portfolios")
    assert r.sha256 == q.sha256


def test_summary_matches_gaib_validate():
    s = gaib.validate(SAMPLE)
    out = run_cli("validate", SAMPLE).stdout
    assert f"{s['gpu_classes']} gpu classes, {s['operators']} operators" in out
    assert f"{s['fleets']} fleets, {s['deals']} deals (USD " in out
    assert float(out.split("(USD ")[1].split(" funded")[0]) == s["funded_usd"]
    assert f"{s['pools']} pools, 1 vault; horizon {s['horizon_months']} months" in out


def test_portfolio_and_scenario_pickle_as_their_bytes():
    p = gaib.load_portfolio(SAMPLE)
    q = pickle.loads(pickle.dumps(p))
    assert (q.sha256, q.source, q.files) == (p.sha256, p.source, p.files)
    s = gaib.load_scenario("gpu-glut", p)
    t = pickle.loads(pickle.dumps(s))
    assert (t.id, t.sha256, t.source) == (s.id, s.sha256, s.source)


@pytest.mark.parametrize(
    "fixture",
    sorted(f.name for f in INVALID.glob("*.toml")),
)
def test_invalid_portfolio_carries_the_cli_message_and_fields(fixture):
    path = f"tests/fixtures/invalid/{fixture}"
    cli = run_cli("validate", path, check=False)
    assert cli.returncode == 2
    with pytest.raises(gaib.InvalidPortfolio) as e:
        gaib.validate(path)
    # The message is exactly what the CLI prints after "error: ".
    assert "error: " + str(e.value) + "\n" == cli.stderr
    assert isinstance(e.value, ValueError)
    for (field, value, reason), line in zip(e.value.errors, e.value.lines):
        assert line.endswith(f"{field} = {value}: {reason}")
        assert "  - " + line in cli.stderr
    if "invalid portfolio (" in cli.stderr:
        assert len(e.value.errors) == cli.stderr.count("\n  - ") >= 1
    else:
        assert e.value.errors == []
    # Picklable with its fields (Dask ships exceptions back).
    again = pickle.loads(pickle.dumps(e.value))
    assert again.errors == e.value.errors and str(again) == str(e.value)


def test_a_dict_that_references_a_loan_tape_needs_base_dir():
    d = gaib.load_portfolio(SAMPLE).to_dict()
    with pytest.raises(gaib.InvalidPortfolio, match="cannot reference the loan tape"):
        gaib.load_portfolio(d)


def test_bad_portfolio_arguments():
    with pytest.raises(TypeError):
        gaib.load_portfolio(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        gaib.load_portfolio({"x": object()})
    with pytest.raises(TypeError):
        gaib.load_portfolio(SAMPLE, base_dir=".")
    with pytest.raises(gaib.InvalidPortfolio, match="cannot read"):
        gaib.load_portfolio("no/such/file.toml")
    with pytest.raises(gaib.InvalidPortfolio):
        gaib.load_portfolio({"portfolio": {"id": "x"}})


# --- cashflows --------------------------------------------------------------------------


def _cli_json(*args: str):
    return json.loads(run_cli(*args).stdout)


def test_cashflows_of_a_deal_equal_the_cli():
    p = gaib.load_portfolio(SAMPLE)
    deal = p.deal_ids[0]
    df = gaib.cashflows(p, deal=deal)
    rows = _cli_json("cashflows", SAMPLE, "--deal", deal, "--format", "json")
    assert df.height == len(rows)
    for col in ("interest_usd", "scheduled_principal_usd", "balance_end_usd", "noi_usd"):
        assert df[col].to_list() == [float(r[col]) for r in rows]
    assert df["month"].to_list() == [r["month"] for r in rows]


def test_cashflows_of_a_pool_and_of_every_deal():
    p = gaib.load_portfolio(SAMPLE)
    pool = p.pool_ids[0]
    df = gaib.cashflows(SAMPLE, pool=pool)
    rows = _cli_json("cashflows", SAMPLE, "--pool", pool, "--format", "json")
    assert df["interest_proceeds_usd"].to_list() == [float(r["interest_proceeds_usd"]) for r in rows]
    first = p.tranche_ids[0].split("/")[1]
    assert df[f"{first}_balance_usd"].to_list() == [float(r[f"{first}_balance_usd"]) for r in rows]
    every = gaib.cashflows(p)
    assert every.columns[:2] == ["deal", "month"]
    assert every["deal"].unique(maintain_order=True).to_list() == p.deal_ids


def test_cashflows_errors():
    with pytest.raises(gaib.InvalidPortfolio, match="unknown deal id 'nope'"):
        gaib.cashflows(SAMPLE, deal="nope")
    with pytest.raises(gaib.InvalidPortfolio, match="unknown pool id 'nope'"):
        gaib.cashflows(SAMPLE, pool="nope")
    p = gaib.load_portfolio(SAMPLE)
    with pytest.raises(ValueError, match="not both"):
        gaib.cashflows(p, deal=p.deal_ids[0], pool=p.pool_ids[0])
    with pytest.raises(TypeError):
        gaib.cashflows(p, deal=3)  # type: ignore[arg-type]


# --- runs against the CLI ---------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """gaib run (plain, with sensitivities, with per-path rows) and gaib stress, once."""
    d = tmp_path_factory.mktemp("cli")
    run_cli("run", SAMPLE, "--paths", "3000", "--seed", "42", "--out", str(d / "plain"),
            "--quiet", "--paths-out", str(d / "paths.parquet"))
    run_cli("run", SAMPLE, "--paths", "1000", "--seed", "7", "--out", str(d / "sens"),
            "--quiet", "--sensitivities")
    run_cli("stress", SAMPLE, "--scenario", "gpu-glut", "bank-run", "--paths", "1000",
            "--seed", "5", "--out", str(d / "stress"), "--quiet", "--format", "json")
    return d


@pytest.fixture(scope="module")
def plain_run():
    return gaib.simulate(SAMPLE, paths=3000, seed=42, threads=2, paths_out=True)


def test_results_json_equals_gaib_run_byte_for_byte(cli_runs, plain_run):
    assert plain_run.results_json == (cli_runs / "plain" / "results.json").read_bytes()
    assert plain_run.output("report.html") == (cli_runs / "plain" / "report.html").read_bytes()
    cli_manifest = json.loads((cli_runs / "plain" / "manifest.json").read_text())
    m = plain_run.manifest
    assert m["results_sha256"] == cli_manifest["results_sha256"]
    assert m["inputs"] == cli_manifest["inputs"]
    assert (m["seed"], m["path_start"], m["paths"], m["kind"]) == (42, 0, 3000, "plain")


def test_results_do_not_depend_on_threads(plain_run):
    one = gaib.simulate(SAMPLE, paths=3000, seed=42, threads=1)
    assert one.results_json == plain_run.results_json
    assert one.manifest["threads"] == 1


def test_per_path_rows_equal_the_cli_parquet(cli_runs, plain_run):
    rows = plain_run.paths
    cli = pl.read_parquet(cli_runs / "paths.parquet")
    assert rows.columns == cli.columns
    assert rows.height == 3000
    assert rows.equals(cli.cast(rows.schema))
    assert rows["path"].to_list() == list(range(3000))


def test_sensitivities_equal_the_cli(cli_runs):
    run = gaib.simulate(SAMPLE, paths=1000, seed=7, sensitivities=True)
    assert run.results_json == (cli_runs / "sens" / "results.json").read_bytes()
    assert run.output("sensitivities.json") == (cli_runs / "sens" / "sensitivities.json").read_bytes()
    s = run.sensitivities
    ref = json.loads(run.output("sensitivities.json"))
    assert s.columns == ["metric", "unit", "base"] + [b["id"] for b in ref]
    first = ref[0]
    assert s["metric"].to_list() == [c["key"] for c in first["changes"]]
    assert s[first["id"]].to_list() == [c["change"] for c in first["changes"]]
    assert run.stress is None and run.paths is None


def test_stress_equals_the_cli(cli_runs):
    run = gaib.simulate(SAMPLE, paths=1000, seed=5, scenarios=["gpu-glut", "bank-run"])
    assert run.output("stress.json") == (cli_runs / "stress" / "stress.json").read_bytes()
    assert run.results_json == (cli_runs / "stress" / "results.json").read_bytes()
    df = gaib.stress(SAMPLE, scenarios=["gpu-glut", "bank-run"], paths=1000, seed=5)
    assert df.equals(run.stress)
    ref = json.loads(run.output("stress.json"))
    assert df.columns == ["metric", "unit", "base", "gpu-glut", "gpu-glut_change", "bank-run", "bank-run_change"]
    assert df["base"].to_list() == [m["value"] for m in ref["base"]]
    glut = ref["scenarios"][0]["changes"]
    assert df["gpu-glut_change"].to_list() == [c["change"] for c in glut]
    assert run.sensitivities is None


def test_scenario_objects_and_files():
    s = gaib.load_scenario("data/scenarios/rate-shock.toml")
    assert s.id == "rate-shock" and len(s.sha256) == 64
    run = gaib.simulate(SAMPLE, paths=200, seed=1, scenarios=s)
    assert run.stress is not None and "rate-shock_change" in run.stress.columns
    with pytest.raises(ValueError, match="no such file"):
        gaib.load_scenario("no-such-scenario", SAMPLE)
    with pytest.raises(TypeError):
        gaib.load_scenario(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one scenario"):
        gaib.stress(SAMPLE, scenarios=[])


# --- the tables -------------------------------------------------------------------------


def test_tables_hold_the_valuation(plain_run):
    v = plain_run.valuation
    t = plain_run.tranches
    assert t["id"].to_list() == [x["id"] for x in v["tranches"]]
    assert t["price_pct"].to_list() == [x["price_pct"]["value"] for x in v["tranches"]]
    assert t["price_pct_se"].to_list() == [x["price_pct"]["std_error"] for x in v["tranches"]]
    assert t["loss_quantiles_pct_q99"].to_list() == [
        next(q["value"] for q in x["loss_quantiles_pct"] if q["level"] == 0.99) for x in v["tranches"]
    ]
    assert t["expected_cash_flow_pct"].to_list() == [x["expected_cash_flow_pct"] for x in v["tranches"]]
    d = plain_run.deals
    assert d["id"].to_list() == [x["id"] for x in v["deals"]]
    assert d["pd_pct"].to_list() == [x["pd_pct"]["value"] for x in v["deals"]]
    pl_ = plain_run.portfolio_loss
    assert pl_["confidence"].to_list() == [x["confidence"] for x in v["portfolio"]["tail"]]
    assert pl_["var_pct"].to_list() == [x["var_pct"] for x in v["portfolio"]["tail"]]
    h = plain_run.loss_distribution
    assert abs(h["probability"].sum() - 1.0) < 1e-9
    fan = plain_run.vault
    assert fan["month"].to_list() == [f["month"] for f in v["vault"]["fan"]]
    assert fan.columns == ["month", "mean_usd", "q5_usd", "q25_usd", "q50_usd", "q75_usd", "q95_usd"]
    c = plain_run.collateral
    assert set(c["deal"].unique()) == {x["deal_id"] for x in v["collateral"]}
    assert plain_run.results["valuation"] == v


def _tables(run: gaib.Run) -> dict[str, pl.DataFrame]:
    names = ["tranches", "deals", "portfolio_loss", "loss_distribution", "vault",
             "collateral", "sensitivities", "stress", "paths"]
    return {n: getattr(run, n) for n in names if getattr(run, n) is not None}


def test_every_table_round_trips_through_polars(plain_run):
    sens = gaib.simulate(SAMPLE, paths=300, seed=3, sensitivities=True)
    stress = gaib.simulate(SAMPLE, paths=300, seed=3, scenarios=["bank-run"])
    tables = {**_tables(plain_run), **{f"s.{k}": v for k, v in _tables(sens).items()},
              **{f"x.{k}": v for k, v in _tables(stress).items()},
              "cashflows": gaib.cashflows(SAMPLE)}
    assert {"tranches", "deals", "portfolio_loss", "loss_distribution", "vault", "collateral",
            "paths", "s.sensitivities", "x.stress", "cashflows"} <= set(tables)
    for name, df in tables.items():
        assert df.height > 0 and df.width > 0, name
        for fmt in ("ipc", "parquet"):
            buf = io.BytesIO()
            getattr(df, f"write_{fmt}")(buf)
            buf.seek(0)
            back = getattr(pl, f"read_{fmt}")(buf)
            assert back.equals(df), (name, fmt)
            assert back.schema == df.schema, (name, fmt)
    # polars' own Arrow import of the capsule object (a stream of struct rows for from_arrow).
    t = plain_run._native.tranches()
    via = pl.from_arrow(t)
    via = via.struct.unnest() if isinstance(via, pl.Series) else via
    assert via.equals(plain_run.tranches)
    assert t.num_rows == plain_run.tranches.height
    assert t.column_names == plain_run.tranches.columns
    meta = plain_run._native.paths().metadata
    assert meta == {"gaib.seed": "42", "gaib.path_start": "0", "gaib.paths": "3000"}


def test_numeric_columns_are_typed(plain_run):
    t = plain_run.tranches
    assert t.schema["price_pct"] == pl.Float64
    assert t.schema["id"] == pl.String
    assert t.schema["kind_equity"] == pl.Boolean
    assert t.schema["expected_cash_flow_pct"] == pl.List(pl.Float64)
    p = plain_run.paths
    assert p.schema["path"] == pl.UInt64
    assert p.schema["defaults"] == pl.UInt32


# --- run directories --------------------------------------------------------------------


def test_save_and_reproduce(tmp_path, plain_run):
    d = plain_run.save(tmp_path / "run")
    assert (d / "results.json").read_bytes() == plain_run.results_json
    assert gaib.reproduce(d) == (True, [])
    # The CLI reproduces what Python wrote.
    run_cli("reproduce", str(d))
    # A non-empty directory is refused, unless it is a previous run and force is given.
    with pytest.raises(ValueError, match="is not empty"):
        plain_run.save(d)
    assert plain_run.save(d, force=True) == d
    # Tampered results are a mismatch naming the field.
    r = json.loads((d / "results.json").read_text())
    r["valuation"]["tranches"][0]["price_pct"]["value"] += 1.0
    (d / "results.json").write_text(json.dumps(r, indent=2) + "\n")
    ok, diffs = gaib.reproduce(d)
    assert not ok
    assert any("$.valuation.tranches[0].price_pct.value" in x for x in diffs), diffs
    assert any("sha256" in x for x in diffs), diffs


def test_reproduce_errors(tmp_path):
    with pytest.raises(gaib.InvalidRun, match="manifest.json"):
        gaib.reproduce(tmp_path)
    run = gaib.simulate(SMALL, paths=100, seed=1)
    d = run.save(tmp_path / "r")
    (d / "inputs" / "small.toml").write_text("changed")
    with pytest.raises(gaib.InvalidRun, match="inputs changed"):
        gaib.reproduce(d)
    with pytest.raises(ValueError):
        gaib.reproduce(d, threads=0)


# --- arguments and errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(paths=0, seed=1), ValueError, "invalid paths = 0"),
        (dict(paths=-1, seed=1), ValueError, "invalid paths"),
        (dict(paths=10**11, seed=1), ValueError, "absurd"),
        (dict(paths=2**32, seed=1, path_range=(1, 2**32 + 1)), ValueError, "2\\^32"),
        (dict(paths="10", seed=1), TypeError, "paths"),
        (dict(paths=True, seed=1), TypeError, "paths"),
        (dict(paths=10), TypeError, "seed is required"),
        (dict(seed=1), TypeError, "paths is required"),
        (dict(paths=10, seed=-1), ValueError, "seed"),
        (dict(paths=10, seed=2**64), ValueError, "seed"),
        (dict(paths=10, seed=1.5), TypeError, "seed"),
        (dict(paths=10, seed=1, threads=0), ValueError, "threads"),
        (dict(paths=10, seed=1, threads="2"), TypeError, "threads"),
        (dict(paths=10, seed=1, backend="gpu"), ValueError, "expected cpu, cuda or auto"),
        (dict(paths=10, seed=1, backend=1), TypeError, "backend"),
        (dict(paths=10, seed=1, scenarios=["nope"]), ValueError, "no such file"),
        (dict(paths=10, seed=1, scenarios=[1]), TypeError, "scenario"),
        (dict(paths=10, seed=1, scenarios=["bank-run"], sensitivities=True), ValueError, "stress run"),
        (dict(paths=10, seed=1, sensitivities="yes"), TypeError, "sensitivities"),
        (dict(paths=10, seed=1, prices={"nope": 99.0}), ValueError, "no tranche or deal"),
        (dict(paths=10, seed=1, prices={"GPU-ABS-1/A": -1.0}), ValueError, "positive"),
        (dict(paths=10, seed=1, prices=[1]), TypeError, "prices"),
        (dict(paths=10, seed=1, path_range=(5, 5)), ValueError, "stop must exceed"),
        (dict(paths=11, seed=1, path_range=(0, 10)), ValueError, "holds 10"),
        (dict(seed=1, path_range=range(0, 10, 2)), ValueError, "step"),
        (dict(seed=1, path_range=[0, 10]), TypeError, "path_range"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        gaib.simulate(SAMPLE, **kwargs)


def test_the_cuda_backend_is_an_input_error_where_not_built():
    with pytest.raises(ValueError, match="cuda"):
        gaib.simulate(SAMPLE, paths=10, seed=1, backend="cuda")
    run = gaib.simulate(SAMPLE, paths=10, seed=1, backend="auto")
    assert run.manifest["backend"] == "cpu"
    assert any("cuda" in n for n in run.notes)


def test_market_prices_give_implied_spreads(cli_runs):
    run = gaib.simulate(SAMPLE, paths=500, seed=2, prices={"GPU-ABS-1/A": 99.5})
    spreads = run.results["implied_spreads"]
    assert [s["id"] for s in spreads] == ["GPU-ABS-1/A"]
    assert spreads[0]["market_price_pct"] == 99.5


def test_path_ranges_merge_exactly_through_shards():
    whole = gaib.simulate(SAMPLE, paths=1200, seed=9)
    a = gaib.simulate(SAMPLE, seed=9, path_range=(0, 500))
    b = gaib.simulate(SAMPLE, seed=9, path_range=range(500, 1200))
    assert b.path_range == range(500, 1200)
    p = gaib.load_portfolio(SAMPLE)
    merged = gaib.Run(_native.from_shards(p._native, [b.to_shard(), a.to_shard()]))
    assert merged.results_json == whole.results_json
    gap = gaib.simulate(SAMPLE, seed=9, path_range=(600, 700))
    with pytest.raises(gaib.NotMergeable, match="not adjacent"):
        _native.from_shards(p._native, [a.to_shard(), gap.to_shard()])
    other = gaib.load_portfolio(SMALL)
    with pytest.raises(gaib.NotMergeable, match="other inputs"):
        _native.from_shards(other._native, [a.to_shard()])
    with pytest.raises(ValueError, match="not a gaib shard"):
        _native.from_shards(p._native, [b"{}"])


def test_exception_hierarchy():
    assert issubclass(gaib.InvalidPortfolio, ValueError)
    assert issubclass(gaib.InvalidRun, ValueError)
    assert issubclass(gaib.NotMergeable, ValueError)
    for e in (gaib.InvalidPortfolio, gaib.InvalidRun, gaib.NotMergeable, gaib.Mismatch):
        assert issubclass(e, gaib.GaibError)
    m = pickle.loads(pickle.dumps(gaib.Mismatch("mismatch: x", ["x"])))
    assert m.differences == ["x"] and str(m) == "mismatch: x"


# --- the GIL and Ctrl-C -----------------------------------------------------------------


def test_the_gil_is_released_during_a_run():
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.monotonic()
    gaib.simulate(SAMPLE, paths=20_000, seed=1, threads=1)
    elapsed = time.monotonic() - start
    done.set()
    t.join()
    # A thread holding the GIL for the whole run would leave the counter near 0.
    assert ticks > 0.3 * elapsed / 0.002, (ticks, elapsed)


def test_ctrl_c_cancels_the_run_and_raises_keyboard_interrupt():
    start = time.monotonic()
    full = None
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        # ~1 min of work on one thread: must stop within a chunk of the signal.
        gaib.simulate(SAMPLE, paths=1_000_000, seed=1, threads=1)
    full = time.monotonic() - start
    timer.cancel()
    assert full < 10, full
    # The module is usable afterwards.
    assert gaib.simulate(SMALL, paths=10, seed=1).results["paths"] == 10
