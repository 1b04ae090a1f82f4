"""gaib in Python: the structured-finance engine and Monte Carlo risk simulator for
GPU-backed credit, with results as polars DataFrames.

Everything goes through gaib's run layer (the Rust crate ``gaib-runs``), the same one the
``gaib`` CLI and the HTTP service use, so a run here gives the same ``results.json`` bytes as
``gaib run`` with the same inputs, seed and paths::

    import gaib
    p = gaib.load_portfolio("data/portfolios/sample.toml")
    run = gaib.simulate(p, paths=20_000, seed=42)
    print(run.tranches.select("id", "price_pct", "price_pct_se", "expected_loss_pct"))
    run.save("out/q4")                      # a run directory `gaib reproduce` checks

Tables cross from Rust as Arrow (the PyCapsule stream interface), so polars takes them
without a row-by-row copy. ``gaib.dask.simulate`` spreads a run over a Dask cluster with a
result equal to this one's, byte for byte.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Union

import polars as pl

from . import _native
from ._errors import GaibError, InvalidPortfolio, InvalidRun, Mismatch, NotMergeable

__all__ = [
    "GaibError",
    "InvalidPortfolio",
    "InvalidRun",
    "Mismatch",
    "NotMergeable",
    "Portfolio",
    "Run",
    "Scenario",
    "Explanation",
    "cashflows",
    "explain",
    "load_portfolio",
    "load_scenario",
    "reproduce",
    "simulate",
    "stress",
    "structure",
    "saved_structure",
    "Structure",
    "validate",
]

__version__: str = _native.VERSION
#: Version of the stochastic model (docs/MODEL.md) this build simulates.
MODEL_VERSION: str = _native.MODEL_VERSION
#: Schema version of results.json and manifest.json.
SCHEMA_VERSION: int = _native.SCHEMA_VERSION


def _frame(table: Any) -> pl.DataFrame:
    """A polars DataFrame of a native Arrow table (through ``__arrow_c_stream__``)."""
    return pl.DataFrame(table)


class Portfolio:
    """A parsed and validated portfolio together with the exact bytes of its file and loan
    tape (what a run directory stores and the manifest hashes). Made by
    :func:`load_portfolio`; picklable (it pickles as its bytes, so a Dask worker rebuilds
    the same inputs with the same SHA-256)."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.Portfolio):
        self._native = native

    @property
    def id(self) -> str:
        """The portfolio's id (``[portfolio] id``)."""
        return self._native.id

    @property
    def sha256(self) -> str:
        """SHA-256 of the portfolio file's bytes (for a dict: of its canonical JSON)."""
        return self._native.sha256

    @property
    def source(self) -> str:
        """The path it was read from, or ``(request body)`` for a dict."""
        return self._native.source

    @property
    def deal_ids(self) -> list[str]:
        """Deal ids in portfolio order (inline deals, then the loan tape's)."""
        return self._native.deal_ids

    @property
    def pool_ids(self) -> list[str]:
        """Pool ids in file order."""
        return self._native.pool_ids

    @property
    def tranche_ids(self) -> list[str]:
        """Tranche ids ``POOL/TRANCHE``, pool by pool in waterfall order."""
        return self._native.tranche_ids

    @property
    def files(self) -> list[tuple[str, str, str, str]]:
        """Every input file as ``(role, stored name, source, sha256)``: the portfolio, then
        its loan tape."""
        return self._native.files

    def summary(self) -> dict[str, Any]:
        """What ``gaib validate`` reports: counts of GPU classes, operators, fleets, deals,
        pools and tranches, the funded USD, the vault's id (or None) and the horizon."""
        return json.loads(self._native.summary_json())

    def to_dict(self) -> dict[str, Any]:
        """The portfolio document as a dict (its TOML or JSON parsed; a loan tape stays a
        reference — pass ``base_dir=`` to :func:`load_portfolio` when loading it back)."""
        raw = bytes(self._native.bytes)
        if self.source.lower().endswith(".toml"):
            import tomllib

            return tomllib.loads(raw.decode())
        return json.loads(raw)

    def __reduce__(self):
        return (_portfolio_from_parts, (self._native.to_parts(),))

    def __repr__(self) -> str:
        return repr(self._native)


