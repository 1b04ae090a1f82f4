#!/usr/bin/env python3
"""A vectorised NumPy implementation of gaib's Monte Carlo, for scripts/bench.sh (issue 26).

The yardstick of "≥ 5× a vectorised NumPy implementation of the same model": the paths of
docs/MODEL.md, vectorised over paths (every array is one entry per path; Python loops over
months, classes, fleets, deals and tranches only), in the style a quant would write it.

Covered (MODEL.md section → here):
  §1 GPU prices: exact OU, Cholesky-correlated class shocks, compound-Poisson jumps (the sum
     of n N(m, s²) jumps drawn as n·m + s·sqrt(n)·N(0,1), the same law), scheduled shocks,
     trend; §2 utilization (logistic OU loaded on the class's own shock); §3 revenue, opex,
     NOI rounded to cents, hardware value; §4.1 loans (annuity / linear / bullet, grace,
     DSRA funded at close, drawn, refilled to next month's regular debt service and released,
     cash sweep, balloon refinancing against the collateral, payment / refinancing / credit
     default, interest first), §4.2 revenue shares (capital then income, cap, shortfall at
     term), §4.4 recoveries (secured: the fleet's net liquidation value plus the DSRA, capped
     by EAD; unsecured: the recovery rate), paid `recovery_lag_months` later; §5 the one-factor
     Gaussian copula; §6 the pool waterfall (senior fees with arrears, senior interest arrears,
     junior capitalisation, OC test and cure, principal proceeds, legal final pot and
     write-downs); §8 per-path statistics as gaib records them: PV, loss, loss probability,
     PD, 1-year PD, LGD sums, loss histograms, per-month cash flows and principal, per-month
     collateral-ratio moments and histograms, the portfolio loss histogram and default count.
Not covered (refused, so a comparison cannot silently differ): loan tapes, hybrids, floating
rates, several deals on one fleet (liens, shared collateral), a vault, more than one pool.
Random numbers: NumPy's PCG64, not gaib's Philox, and Phi by the Numerical Recipes erfc
(fractional error < 1.2e-7): the same model, not the same paths, so E[loss] and PD agree with
gaib's within Monte Carlo error (`--check`), not bit for bit.

Usage: bench_numpy.py PORTFOLIO.toml PATHS [--seed S] [--json OUT] [--check GAIB.json]
Prints one line `paths=… seconds=… deal_steps_per_s=…`; `--json` writes the per-instrument
E[loss], PD, E[PV] and their standard errors; `--check` compares them with gaib's (the `--summary`
JSON of `simulator/examples/throughput`) and exits 1 when any differs by more than 4.5
combined standard errors.
"""
import argparse
import json
import math
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

H = 730.0  # hours per month
DT = 1.0 / 12.0
SETTLED = 1e-9  # f64 Amount::is_settled
LOSS_EPS = 1e-12
CHUNK = 8192  # paths per block: memory stays flat in the path count


