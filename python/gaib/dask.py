"""Scale-out of a run over a Dask cluster, with a result equal to :func:`gaib.simulate`'s
byte for byte (``results.json`` identical).

The path range is split into contiguous chunks; each worker rebuilds the portfolio and
scenarios from their bytes (shipped once to every worker), runs its chunk through gaib's run
layer, and sends back only the chunk's exact statistics (a *shard*: JSON of integer sums and
histograms, a few hundred KB for the sample portfolio, whatever the number of paths). The
client merges the shards in path order and values the union once.

On a real cluster::

    from distributed import Client
    client = Client("tcp://scheduler.example:8786")      # the scheduler's address
    run = gaib.dask.simulate("book.toml", paths=10_000_000, seed=7, client=client,
                             chunks=64, threads=8)

Every worker needs the same gaib wheel installed as the client (``pip install gaib-*.whl``;
the shard format is versioned and a different schema is refused); the input files need not be
on the workers. What crosses the network: the input files' bytes (once per worker), a few
integers per chunk, and one shard back per chunk. Per-path rows never leave the workers (use
``gaib run --paths-out`` on one machine for those).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import (
    PortfolioLike,
    Run,
    ScenarioLike,
    _int,
    _native,
    _prices,
    _scenarios,
    load_portfolio,
)

__all__ = ["simulate", "split"]


def split(start: int, paths: int, chunks: int) -> list[tuple[int, int]]:
    """``chunks`` contiguous ``(start, count)`` ranges covering ``start .. start + paths`` in
    order, their sizes differing by at most one."""
    chunks = max(1, min(chunks, paths))
    base, extra = divmod(paths, chunks)
    out, at = [], start
    for i in range(chunks):
        n = base + (1 if i < extra else 0)
        out.append((at, n))
        at += n
    return out


def _shard(
    inputs: tuple[tuple, list[tuple[str, bytes]]],
    seed: int,
    start: int,
    paths: int,
    sensitivities: bool,
    prices: list[tuple[str, float]],
    threads: int | None,
) -> bytes:
    """Runs on a worker: one chunk through the run layer, its statistics as a shard."""
    portfolio_parts, scenario_parts = inputs
    p = _native.Portfolio.from_parts(*portfolio_parts)
    scen = [_native.Scenario.from_parts(*s) for s in scenario_parts]
    run = _native.simulate(p, paths, seed, scen, threads, "cpu", start, sensitivities, False, prices)
    return bytes(run.to_shard())


def simulate(
    portfolio: PortfolioLike,
    paths: int,
    seed: int,
    *,
    client: Any = None,
    chunks: int | None = None,
    scenarios: Sequence[ScenarioLike] | None = None,
    sensitivities: bool = False,
    prices: Mapping[str, float] | None = None,
    threads: int | None = 1,
    path_start: int = 0,
) -> Run:
    """Runs ``paths`` paths of ``portfolio`` under ``seed`` on a Dask cluster and returns the
    merged :class:`gaib.Run`, equal to ``gaib.simulate(portfolio, paths=paths, seed=seed,
    scenarios=..., sensitivities=...)`` byte for byte in every output file (the manifest's
    backend, threads and timings aside).

    - ``client``: a ``distributed.Client`` (default: the current one, ``default_client()``);
    - ``chunks``: number of path ranges (default: 4 per worker thread), each one task;
    - ``threads``: CPU threads each task uses (default 1: one task per Dask worker thread;
      with one worker thread per machine, set it to the machine's cores).
    """
    try:
        from distributed import default_client
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("gaib.dask needs dask.distributed: pip install 'dask[distributed]'") from e
    client = client if client is not None else default_client()
    p = load_portfolio(portfolio)
    seed = _int("seed", seed)
    paths = _int("paths", paths, 1)
    path_start = _int("path_start", path_start)
    if threads is not None:
        threads = _int("threads", threads, 1)
    if not isinstance(sensitivities, bool):
        raise TypeError(f"sensitivities: expected a bool, got {type(sensitivities).__name__}")
    scen = _scenarios(scenarios, p)
    price_list = _prices(prices)
    # Check every argument on the client (paths, seed range, scenarios, prices) before any
    # task is sent: a one-path dry preparation through the run layer.
    _native.simulate(p._native, 1, seed, [s._native for s in scen], 1, "cpu", path_start, sensitivities, False, price_list)
    if path_start + paths > 2**32:
        raise ValueError(
            f"invalid paths = {path_start}..{path_start}+{paths}: at most 2^32 paths per seed"
        )
    if chunks is None:
        nthreads = sum(client.nthreads().values()) or 1
        chunks = 4 * nthreads
    chunks = _int("chunks", chunks, 1)
    inputs = (p._native.to_parts(), [s._native.to_parts() for s in scen])
    [shipped] = client.scatter([inputs], broadcast=True)
    futures = [
        client.submit(
            _shard, shipped, seed, start, n, sensitivities, price_list, threads, pure=False
        )
        for start, n in split(path_start, paths, chunks)
    ]
    shards = client.gather(futures)
    native = _native.from_shards(
        p._native, shards, [s._native for s in scen], sensitivities, price_list
    )
    return Run(native, p)
