"""gaib.structure / Run.structure: sized tranches meet their targets and add up to the pool,
the same as ``gaib structure --format json``, break-evens, and bad input."""

from __future__ import annotations

import json

import pytest

import gaib

from conftest import SAMPLE, run_cli


@pytest.fixture(scope="module")
def run():
    return gaib.simulate(SAMPLE, paths=600, seed=8)


def test_sized_tranches_meet_their_targets(run):
    s = run.structure({"GPU-ABS-1/A": ("pd", 0.1), "GPU-ABS-1/B": ("el", 5.0)})
    t = s.tranches
    assert t["tranche"].to_list() == ["GPU-ABS-1/A", "GPU-ABS-1/B", "GPU-ABS-1/E"]
    assert t["meets_target"].to_list()[:2] == [True, True]
    assert t["pd_pct"][0] <= 0.1 and t["el_pct"][1] <= 5.0
    assert abs(t["balance_usd"].sum() - s.raw["structure"]["total_balance_usd"]) < 1e-3
    assert s.tranche_break_evens is None


def test_a_run_directory_equals_the_cli(tmp_path, run):
    d = run.save(tmp_path / "r")
    s = gaib.structure(d, ["GPU-ABS-1/A:el=0.05"], breakeven="GPU-ABS-1")
    cli = json.loads(
        run_cli("structure", str(d), "--target", "GPU-ABS-1/A:el=0.05",
                "--breakeven", "GPU-ABS-1", "--format", "json").stdout
    )
    assert s.raw == cli
    assert s.deal_break_evens.height == 24
    assert s.tranche_break_evens.height == 3


def test_bad_input(tmp_path, run):
    with pytest.raises(ValueError, match="GPU-ABS-1/Z"):
        run.structure(["GPU-ABS-1/Z:pd=1"])
    with pytest.raises(ValueError, match="equity"):
        run.structure({"GPU-ABS-1/E": ("pd", 1.0)})
    with pytest.raises(ValueError, match="pd or el"):
        run.structure(["GPU-ABS-1/A:xx=1"])
    with pytest.raises(ValueError, match="breakeven"):
        run.structure()
    with pytest.raises(ValueError, match="NOPE"):
        run.structure(breakeven="NOPE")
    with pytest.raises(TypeError):
        run.structure("GPU-ABS-1/A:pd=1")  # type: ignore[arg-type]
    with pytest.raises(gaib.InvalidRun):
        gaib.structure(tmp_path, ["GPU-ABS-1/A:pd=1"])


def test_a_saved_structure_is_read_back_and_reproduced(tmp_path, run):
    d = run.save(tmp_path / "r")
    assert gaib.saved_structure(d) is None
    s = gaib.structure(d, ["GPU-ABS-1/A:el=0.5"], save_to=tmp_path / "s")
    assert gaib.saved_structure(d) is None  # the copy, not the run, holds it
    back = gaib.saved_structure(tmp_path / "s")
    assert back is not None and back.raw == s.raw
    assert s.raw["schema_version"] == 1 and s.raw["run"]["seed"] == 8
    assert s.raw["request"]["targets"][0] == {
        "tranche": "GPU-ABS-1/A", "metric": "el", "max_pct": 0.5,
    }
    on_disk = json.loads((tmp_path / "s" / "structure.json").read_text())
    assert on_disk == s.raw
    assert gaib.reproduce(tmp_path / "s") == (True, [])
    gaib.structure(d, ["GPU-ABS-1/A:el=0.5"], save=True)
    assert gaib.saved_structure(d).raw == s.raw
    with pytest.raises(ValueError, match="not both"):
        gaib.structure(d, ["GPU-ABS-1/A:el=0.5"], save=True, save_to=tmp_path / "t")