def erfc(x):
    """Numerical Recipes `erfcc` (Chebyshev fit, fractional error < 1.2e-7 everywhere)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    r = t * np.exp(poly)
    return np.where(x >= 0, r, 2.0 - r)


class Curve:
    def __init__(self, pts):
        self.t = [p["tenor_years"] for p in pts]
        self.r = [p["rate"] for p in pts]

    def zero(self, t):
        if t <= self.t[0]:
            return self.r[0]
        if t >= self.t[-1]:
            return self.r[-1]
        i = next(i for i, x in enumerate(self.t) if x > t)
        t0, t1, r0, r1 = self.t[i - 1], self.t[i], self.r[i - 1], self.r[i]
        return r0 + (r1 - r0) * (t - t0) / (t1 - t0)

    def df(self, t, spread_bps):
        return math.exp(-(self.zero(t) + spread_bps * 1e-4) * t)


def load(path):
    p = tomllib.loads(Path(path).read_text())
    for key, why in [("loan_tape", "loan tapes"), ("vault", "a vault")]:
        if key in p:
            sys.exit(f"bench_numpy: {why} not implemented")
    if len(p.get("pools", [])) != 1:
        sys.exit("bench_numpy: exactly one pool is implemented")
    fleets_used = [d["fleet_id"] for d in p["deals"]]
    if len(set(fleets_used)) != len(fleets_used):
        sys.exit("bench_numpy: several deals on one fleet (liens) not implemented")
    for d in p["deals"]:
        if d["kind"] not in ("loan", "revenue_share"):
            sys.exit(f"bench_numpy: deal {d['id']}: {d['kind']} not implemented")
        if d["kind"] == "loan" and "rate" not in d:
            sys.exit(f"bench_numpy: deal {d['id']}: floating rates not implemented")
    pool = p["pools"][0]
    if sorted(pool["deal_ids"]) != sorted(d["id"] for d in p["deals"]):
        sys.exit("bench_numpy: the pool must own every deal")
    for t in pool["tranches"][:-1]:
        if "coupon" not in t:
            sys.exit("bench_numpy: floating tranche coupons not implemented")
    return p


class Model:
    """The portfolio's parameters as NumPy arrays (the lowering of simulator/src/plan.rs)."""

    def __init__(self, p):
        self.p = p
        cls = p["gpu_classes"]
        self.cix = {c["id"]: i for i, c in enumerate(cls)}
        oix = {o["id"]: i for i, o in enumerate(p["operators"])}
        fix = {f["id"]: i for i, f in enumerate(p["fleets"])}
        deals = p["deals"]
        self.K = p["portfolio"].get("horizon_months") or (
            max(d["term_months"] for d in deals) + max(d.get("recovery_lag_months", 0) for d in deals))
        K, C = self.K, len(cls)
        a = np.array([math.exp(-c["kappa"] * DT) for c in cls])
        self.ou_decay = a
        self.ou_scale = np.array([ou_scale(c["sigma"], c["kappa"]) for c in cls])
        self.jump_lam = np.array([c.get("jump_intensity", 0.0) * DT for c in cls])
        self.jump_mean = np.array([c.get("jump_mean", 0.0) for c in cls])
        self.jump_std = np.array([c.get("jump_std", 0.0) for c in cls])
        corr = np.array(p["market"].get("correlation", np.eye(C)), dtype=float)
        self.chol_t = np.linalg.cholesky(corr).T
        lt = np.zeros((K, C))
        lts = np.zeros((K, C))
        for k in range(1, K + 1):
            for i, c in enumerate(cls):
                s = sum(x["log_size"] for x in c.get("shocks", []) if x["month"] <= k)
                lt[k - 1, i] = math.log(c["price0_per_gpu_hour"]) + c["drift"] * k * DT
                lts[k - 1, i] = lt[k - 1, i] + s
        self.log_trend_shock = lts
        self.inv_trend = np.exp(-lt)
        fl = p["fleets"]
        self.f_class = np.array([self.cix[f["class_id"]] for f in fl])
        self.f_op = np.array([oix[f["operator_id"]] for f in fl])
        dec = np.array([math.exp(-f["utilization_kappa"] * DT) for f in fl])
        self.f_decay = dec
        self.f_pull = np.array([logit(f["utilization_mean"]) for f in fl]) * (1.0 - dec)
        self.f_scale = np.array([ou_scale(f["utilization_sigma"], f["utilization_kappa"]) for f in fl])
        rho_u = np.array([min(max(f.get("utilization_price_loading", 0.0), 0.0), 1.0) for f in fl])
        self.f_lp, self.f_lo = np.sqrt(rho_u), np.sqrt(1.0 - rho_u)
        self.f_y0 = np.array([logit(f["utilization0"]) for f in fl])
        self.fleets = fl
        self.hazard = np.array([max(o["hazard"], 0.0) for o in p["operators"]])
        rho = min(max(p["market"].get("asset_correlation", 0.0), 0.0), 1.0)
        self.load_m, self.load_e = math.sqrt(rho), math.sqrt(1.0 - rho)
        curve = Curve(p["market"]["discount_curve"])
        self.deals = deals
        self.d_fleet = [fix[d["fleet_id"]] for d in deals]
        self.d_notional = np.array([float(d.get("principal", d.get("advance", 0.0))) for d in deals])
        self.d_df = [np.array([curve.df(k * DT, d.get("discount_spread_bps", 0.0)) for k in range(1, K + 1)])
                     for d in deals]
        pool = p["pools"][0]
        self.fee_rate = pool.get("senior_fee_bps", 0.0) / 1e4
        self.oc = pool.get("oc_trigger", 0.0)
        self.tr = pool["tranches"]
        self.t_notional = np.array([float(t["balance"]) for t in self.tr])
        self.t_df = [np.array([curve.df(k * DT, t.get("discount_spread_bps", 0.0)) for k in range(1, K + 1)])
                     for t in self.tr]


