"""The issue's benchmark targets, on this machine:

1. gaib.simulate against `gaib run` for the same paths and threads (the simulation time each
   records in its manifest, and the wall clock of the whole call/process);
2. gaib.dask.simulate on a 2-worker LocalCluster (1 thread each) against one 2-thread
   gaib.simulate, 400 000 paths (the sharding's overhead, not the model's).

Usage: python/.venv/bin/python python/benches/bench.py [--paths N] [--dask-paths N] [--cli PATH]
(from the repository root, after scripts/python-test.sh installed the wheel). The CLI should be
a release build (`cargo build --release -p gaib-cli`) for a like-for-like comparison with the
release wheel; `--cli none` skips that part.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import gaib
import gaib.dask

SAMPLE = "data/portfolios/sample.toml"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=100_000)
    ap.add_argument("--dask-paths", type=int, default=400_000)
    ap.add_argument("--cli", default="target/release/gaib")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    if a.cli == "none":
        pass
    else:
        cli_vs_python(a)
    dask_vs_single(a)


def cli_vs_python(a: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as d:
        t = time.monotonic()
        subprocess.run([a.cli, "run", SAMPLE, "--paths", str(a.paths), "--seed", "1", "--threads",
                        str(a.threads), "--out", f"{d}/run", "--quiet"], check=True,
                       capture_output=True)
        cli_wall = time.monotonic() - t
        cli_sim = json.loads(Path(f"{d}/run/manifest.json").read_text())["elapsed_s"]
    t = time.monotonic()
    run = gaib.simulate(SAMPLE, paths=a.paths, seed=1, threads=a.threads)
    py_wall = time.monotonic() - t
    py_sim = run.manifest["elapsed_s"]
    print(f"{a.paths} paths, {a.threads} threads: gaib run {cli_sim:.2f} s simulated "
          f"({cli_wall:.2f} s process), gaib.simulate {py_sim:.2f} s ({py_wall:.2f} s call): "
          f"ratio {py_sim / cli_sim:.3f}")


def dask_vs_single(a: argparse.Namespace) -> None:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        gaib.dask.simulate(SAMPLE, paths=2_000, seed=1, client=client)  # warm the workers
        t = time.monotonic()
        single = gaib.simulate(SAMPLE, paths=a.dask_paths, seed=1, threads=2)
        single_s = time.monotonic() - t
        t = time.monotonic()
        spread = gaib.dask.simulate(SAMPLE, paths=a.dask_paths, seed=1, client=client)
        dask_s = time.monotonic() - t
    assert spread.results_json == single.results_json
    print(f"{a.dask_paths} paths: one 2-thread process {single_s:.2f} s, 2-worker LocalCluster "
          f"{dask_s:.2f} s: ratio {dask_s / single_s:.3f} (results.json identical)")


if __name__ == "__main__":
    main()