def _portfolio_from_parts(parts: tuple) -> Portfolio:
    return Portfolio(_native.Portfolio.from_parts(*parts))


class Scenario:
    """A stress scenario (a TOML file of overrides) with its bytes. Made by
    :func:`load_scenario`; picklable like :class:`Portfolio`."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.Scenario):
        self._native = native

    @property
    def id(self) -> str:
        """The scenario's id."""
        return self._native.id

    @property
    def name(self) -> str:
        """Its display name."""
        return self._native.name

    @property
    def description(self) -> str:
        """What it does."""
        return self._native.description

    @property
    def source(self) -> str:
        """The file it was read from."""
        return self._native.source

    @property
    def sha256(self) -> str:
        """SHA-256 of its bytes."""
        return self._native.sha256

    def __reduce__(self):
        return (_scenario_from_parts, (self._native.to_parts(),))

    def __repr__(self) -> str:
        return repr(self._native)


def _scenario_from_parts(parts: tuple) -> Scenario:
    return Scenario(_native.Scenario.from_parts(*parts))


PortfolioLike = Union[Portfolio, str, "os.PathLike[str]", Mapping[str, Any]]
"""A :class:`Portfolio`, a path to a TOML/JSON portfolio file, or a dict of the same schema."""

ScenarioLike = Union[Scenario, str, "os.PathLike[str]"]
"""A :class:`Scenario`, a scenario file, or a bare name such as ``"gpu-glut"``."""