def ou_scale(sigma, kappa):
    if kappa * DT < 1e-12:
        return sigma * math.sqrt(DT)
    return sigma * math.sqrt(-math.expm1(-2.0 * kappa * DT) / (2.0 * kappa))


def logit(u):
    return math.log(u / (1.0 - u))


def annuity(b, r, n):
    if n == 0:
        return b
    if r <= 0:
        return b / n
    q = (1.0 + r) ** n
    return b * r * q / (q - 1.0)


def cents(x):
    return np.round(x, 2)  # half to even, as the engine's f64 and Decimal cents


class Stats:
    """What gaib's PathStats holds, as float sums and integer counts."""

    def __init__(self, m):
        nd, nt, K = len(m.deals), len(m.tr), m.K
        z = lambda *s: np.zeros(s)  # noqa: E731
        self.paths = 0
        self.inst = {}
        for name, n in (("deal", nd), ("tranche", nt)):
            self.inst[name] = dict(pv=z(n, 2), loss=z(n, 2), loss_paths=z(n), default_paths=z(n),
                                   default_1y=z(n), lod=z(n, 2), loss_1y=z(n, 2),
                                   hist=np.zeros((n, 1002), dtype=np.int64), cf=z(n, K), pr=z(n, K))
        self.coll = z(nd, K, 3)
        self.coll_hist = np.zeros((nd, K, 101), dtype=np.int64)
        self.port_loss = z(2)
        self.port_hist = np.zeros(10002, dtype=np.int64)
        self.port_defaults = z(2)

    def record(self, name, i, pv, lf, defaulted, dmonth):
        s = self.inst[name]
        s["pv"][i] += (pv.sum(), (pv * pv).sum())
        s["loss"][i] += (lf.sum(), (lf * lf).sum())
        s["hist"][i] += hist(lf, 1000)
        s["loss_paths"][i] += np.count_nonzero(lf > LOSS_EPS)
        s["default_paths"][i] += np.count_nonzero(defaulted)
        ld = lf[defaulted]
        s["lod"][i] += (ld.sum(), (ld * ld).sum())
        in1y = defaulted & (dmonth >= 1) & (dmonth <= 12)
        s["default_1y"][i] += np.count_nonzero(in1y)
        l1 = np.where(in1y, lf, 0.0)
        s["loss_1y"][i] += (l1.sum(), (l1 * l1).sum())

    def summary(self):
        n = self.paths
        out = {"paths": n}
        for name, s in self.inst.items():
            rows = []
            for i in range(len(s["pv"])):
                el = s["loss"][i, 0] / n
                var = max(s["loss"][i, 1] / n - el * el, 0.0) * n / (n - 1)
                pd = s["default_paths"][i] / n
                pv = s["pv"][i, 0] / n
                pv_var = max(s["pv"][i, 1] / n - pv * pv, 0.0) * n / (n - 1)
                rows.append(dict(el=el, el_se=math.sqrt(var / n), pd=pd,
                                 pd_se=math.sqrt(pd * (1 - pd) / n), pv=pv,
                                 pv_se=math.sqrt(pv_var / n)))
            out[name + "s"] = rows
        return out


def hist(x, bins):
    """Counts of x on [0, 1) in `bins` bins, then the overflow (x ≥ 1), then the observations
    exactly at 0 (gaib's `at_lo`)."""
    b = np.clip(np.floor(x * bins), 0, bins).astype(np.int64)
    b[x == 0.0] = bins + 1
    return np.bincount(b, minlength=bins + 2)


def clean(lf):
    lf = np.where(np.abs(lf) <= LOSS_EPS, 0.0, lf)
    return np.where(np.abs(lf - 1.0) <= LOSS_EPS, 1.0, lf)


def simulate(m, n, rng, st):
    K, F = m.K, len(m.fleets)
    nd, nt = len(m.deals), len(m.tr)
    eq = nt - 1
    # §5 copula default months per operator.
    mf = rng.standard_normal(n)
    e = rng.standard_normal((n, len(m.hazard)))
    a = m.load_m * mf[:, None] + m.load_e * e
    with np.errstate(divide="ignore"):
        tau = -np.log(0.5 * erfc(a / math.sqrt(2.0))) / np.where(m.hazard > 0, m.hazard, np.inf)
    dmon = np.ceil(tau * 12.0)
    op_month = np.where((m.hazard > 0) & (dmon <= K), np.maximum(dmon, 1.0), 0.0)

    x = np.zeros((n, len(m.ou_decay)))
    jumps = np.zeros_like(x)
    y = np.tile(m.f_y0, (n, 1))
    deals = m.deals
    bal = np.tile(m.d_notional, (n, 1))
    dsra = np.zeros((n, nd))
    received = np.zeros((n, nd))
    done = np.zeros((n, nd), dtype=bool)
    pend_amt = np.zeros((n, nd))
    pend_month = np.zeros((n, nd))
    pv = np.zeros((n, nd))
    loss = np.zeros((n, nd))
    dmonth = np.zeros((n, nd))
    for j, d in enumerate(deals):  # DSRA at close: month 1's regular debt service
        if d["kind"] == "loan":
            dsra[:, j] = dsra_target(d, 1, bal[:, j])
    tb = np.tile(m.t_notional, (n, 1))
    t_arrears = np.zeros(n)
    fee_arrears = np.zeros(n)
    t_pv = np.zeros((n, nt))
    t_recv = np.zeros((n, nt))
    t_wd = np.zeros((n, nt))
    t_dmonth = np.zeros((n, nt))
    sen_default = np.zeros(n, dtype=bool)

    for k in range(1, K + 1):
        t = k * DT
        ki = k - 1
        # §1 prices.
        eps = rng.standard_normal(x.shape)
        z = eps @ m.chol_t
        x = x * m.ou_decay + m.ou_scale * z
        nj = np.minimum(rng.poisson(m.jump_lam, size=x.shape), 64)
        jumps += nj * m.jump_mean + m.jump_std * np.sqrt(nj) * rng.standard_normal(x.shape)
        price = np.exp(m.log_trend_shock[ki] + x + jumps)
        pot = price * m.inv_trend[ki]
        # §2 utilization.
        xi = rng.standard_normal((n, F))
        w = m.f_lp * eps[:, m.f_class] + m.f_lo * xi
        y = y * m.f_decay + m.f_pull + m.f_scale * w
        util = np.clip(1.0 / (1.0 + np.exp(-y)), 1e-15, 1.0 - 1e-15)
        # Pool: performing balance before the month's payments.
        perf = np.where(done, 0.0, bal).sum(axis=1)
        ip = np.zeros(n)
        pp = np.zeros(n)
        n_def_month = np.zeros(n)
        for j, d in enumerate(deals):
            fi = m.d_fleet[j]
            f = m.fleets[fi]
            c = m.f_class[fi]
            phi = f.get("contracted_share", 0.0) if k <= f.get("contract_end_month", 0) else 0.0
            gh = f["gpus"] * H
            u, pr = util[:, fi], price[:, c]
            revenue = cents(gh * (phi * f.get("contract_rate_per_gpu_hour", 0.0) + (1 - phi) * u * pr))
            opex = cents(gh * (f["opex_fixed_per_gpu_hour"] + f["opex_variable_per_gpu_hour"] * ((1 - phi) * u + phi)))
            noi = revenue - opex
            cls = m.p["gpu_classes"][c]
            straight = 1.0 - (f.get("age0_months", 0) / 12.0 + t) / cls["useful_life_years"]
            hw = f["gpus"] * (f["purchase_price_per_gpu"] * max(straight, cls["residual_floor"]) * pot[:, c])
            after_hc = hw * (1.0 - f["liquidation_haircut"])
            credit = op_month[:, m.f_op[fi]] == k
            b, dj, dn = bal[:, j], dsra[:, j], done[:, j]
            # Recovery of an earlier default.
            rec_now = np.where((pend_month[:, j] == k) & (pend_amt[:, j] != 0), pend_amt[:, j], 0.0)
            pend_amt[:, j] -= rec_now
            live = ~dn
            interest = np.zeros(n)
            principal = np.zeros(n)
            ead = np.zeros(n)
            defaulted = np.zeros(n, dtype=bool)
            income = np.zeros(n)
            if d["kind"] == "loan":
                r = d["rate"] / 12.0
                term = d["term_months"]
                is_final = k >= term
                i_due = cents(b * r)
                if is_final:
                    sched = np.where(credit, 0.0, b)
                else:
                    sched = regular_principal(d, k, b, i_due)
                due = i_due + sched
                cash = np.maximum(noi, 0.0)
                case_a = live & (cash >= due)
                case_b = live & ~case_a & (cash + dj >= due)
                case_c = live & ~case_a & ~case_b
                paid = case_a | case_b
                dj = np.where(case_b, dj - (due - cash), dj)
                interest = np.where(paid, i_due, 0.0)
                principal = np.where(paid, sched, 0.0)
                b = np.where(paid, b - sched, b)
                excess = np.where(case_a, cash - due, 0.0)
                # Case C: interest first, then principal; refinance or default.
                avail = cash + dj
                i_paid = np.minimum(avail, i_due)
                p_paid = avail - i_paid
                unpaid = i_due - i_paid
                interest = np.where(case_c, i_paid, interest)
                principal = np.where(case_c, p_paid, principal)
                b = np.where(case_c, b - p_paid, b)
                dj = np.where(case_c, 0.0, dj)
                balloon_only = (is_final & ~credit) & (unpaid <= SETTLED)
                refi = case_c & balloon_only & (after_hc >= d.get("refinance_min_collateral_ratio", 1.0) * b)
                principal = np.where(refi, principal + b, principal)
                c_def = case_c & ~refi
                ead = np.where(c_def, b + unpaid, 0.0)
                defaulted = c_def
                b = np.where(case_c, 0.0, b)
                dn = dn | case_c
                # Cases A/B: DSRA to next month's target, sweep, maturity.
                if not is_final:
                    target = dsra_target(d, k + 1, b)
                    open_ = paid & (b > SETTLED)
                    refill = np.where(open_ & (dj < target), np.minimum(excess, target - dj), 0.0)
                    excess = excess - refill
                    dj = np.where(open_, np.where(dj < target, dj + refill, target), dj)
                    sweep = np.where(paid, np.maximum(np.minimum(cents(d.get("cash_sweep", 0.0) * excess), b), 0.0), 0.0)
                    principal = principal + sweep
                    b = b - sweep
                ends = paid & ((is_final & ~credit) | (b <= SETTLED))
                dj = np.where(ends, 0.0, dj)
                b = np.where(ends, 0.0, b)
                dn = dn | ends
            else:
                adv, cap = d["advance"], d["cap_multiple"]
                cap_left = np.maximum(cap * adv - received[:, j], 0.0)
                pay = np.where(live, np.minimum(cents(d["share"] * np.maximum(revenue, 0.0)), cap_left), 0.0)
                capital = np.minimum(pay, b)
                principal = capital
                income = pay - capital
                b = b - capital
                received[:, j] += pay
                ends = live & (((cap_left - pay) <= SETTLED) | ((k >= d["term_months"]) & ~credit))
                short = np.where(ends, np.maximum(b, 0.0), 0.0)
                loss[:, j] += np.where(short > SETTLED, short, 0.0)
                b = np.where(ends, 0.0, b)
                dn = dn | ends
            # §4.1 step 3 / §5: credit default of what is still open.
            cd = credit & ~dn
            ead = np.where(cd, ead + b, ead)
            defaulted = defaulted | cd
            b = np.where(cd, 0.0, b)
            dn = dn | cd
            # §4.4 recovery (one deal per fleet: the whole collateral is this deal's).
            if defaulted.any():
                if d.get("secured", True) or d["kind"] == "loan":
                    claim = np.maximum(ead - dj, 0.0)
                    avail_c = np.maximum(after_hc - f.get("liquidation_cost", 0.0), 0.0)
                    share = np.where(claim > 0, np.minimum(avail_c, claim), 0.0)
                    rec = np.minimum(share + dj, ead)
                else:
                    rec = np.minimum(cents(d.get("unsecured_recovery", 0.0) * ead) + dj, ead)
                rec = np.where(defaulted, rec, 0.0)
                loss[:, j] += ead - rec
                pend_amt[:, j] += rec
                pend_month[:, j] = np.where(defaulted, min(k + d.get("recovery_lag_months", 0), K), pend_month[:, j])
                dj = np.where(defaulted, 0.0, dj)
                dmonth[:, j] = np.where(defaulted & (dmonth[:, j] == 0), k, dmonth[:, j])
                n_def_month += defaulted
            bal[:, j], dsra[:, j], done[:, j] = b, dj, dn
            principal = principal + rec_now
            cf = interest + income + principal
            pv[:, j] += cf * m.d_df[j][ki]
            inv = 1.0 / m.d_notional[j]
            st.inst["deal"]["cf"][j, ki] += cf.sum() * inv
            st.inst["deal"]["pr"][j, ki] += principal.sum() * inv
            ip += interest + income
            pp += principal
            # Collateral ratio of the deals still performing with a balance.
            perf_j = ~dn & (b > SETTLED)
            if perf_j.any():
                ratio = np.minimum((after_hc[perf_j] + dj[perf_j]) / b[perf_j], 1e3)
                st.coll[j, ki] += (ratio.size, ratio.sum(), (ratio * ratio).sum())
                hb = np.clip(np.floor(ratio / 5.0 * 100), 0, 100).astype(np.int64)
                st.coll_hist[j, ki] += np.bincount(hb, minlength=101)
        # §6 pool waterfall.
        final = k >= K
        ipc, ppc = np.maximum(ip, 0.0), np.maximum(pp, 0.0)

        def take(due):
            nonlocal ipc, ppc
            a_ = np.minimum(np.maximum(due, 0.0), ipc)
            ipc = ipc - a_
            paid = a_
            if final:
                b_ = np.minimum(np.maximum(due, 0.0) - a_, ppc)
                ppc = ppc - b_
                paid = paid + b_
            return paid

        t_int = np.zeros((n, nt))
        t_pr = np.zeros((n, nt))
        wd = np.zeros((n, nt))
        fees_due = fee_arrears + cents(m.fee_rate / 12.0 * np.maximum(perf, 0.0))
        fee_arrears = fees_due - take(fees_due)
        for q in range(eq):
            due = cents(tb[:, q] * m.tr[q]["coupon"] / 12.0)
            if q == 0:
                due = due + t_arrears
            paid = take(due)
            t_int[:, q] = paid
            if q == 0:
                t_arrears = due - paid
            else:
                tb[:, q] += due - paid
            if final:
                pay = take(tb[:, q])
                t_pr[:, q] += pay
                tb[:, q] -= pay
        if m.oc > 0 and not final:
            senior = np.zeros(n)
            s_ix = np.full(n, eq)
            for q in range(eq - 1, -1, -1):
                open_q = tb[:, q] > SETTLED
                senior = np.where(open_q, tb[:, q], senior)
                s_ix = np.where(open_q, q, s_ix)
            breach = (s_ix < eq) & (perf < m.oc * senior)
            cure = np.where(breach, np.minimum(np.maximum(senior - np.maximum(perf, 0.0) / m.oc, 0.0), ipc), 0.0)
            ipc = ipc - cure
            for q in range(eq):
                pay = np.where(q >= s_ix, np.minimum(cure, tb[:, q]), 0.0)
                t_pr[:, q] += pay
                tb[:, q] -= pay
                cure = cure - pay
            ipc = ipc + cure
        fee_cure = np.minimum(ppc, fee_arrears)
        ppc -= fee_cure
        fee_arrears -= fee_cure
        if eq > 0:
            cure = np.minimum(ppc, t_arrears)
            ppc -= cure
            t_arrears -= cure
            t_int[:, 0] += cure
            sen_default |= t_arrears > SETTLED
        for q in range(eq):
            pay = np.minimum(ppc, tb[:, q])
            t_pr[:, q] += pay
            tb[:, q] -= pay
            ppc -= pay
        t_int[:, eq] = ipc
        t_pr[:, eq] = ppc
        if final:
            for q in range(eq):
                wd[:, q] = tb[:, q] + (t_arrears if q == 0 else 0.0)
                tb[:, q] = 0.0
            t_arrears = np.zeros(n)
        for q in range(nt):
            cf = t_int[:, q] + t_pr[:, q]
            t_wd[:, q] += wd[:, q]
            first = (t_dmonth[:, q] == 0) & ((t_wd[:, q] > LOSS_EPS * m.t_notional[q]) | ((q == 0) & sen_default))
            t_dmonth[:, q] = np.where(first, k, t_dmonth[:, q])
            t_pv[:, q] += cf * m.t_df[q][ki]
            t_recv[:, q] += cf
            inv = 1.0 / m.t_notional[q]
            st.inst["tranche"]["cf"][q, ki] += cf.sum() * inv
            st.inst["tranche"]["pr"][q, ki] += t_pr[:, q].sum() * inv

    # §8 per-path statistics.
    st.paths += n
    for j in range(nd):
        inv = 1.0 / m.d_notional[j]
        lf = clean(loss[:, j] * inv)
        st.record("deal", j, pv[:, j] * inv, lf, dmonth[:, j] != 0, dmonth[:, j])
    for q in range(nt):
        lo = t_wd[:, q] + (np.maximum(m.t_notional[q] - t_recv[:, q], 0.0) if q == eq else 0.0)
        lf = clean(lo / m.t_notional[q])
        defaulted = (t_wd[:, q] > LOSS_EPS * m.t_notional[q]) | ((q == 0) & sen_default)
        st.record("tranche", q, t_pv[:, q] / m.t_notional[q], lf, defaulted, t_dmonth[:, q])
    pl = clean(loss.sum(axis=1) / m.d_notional.sum())
    st.port_loss += (pl.sum(), (pl * pl).sum())
    st.port_hist += hist(pl, 10000)
    nde = (dmonth != 0).sum(axis=1)
    st.port_defaults += (nde.sum(), (nde * nde).sum())