def load_portfolio(
    source: PortfolioLike, *, base_dir: str | os.PathLike[str] | None = None
) -> Portfolio:
    """Reads and validates a portfolio.

    ``source`` is a path to a TOML or JSON file (its loan tape is read relative to it), a dict
    of the same schema (its canonical bytes are its JSON with sorted keys, so the same dict
    always hashes the same; a loan tape it names is read relative to ``base_dir``), or a
    :class:`Portfolio` (returned as is).

    Raises :class:`InvalidPortfolio` listing every invalid field, ``TypeError`` for another
    kind of ``source``.
    """
    if isinstance(source, Portfolio):
        return source
    if isinstance(source, (str, os.PathLike)):
        if base_dir is not None:
            raise TypeError("load_portfolio: base_dir is for a dict; a file's loan tape is read next to it")
        return Portfolio(_native.load_file(os.fspath(source)))
    if isinstance(source, Mapping):
        try:
            text = json.dumps(source, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise TypeError(f"load_portfolio: the dict is not a JSON document: {e}") from None
        return Portfolio(
            _native.load_json(text, None if base_dir is None else os.fspath(base_dir))
        )
    raise TypeError(
        f"load_portfolio: expected a path, a dict or a Portfolio, got {type(source).__name__}"
    )


def validate(
    source: PortfolioLike, *, base_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Checks a portfolio (and its loan tape) like ``gaib validate``: returns its summary
    (:meth:`Portfolio.summary`) or raises :class:`InvalidPortfolio` with every invalid field
    as ``(field path, value, reason)``."""
    return load_portfolio(source, base_dir=base_dir).summary()


def load_scenario(name_or_path: ScenarioLike, portfolio: PortfolioLike | None = None) -> Scenario:
    """Reads a stress scenario: a file path, or a bare name (``gpu-glut``) looked up in
    ``$GAIB_SCENARIOS``, next to the portfolio file (``scenarios/``, ``../scenarios/``),
    ``./data/scenarios`` and the scenarios shipped with the source tree. ``ValueError`` when
    not found (the message says every place it looked), :class:`InvalidPortfolio` when the
    file is invalid."""
    if isinstance(name_or_path, Scenario):
        return name_or_path
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"scenario: expected a name, a path or a Scenario, got {type(name_or_path).__name__}"
        )
    p = None if portfolio is None else load_portfolio(portfolio)._native
    return Scenario(_native.load_scenario(os.fspath(name_or_path), p))


def _scenarios(scenarios: Sequence[ScenarioLike] | ScenarioLike | None, p: Portfolio) -> list[Scenario]:
    if scenarios is None:
        return []
    if isinstance(scenarios, (str, os.PathLike, Scenario)):
        scenarios = [scenarios]
    if not isinstance(scenarios, Sequence):
        raise TypeError(f"scenarios: expected a list, got {type(scenarios).__name__}")
    return [load_scenario(s, p) for s in scenarios]


def _int(name: str, v: Any, lo: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name}: expected an int, got {type(v).__name__}")
    if v < lo or v >= 2**64:
        raise ValueError(f"invalid {name} = {v}: must be an integer in {lo}..2^64")
    return v


def _prices(prices: Mapping[str, float] | None) -> list[tuple[str, float]]:
    if prices is None:
        return []
    if not isinstance(prices, Mapping):
        raise TypeError(f"prices: expected a dict of id to percent of par, got {type(prices).__name__}")
    out = []
    for k, v in prices.items():
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"prices: expected str keys and float values, got {k!r}: {v!r}")
        out.append((k, float(v)))
    return out


class Run:
    """The result of a run: tables as polars DataFrames, the valuation and results as dicts,
    the manifest, and the exact output files. Made by :func:`simulate` (or
    :func:`gaib.dask.simulate`).

    Tables (percent figures are % of notional; ``_se`` is the Monte Carlo standard error):

    - :attr:`tranches`, :attr:`deals`: one row per instrument, its valuation flattened;
    - :attr:`portfolio_loss`: VaR and ES per confidence level; :attr:`loss_distribution`:
      the loss histogram;
    - :attr:`vault`: the vault's NAV fan per month (None without a vault);
    - :attr:`collateral`: per deal and month, collateral value per USD of debt;
    - :attr:`sensitivities`: metric × bump (``sensitivities=True``), else None;
    - :attr:`stress`: metric × scenario, value and change (with scenarios), else None;
    - :attr:`derivatives`: one row per derivative (MODEL.md §10; no rows without);
    - :attr:`hedges`: with and without hedges, same paths (a portfolio with hedges), else None;
    - :attr:`paths`: one row per path (``paths_out=True``), else None.
    """

    __slots__ = ("_native", "__dict__")

    def __init__(self, native: _native.Run, portfolio: Portfolio | None = None):
        self._native = native
        self._portfolio = portfolio

    @cached_property
    def tranches(self) -> pl.DataFrame:
        """Every tranche: ``id``, ``kind_pool_id``, ``notional_usd``, ``pv_usd``,
        ``price_pct`` (± ``price_pct_se``), ``expected_loss_pct``, ``pd_pct``, ``pd_1y_pct``,
        ``expected_loss_1y_pct``, ``loss_probability_pct``, ``lgd_pct``, ``wal_years``,
        ``yield_pct``, ``modified_duration_years``, ``loss_quantiles_pct_q<level>`` and
        ``expected_cash_flow_pct`` (a list per month)."""
        return _frame(self._native.tranches())

    @cached_property
    def deals(self) -> pl.DataFrame:
        """Every deal, with the columns of :attr:`tranches`."""
        return _frame(self._native.deals())

    @cached_property
    def portfolio_loss(self) -> pl.DataFrame:
        """The portfolio loss's tail: per confidence level ``var_pct`` (with its 95 %
        interval), ``var_usd``, ``es_pct``, ``es_usd``, and the expected loss."""
        return _frame(self._native.portfolio_loss())

    @cached_property
    def loss_distribution(self) -> pl.DataFrame:
        """The portfolio loss histogram: ``lo_pct``, ``hi_pct`` (% of funded) and
        ``probability``; the last row is the mass beyond the chart (``hi_pct`` null)."""
        return _frame(self._native.loss_distribution())

    @cached_property
    def vault(self) -> pl.DataFrame | None:
        """The vault's NAV fan: per ``month`` the mean unstaking NAV per share ``mean_usd``
        and its quantiles ``q5_usd`` … ``q95_usd``; None when the portfolio has no vault.
        The haircut and LTV are in ``valuation["vault"]``."""
        t = self._native.vault()
        return None if t is None else _frame(t)

    @cached_property
    def collateral(self) -> pl.DataFrame:
        """Per ``deal`` and ``month``: ``mean`` and ``std_dev`` of the collateral value per
        USD of debt, over ``performing_paths``."""
        return _frame(self._native.collateral())

    @cached_property
    def sensitivities(self) -> pl.DataFrame | None:
        """Bump-and-revalue (a run with ``sensitivities=True``): ``metric``, ``unit``,
        ``base``, then one column per bump id with the change (bumped − base); else None."""
        t = self._native.sensitivities()
        return None if t is None else _frame(t)

    @cached_property
    def stress(self) -> pl.DataFrame | None:
        """The stress comparison (a run with scenarios): ``metric``, ``unit``, ``base``, then
        per scenario id its value and ``<id>_change``; else None."""
        t = self._native.stress()
        return None if t is None else _frame(t)

    @cached_property
    def derivatives(self) -> pl.DataFrame:
        """Every derivative of the portfolio (``[[derivatives]]``, MODEL.md §10), in file
        order: ``id``, ``kind``, ``position``, ``underlying``, ``hedges``, ``start_month``,
        ``end_month``, ``reference_usd``, ``pv_usd`` (E[PV] to the holder, USD, net of the
        premium) ± ``pv_usd_se``, ``p_receives_pct``, ``expected_settlement_usd`` (a list per
        month), ``closed_form_pv_usd`` and ``closed_form_z`` (or ``closed_form_note``: why
        there is none), ``fair_strike_per_gpu_hour``, and ``delta_usd_per_index_pct`` /
        ``vega_usd_per_sigma_pct`` (``sensitivities=True``). Empty without derivatives."""
        return _frame(self._native.derivatives())

    @cached_property
    def hedges(self) -> pl.DataFrame | None:
        """With and without hedges on the same paths (the run simulates the portfolio again
        with every ``hedges`` removed): per hedged deal, per tranche, the portfolio and the
        vault, ``instrument``, ``hedged_by``, ``metric`` (``pd_pct``, ``expected_loss_pct``,
        ``price_pct``; ``haircut_pct``, ``recommended_ltv_pct``), ``hedged`` ± ``hedged_se``,
        ``unhedged`` ± ``unhedged_se`` and ``change``; None when nothing hedges a fleet."""
        t = self._native.hedges()
        return None if t is None else _frame(t)

    @cached_property
    def paths(self) -> pl.DataFrame | None:
        """One row per path (``paths_out=True``; the columns of ``gaib run --paths-out``:
        ``path``, ``portfolio_loss_frac``, ``defaults``, ``tranche/<id>/loss_frac``, …);
        else None. Memory grows with the paths: for millions, use ``gaib run --paths-out``."""
        t = self._native.paths()
        return None if t is None else _frame(t)

    @cached_property
    def results(self) -> dict[str, Any]:
        """``results.json`` as a dict (summary, valuation, exact statistics)."""
        return json.loads(self.results_json)

    @cached_property
    def valuation(self) -> dict[str, Any]:
        """The valuation as plain dicts: ``tranches``, ``deals``, ``portfolio`` (tail risk,
        histogram), ``vault`` (haircut, recommended LTV, queue), ``collateral``."""
        return json.loads(self._native.valuation_json())

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """``manifest.json`` as a dict: inputs and outputs with their SHA-256, seed, paths,
        versions, backend, threads, elapsed time."""
        return json.loads(self._native.manifest_json())

    @property
    def results_json(self) -> bytes:
        """``results.json``'s exact bytes (what ``gaib run`` writes for the same inputs)."""
        return bytes(self._native.results_json())

    def output(self, name: str) -> bytes | None:
        """The bytes of output file ``name`` (``results.json``, ``sensitivities.json``,
        ``stress.json``, ``report.html``), or None."""
        b = self._native.output(name)
        return None if b is None else bytes(b)

    @property
    def outputs(self) -> list[str]:
        """The output files' names, ``results.json`` first, ``report.html`` last."""
        return self._native.outputs()

    @property
    def report_html(self) -> str:
        """The run's ``report.html``."""
        return (self.output("report.html") or b"").decode()

    @property
    def seed(self) -> int:
        """The seed."""
        return self._native.path_range[0]

    @property
    def path_range(self) -> range:
        """The path indices simulated."""
        _, start, n = self._native.path_range
        return range(start, start + n)

    @property
    def notes(self) -> list[str]:
        """Notes on backend selection (``backend="auto"`` falling back)."""
        return self._native.notes

    def save(self, dir: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Writes the run directory — ``inputs/``, ``results.json`` (and ``sensitivities.json``
        / ``stress.json``), ``report.html``, ``manifest.json`` — atomically into ``dir``, which
        must be absent or empty (with ``force``, a previous run's directory is replaced).
        Returns its path. ``gaib reproduce DIR`` (or :func:`reproduce`) re-runs and checks it."""
        return Path(self._native.save(os.fspath(dir), force))

    def explain(
        self,
        path: int | None = None,
        *,
        worst_tranche: str | None = None,
        deal: str | None = None,
        pool: str | None = None,
    ) -> Explanation:
        """Replays one path of this run (same inputs, seed and draws) month by month, like
        ``gaib explain``: give ``path`` (one of :attr:`path_range`) or ``worst_tranche=
        "POOL/TRANCHE"`` (the path with that tranche's largest loss); ``deal=`` or ``pool=``
        narrows the tables. The totals equal the path's row of ``paths`` exactly. The base
        portfolio is replayed (not a stress run's scenarios)."""
        if self._portfolio is None:
            raise ValueError(
                "explain: this Run does not hold its portfolio; use gaib.explain(dir, path) on "
                "its saved run directory"
            )
        seed, start, n = self._native.path_range
        _check_explain(path, worst_tranche, deal, pool)
        return _explanation(
            _native.explain(
                self._portfolio._native, seed, start, n, path, worst_tranche, deal, pool
            )
        )

    def structure(
        self,
        targets: Mapping[str, tuple[str, float]] | Sequence[str] = (),
        *,
        breakeven: str | None = None,
        el_level_pct: float = 1.0,
    ) -> Structure:
        """Sizes a pool's tranches to target PDs or ELs on this run's paths and/or computes
        its break-even stresses, like ``gaib structure`` (see :func:`structure`)."""
        if self._portfolio is None:
            raise ValueError(
                "structure: this Run does not hold its portfolio; use gaib.structure(dir, ...) "
                "on its saved run directory"
            )
        seed, start, n = self._native.path_range
        t, b, el = _structure_args(targets, breakeven, el_level_pct)
        return _structure_of(
            _native.structure(self._portfolio._native, seed, start, n, t, b, el)
        )

    def to_shard(self) -> bytes:
        """This run's exact statistics as a shard (JSON bytes): what a Dask worker ships."""
        return bytes(self._native.to_shard())

    def __repr__(self) -> str:
        return repr(self._native)


def simulate(
    portfolio: PortfolioLike,
    paths: int | None = None,
    seed: int | None = None,
    scenarios: Sequence[ScenarioLike] | None = None,
    threads: int | None = None,
    backend: str = "cpu",
    path_range: tuple[int, int] | range | None = None,
    sensitivities: bool = False,
    paths_out: bool = False,
    prices: Mapping[str, float] | None = None,
) -> Run:
    """Runs the Monte Carlo simulation and values the result, as ``gaib run`` does.

    - ``paths``, ``seed``: number of paths and the 64-bit seed (results depend on nothing
      else: not on ``threads`` or the machine);
    - ``scenarios``: stress scenarios (names or files) run with the same paths (common random
      numbers): :attr:`Run.stress`;
    - ``threads``: CPU threads (default: all); ``backend``: ``"cpu"``, ``"cuda"`` or
      ``"auto"``;
    - ``path_range``: ``(start, stop)`` instead of ``paths``: paths ``start..stop`` of the
      seed, a shard of a larger run;
    - ``sensitivities``: also bump and revalue the five standard sensitivities;
    - ``paths_out``: also keep one row per path (:attr:`Run.paths`);
    - ``prices``: market prices (``{"POOL/TRANCHE": percent of par}``) whose implied discount
      spreads results.json reports.

    The GIL is released while the paths run; Ctrl-C stops the run within a chunk and raises
    ``KeyboardInterrupt``. Errors: :class:`InvalidPortfolio`, ``ValueError`` (an argument out
    of range, an unknown scenario or backend), ``TypeError`` (an argument of the wrong type).
    """
    p = load_portfolio(portfolio)
    if seed is None:
        raise TypeError("simulate: seed is required (an integer, e.g. seed=42)")
    seed = _int("seed", seed)
    if path_range is not None:
        if isinstance(path_range, range):
            if path_range.step != 1:
                raise ValueError(f"invalid path_range = {path_range}: the step must be 1")
            start, stop = path_range.start, path_range.stop
        elif isinstance(path_range, tuple) and len(path_range) == 2:
            start, stop = path_range
        else:
            raise TypeError("path_range: expected (start, stop) or a range")
        start, stop = _int("path_range start", start), _int("path_range stop", stop)
        if stop <= start:
            raise ValueError(f"invalid path_range = ({start}, {stop}): stop must exceed start")
        if paths is not None and _int("paths", paths) != stop - start:
            raise ValueError(f"invalid paths = {paths}: path_range ({start}, {stop}) holds {stop - start}")
        paths = stop - start
    else:
        if paths is None:
            raise TypeError("simulate: paths is required (or path_range=(start, stop))")
        start = 0
    paths = _int("paths", paths)
    if threads is not None:
        threads = _int("threads", threads)
    if not isinstance(backend, str):
        raise TypeError(f"backend: expected a str, got {type(backend).__name__}")
    for name, flag in (("sensitivities", sensitivities), ("paths_out", paths_out)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name}: expected a bool, got {type(flag).__name__}")
    scen = _scenarios(scenarios, p)
    native = _native.simulate(
        p._native,
        paths,
        seed,
        [s._native for s in scen],
        threads,
        backend,
        start,
        sensitivities,
        paths_out,
        _prices(prices),
    )
    return Run(native, p)


def stress(
    portfolio: PortfolioLike,
    scenarios: Sequence[ScenarioLike],
    paths: int = 10_000,
    seed: int = 1,
    threads: int | None = None,
) -> pl.DataFrame:
    """The side-by-side comparison of ``gaib stress``: every metric of the base portfolio and
    its value and change under each scenario, all with the same seed and paths (common random
    numbers), as a DataFrame (``metric``, ``unit``, ``base``, ``<id>``, ``<id>_change``, …).
    For the run itself (to save it, or read the scenarios' valuations) use
    ``simulate(..., scenarios=...)``."""
    scen = _scenarios(scenarios, load_portfolio(portfolio))
    if not scen:
        raise ValueError("stress: give at least one scenario")
    run = simulate(portfolio, paths=paths, seed=seed, scenarios=scen, threads=threads)
    assert run.stress is not None
    return run.stress


def cashflows(
    portfolio: PortfolioLike, deal: str | None = None, pool: str | None = None
) -> pl.DataFrame:
    """The deterministic base case (``gaib cashflows``; no credit defaults, stochastic terms at
    their central values), amounts in USD: with ``deal=`` that deal's monthly schedule, with
    ``pool=`` that pool's monthly waterfall (interest, principal, write-down and balance per
    tranche), with neither every deal's schedule with a ``deal`` column first. An unknown id
    raises :class:`InvalidPortfolio`."""
    for name, v in (("deal", deal), ("pool", pool)):
        if v is not None and not isinstance(v, str):
            raise TypeError(f"{name}: expected a str, got {type(v).__name__}")
    return _frame(_native.cashflows(load_portfolio(portfolio)._native, deal, pool))


@dataclass(frozen=True)
class Explanation:
    """One path of a run, month by month (``Run.explain``, :func:`explain`). Amounts are USD,
    fractions are of the instrument's notional (funded amount, original balance), months are
    1-based; a table a focus excludes is empty.

    - ``operators``: hazard per year and the copula's credit-default month (null: none);
    - ``market``: per month and GPU class, price (USD per GPU-hour) and price over trend;
    - ``fleets``: utilization, revenue, opex, NOI, hardware value, operator default;
    - ``deals``: interest, principal (scheduled, prepaid, refinanced), revenue share, kicker,
      DSRA draw/refill/release/balance, default kind, EAD, recovery, loss, balance;
    - ``pools``: interest and principal proceeds, performing balance, senior fees, OC breach,
      senior interest default;
    - ``tranches``: coupon, coupon shortfall, principal, write-down, balance;
    - ``vault``: buffer, shares, queue, NAV per share;
    - ``deal_totals`` / ``tranche_totals``: ``loss_frac``, ``pv_frac``, ``default_month`` (the
      path's ``paths`` row exactly) and USD sums.
    """

    portfolio_id: str
    seed: int
    path: int
    months: int
    portfolio_loss_frac: float
    defaults: int
    operators: pl.DataFrame
    market: pl.DataFrame
    fleets: pl.DataFrame
    deals: pl.DataFrame
    pools: pl.DataFrame
    tranches: pl.DataFrame
    vault: pl.DataFrame
    deal_totals: pl.DataFrame
    tranche_totals: pl.DataFrame


def _check_explain(path: Any, worst_tranche: Any, deal: Any, pool: Any) -> None:
    if (path is None) == (worst_tranche is None):
        raise ValueError("explain: give a path or worst_tranche=, exactly one")
    if path is not None:
        _int("path", path)
    for name, v in (("worst_tranche", worst_tranche), ("deal", deal), ("pool", pool)):
        if v is not None and not isinstance(v, str):
            raise TypeError(f"{name}: expected a str, got {type(v).__name__}")


def _explanation(raw: tuple[str, list[tuple[str, Any]]]) -> Explanation:
    header, tables = raw
    frames = {name: _frame(t) for name, t in tables}
    return Explanation(**json.loads(header), **frames)


def explain(
    dir: str | os.PathLike[str],
    path: int | None = None,
    *,
    worst_tranche: str | None = None,
    deal: str | None = None,
    pool: str | None = None,
) -> Explanation:
    """``gaib explain DIR``: replays one path of a saved run directory month by month (see
    :meth:`Run.explain`). :class:`InvalidRun` for a directory that is not a run; ValueError for
    a path outside the run or an unknown deal, pool or tranche."""
    _check_explain(path, worst_tranche, deal, pool)
    return _explanation(_native.explain_dir(os.fspath(dir), path, worst_tranche, deal, pool))


@dataclass(frozen=True)
class Structure:
    """A pool's tranches sized to targets and/or its break-even stresses (``gaib structure``).

    - ``tranches``: per tranche (senior first) ``balance_usd``, ``original_balance_usd``,
      ``attachment_pct``, ``detachment_pct``, ``attachment_ci95_pct`` ([lo, hi]), ``target``,
      ``meets_target``, ``pd_pct``/``pd_se_pct``, ``el_pct``/``el_se_pct``,
      ``price_pct``/``price_se_pct`` (None without targets);
    - ``tranche_break_evens``: per tranche the price shock (%) at which it first loses money on
      the expected path, and the price shock and hazard multiplier at which its EL exceeds the
      level (None without ``breakeven=``);
    - ``deal_break_evens``: per deal of the pool the price shock (%) at which it first defaults
      on the expected path;
    - ``raw``: the JSON of ``gaib structure --format json`` as a dict: ``structure.json``'s
      versioned document (``schema_version``, ``run``: the run it read, ``request``: the
      targets and options, ``structure``, ``break_evens``).
    """

    tranches: pl.DataFrame | None
    tranche_break_evens: pl.DataFrame | None
    deal_break_evens: pl.DataFrame | None
    raw: dict[str, Any]


def _structure_args(
    targets: Mapping[str, tuple[str, float]] | Sequence[str], breakeven: Any, el_level_pct: Any
) -> tuple[list[str], str | None, float]:
    if isinstance(targets, str):
        raise TypeError("targets: expected a dict or a list of 'POOL/TRANCHE:pd=PCT' strings")
    if isinstance(targets, Mapping):
        out = []
        for tranche, v in targets.items():
            if not (isinstance(v, tuple) and len(v) == 2):
                raise TypeError(f"targets[{tranche!r}]: expected ('pd' or 'el', percent)")
            out.append(f"{tranche}:{v[0]}={float(v[1])!r}")
    else:
        out = list(targets)
        for t in out:
            if not isinstance(t, str):
                raise TypeError(f"targets: expected str, got {type(t).__name__}")
    if breakeven is not None and not isinstance(breakeven, str):
        raise TypeError(f"breakeven: expected a pool id (str), got {type(breakeven).__name__}")
    if isinstance(el_level_pct, bool) or not isinstance(el_level_pct, (int, float)):
        raise TypeError("el_level_pct: expected a number (percent)")
    return out, breakeven, float(el_level_pct)


def _structure_of(text: str) -> Structure:
    raw = json.loads(text)
    s, b = raw["structure"], raw["break_evens"]
    return Structure(
        tranches=None if s is None else pl.DataFrame(s["tranches"]),
        tranche_break_evens=None if b is None else pl.DataFrame(b["tranches"]),
        deal_break_evens=None if b is None else pl.DataFrame(b["deals"]),
        raw=raw,
    )


def structure(
    dir: str | os.PathLike[str],
    targets: Mapping[str, tuple[str, float]] | Sequence[str] = (),
    *,
    breakeven: str | None = None,
    el_level_pct: float = 1.0,
    save: bool = False,
    save_to: str | os.PathLike[str] | None = None,
) -> Structure:
    """``gaib structure DIR``: sizes a pool's tranches from the senior down to target PDs or
    ELs (``{"GPU-ABS-1/A": ("pd", 0.5)}`` or ``["GPU-ABS-1/A:pd=0.5"]``, percent) on a saved
    run's paths — one simulation, the pool waterfall re-run per trial — and/or, with
    ``breakeven="POOL"``, its break-even stresses (EL level ``el_level_pct``). ValueError for
    an infeasible, malformed or unknown target; :class:`InvalidRun` for a directory that is
    not a run. ``save=True`` keeps the result in the run directory like ``gaib structure
    --save`` (structure.json, a report.html section, the manifest; ``gaib reproduce`` checks
    it; the run's id changes), ``save_to=DIR`` in a copy of the run at DIR (absent or empty);
    :func:`saved_structure` reads it back."""
    t, b, el = _structure_args(targets, breakeven, el_level_pct)
    if not isinstance(save, bool):
        raise TypeError("save: expected a bool")
    to = None if save_to is None else os.fspath(save_to)
    return _structure_of(_native.structure_dir(os.fspath(dir), t, b, el, save, to))


def saved_structure(dir: str | os.PathLike[str]) -> Structure | None:
    """The structure saved in a run directory (``gaib structure --save``, ``structure(...,
    save=True)``), as :func:`structure` returned it, or None when the run has none.
    :class:`InvalidRun` for a directory that is not a run (or whose structure.json does not
    parse)."""
    text = _native.saved_structure(os.fspath(dir))
    return None if text is None else _structure_of(text)


def reproduce(dir: str | os.PathLike[str], threads: int | None = None) -> tuple[bool, list[str]]:
    """Re-runs a run directory from its stored inputs alone and compares every output bit for
    bit, like ``gaib reproduce``: ``(True, [])`` on a match, ``(False, differences)``
    naming each differing field or file otherwise. :class:`InvalidRun` when the directory is
    missing, malformed or its inputs changed since the run."""
    if threads is not None:
        threads = _int("threads", threads, 1)
    return _native.reproduce(os.fspath(dir), threads)