def regular_principal(d, k, b, i_due):
    """The profile's instalment of month k (never the balloon), capped by the balance."""
    term, grace = d["term_months"], d.get("grace_months", 0)
    if k <= grace or d["amortization"] == "bullet":
        return np.zeros_like(b)
    if d["amortization"] == "linear":
        return np.minimum(round(d["principal"] / (term - grace), 2), b)
    r = d["rate"] / 12.0
    n_left = max(term - k, 0) + 1
    return np.minimum(np.maximum(cents(annuity(b, r, n_left) - i_due), 0.0), b)


def dsra_target(d, k, b):
    r = d["rate"] / 12.0
    i = cents(b * r)
    return cents(d.get("dsra_months", 0) * (i + regular_principal(d, k, b, i)))


def check(ours, gaib_path, tol=4.5):
    """Every instrument's E[loss], PD and E[PV] within `tol` combined standard errors of gaib's."""
    theirs = json.loads(Path(gaib_path).read_text())
    bad = 0
    for kind in ("deals", "tranches"):
        for a, b in zip(ours[kind], theirs[kind], strict=True):
            for key in ("el", "pd", "pv"):
                se = math.hypot(a[key + "_se"], b[key + "_se"])
                diff = a[key] - b[key]
                ok = abs(diff) <= tol * se + 1e-12
                bad += not ok
                flag = "" if ok else "  <-- outside"
                print(f"  {kind[:-1]} {b['id']:<10} {key}: numpy {a[key]:.5f} gaib {b[key]:.5f} "
                      f"diff {diff:+.5f} ({diff / se if se > 0 else 0.0:+.2f} se){flag}")
    print(f"check: {bad} of {3 * (len(ours['deals']) + len(ours['tranches']))} figures outside "
          f"{tol} standard errors")
    return bad == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("portfolio")
    ap.add_argument("paths", type=int)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json")
    ap.add_argument("--check")
    a = ap.parse_args()
    m = Model(load(a.portfolio))
    rng = np.random.default_rng(a.seed)
    st = Stats(m)
    t0 = time.perf_counter()
    left = a.paths
    while left > 0:
        n = min(CHUNK, left)
        simulate(m, n, rng, st)
        left -= n
    secs = time.perf_counter() - t0
    steps = a.paths * len(m.deals) * m.K
    print(f"paths={a.paths} seconds={secs:.3f} deal_steps_per_s={steps / secs:.4e}")
    s = st.summary()
    if a.json:
        Path(a.json).write_text(json.dumps(s, indent=1))
    if a.check and not check(s, a.check):
        sys.exit(1)


if __name__ == "__main__":
    main()
