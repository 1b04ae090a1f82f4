#!/usr/bin/env python3
"""Writes data/portfolios/sample.toml and sample_loan_tape.csv (deterministic; no randomness).

The sample is illustrative: market levels come from data/SOURCES.md, deal terms are made up
but shaped like published GPU financings (contract-backed amortising loans, revenue shares,
hybrids with kickers). Re-run after editing; the output is committed.
"""
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "portfolios"

CLASSES = [
    # id, price0, drift, kappa, sigma, jump_int, jump_mean, jump_std, life, floor, purchase
    ("H100", 2.35, -0.28, 1.2, 0.35, 0.30, -0.05, 0.12, 5.0, 0.10, 28000),
    ("H200", 3.30, -0.22, 1.2, 0.35, 0.30, -0.05, 0.12, 5.0, 0.10, 34000),
    ("B200", 5.30, -0.10, 1.0, 0.40, 0.40, -0.03, 0.15, 6.0, 0.10, 52000),
    ("A100", 1.19, -0.30, 1.5, 0.30, 0.20, -0.05, 0.10, 5.0, 0.05, 9000),
]
CORR = [
    [1.00, 0.80, 0.60, 0.70],
    [0.80, 1.00, 0.70, 0.60],
    [0.60, 0.70, 1.00, 0.45],
    [0.70, 0.60, 0.45, 1.00],
]
OPERATORS = [
    # id, name, annual PD
    ("op-northpeak", "Northpeak Compute (contract-backed SPV)", 0.01),
    ("op-helios", "Helios Cloud", 0.03),
    ("op-tundra", "Tundra AI Infrastructure", 0.05),
    ("op-meridian", "Meridian GPU Hosting", 0.08),
    ("op-lattice", "Lattice Neocloud", 0.10),
    ("op-quasar", "Quasar Render Farms", 0.12),
    ("op-atlas", "Atlas Sovereign Compute", 0.02),
    ("op-vega", "Vega Inference Labs", 0.15),
]
FLEETS = [
    # id, operator, class, gpus, u0, umean, phi, contract_rate, contract_end, age0
    ("fl-np-h100-a", "op-northpeak", "H100", 2048, 0.90, 0.85, 0.80, 2.20, 48, 6),
    ("fl-np-b200-a", "op-northpeak", "B200", 1024, 0.92, 0.88, 0.85, 4.60, 48, 0),
    ("fl-he-h200-a", "op-helios", "H200", 1024, 0.88, 0.85, 0.70, 3.00, 36, 3),
    ("fl-he-h100-b", "op-helios", "H100", 512, 0.85, 0.82, 0.60, 2.10, 36, 12),
    ("fl-tu-h100-a", "op-tundra", "H100", 768, 0.84, 0.80, 0.60, 2.15, 36, 9),
    ("fl-tu-a100-a", "op-tundra", "A100", 1024, 0.80, 0.75, 0.50, 1.05, 24, 30),
    ("fl-me-h200-a", "op-meridian", "H200", 512, 0.86, 0.80, 0.50, 3.05, 30, 6),
    ("fl-la-b200-a", "op-lattice", "B200", 512, 0.90, 0.85, 0.60, 4.80, 36, 0),
    ("fl-la-h100-a", "op-lattice", "H100", 1024, 0.85, 0.80, 0.50, 2.05, 30, 12),
    ("fl-qu-a100-a", "op-quasar", "A100", 768, 0.78, 0.72, 0.40, 1.00, 24, 36),
    ("fl-at-h200-a", "op-atlas", "H200", 2048, 0.90, 0.86, 0.85, 3.10, 48, 0),
    ("fl-ve-h100-a", "op-vega", "H100", 256, 0.82, 0.78, 0.30, 2.25, 18, 18),
]
PURCHASE = {c[0]: c[10] for c in CLASSES}
GPUS = {f[0]: (f[3], f[2]) for f in FLEETS}


def hw(fleet):
    n, cls = GPUS[fleet]
    return n * PURCHASE[cls]


# Deals: (id, kind, fleet, fraction of hardware cost, terms...)
DEALS = []


# Advance rates below are quoted per unit of the base leverage; LEVERAGE scales them to
# loan-to-cost ratios of 45-65 % for senior loans, in the published 50-70 % range.
LEVERAGE = 1.9
ADVANCE_LEVERAGE = 1.5


def loan(i, fleet, ltv, rate, term, am, grace=0, dsra=3, sweep="0.25", lien="", floating=None, kicker=None):
    principal = round(hw(fleet) * ltv * LEVERAGE, -3)
    DEALS.append(dict(
        id=i, kind="hybrid" if kicker else "loan", fleet_id=fleet, lien=lien,
        recovery_lag_months=6, discount_spread_bps=250,
        principal=int(principal), rate="" if floating else rate,
        floating_spread_bps=floating or "", term_months=term, amortization=am,
        grace_months=grace, dsra_months=dsra, cash_sweep=sweep, kicker_share=kicker or "",
    ))


def revshare(i, fleet, adv_frac, share, cap, term, secured=True, unsecured_recovery="0.10"):
    DEALS.append(dict(
        id=i, kind="revenue_share", fleet_id=fleet, recovery_lag_months=6,
        discount_spread_bps=400, advance=int(round(hw(fleet) * adv_frac * ADVANCE_LEVERAGE, -3)),
        share=f"{float(share) * ADVANCE_LEVERAGE:.4f}", cap_multiple=cap, term_months=term, secured=str(secured).lower(),
        unsecured_recovery="" if secured else unsecured_recovery,
    ))


loan("L-01", "fl-np-h100-a", 0.30, "0.0900", 36, "annuity", dsra=3, lien="senior")
revshare("RS-01", "fl-np-h100-a", 0.06, "0.08", "1.35", 30, secured=True)
loan("L-02", "fl-np-b200-a", 0.35, "0.0950", 42, "annuity", grace=3, dsra=3)
loan("L-03", "fl-he-h200-a", 0.30, "0.1150", 36, "annuity", dsra=3, lien="senior")
revshare("RS-02", "fl-he-h200-a", 0.05, "0.07", "1.40", 30, secured=True)
loan("L-04", "fl-he-h100-b", 0.30, "0.1200", 30, "linear", dsra=2)
loan("L-05", "fl-tu-h100-a", 0.28, "0.1250", 30, "annuity", dsra=3)
loan("L-06", "fl-tu-a100-a", 0.25, "0.1300", 24, "linear", dsra=2)
hybrid_ids = []
loan("H-01", "fl-me-h200-a", 0.28, "0.1100", 30, "annuity", dsra=3, kicker="0.02")
loan("L-07", "fl-la-b200-a", 0.30, None, 36, "annuity", dsra=3, floating="650", lien="senior")
revshare("RS-03", "fl-la-b200-a", 0.05, "0.06", "1.45", 30, secured=False)
loan("L-08", "fl-la-h100-a", 0.25, "0.1350", 30, "linear", dsra=3)
revshare("RS-04", "fl-qu-a100-a", 0.12, "0.15", "1.30", 24, secured=True)
loan("L-09", "fl-at-h200-a", 0.30, None, 42, "annuity", grace=6, dsra=3, floating="450", lien="senior")
loan("H-02", "fl-at-h200-a", 0.08, "0.1400", 36, "bullet", dsra=0, sweep="0", lien="junior", kicker="0.01")
revshare("RS-05", "fl-ve-h100-a", 0.15, "0.25", "1.50", 18, secured=False)
loan("L-10", "fl-np-h100-a", 0.04, "0.1400", 24, "bullet", dsra=0, sweep="0", lien="junior")
loan("L-11", "fl-np-b200-a", 0.05, "0.1300", 24, "linear", dsra=1, lien="junior")
loan("H-03", "fl-he-h100-b", 0.05, "0.1500", 24, "annuity", dsra=1, lien="junior", kicker="0.015")
revshare("RS-06", "fl-tu-h100-a", 0.05, "0.05", "1.40", 30, secured=True)
loan("L-12", "fl-tu-a100-a", 0.04, "0.1400", 18, "annuity", dsra=1, lien="junior")
revshare("RS-07", "fl-me-h200-a", 0.05, "0.05", "1.40", 24, secured=True)
loan("L-13", "fl-la-h100-a", 0.05, None, 24, "annuity", dsra=1, floating="900", lien="junior")
loan("H-04", "fl-qu-a100-a", 0.10, "0.1500", 18, "linear", dsra=2, kicker="0.02")
revshare("RS-08", "fl-at-h200-a", 0.03, "0.03", "1.35", 36, secured=True)
loan("L-14", "fl-ve-h100-a", 0.15, "0.1600", 18, "annuity", dsra=2)
loan("H-05", "fl-np-b200-a", 0.04, "0.1250", 30, "annuity", dsra=1, lien="junior", kicker="0.01")
revshare("RS-09", "fl-he-h200-a", 0.03, "0.04", "1.40", 24, secured=False)
loan("L-15", "fl-me-h200-a", 0.05, "0.1400", 24, "linear", dsra=1, lien="junior")
revshare("RS-10", "fl-la-b200-a", 0.03, "0.04", "1.40", 24, secured=True)

INLINE = {"L-01", "RS-01", "H-01"}  # written in the TOML; the rest go to the loan tape
VAULT_DIRECT = ["RS-08", "L-15", "RS-10", "H-05", "RS-09", "L-14"]
POOL = [d["id"] for d in DEALS if d["id"] not in VAULT_DIRECT]
assert len(DEALS) == 30 and len(POOL) == 24

COLUMNS = ["id", "kind", "fleet_id", "lien", "recovery_lag_months", "unsecured_recovery",
           "discount_spread_bps", "principal", "rate", "floating_spread_bps", "term_months",
           "amortization", "grace_months", "dsra_months", "cash_sweep", "kicker_share",
           "advance", "share", "cap_multiple", "secured"]


def toml_value(v):
    if isinstance(v, str):
        if v in ("true", "false"):
            return v
        try:
            float(v)
            return v
        except ValueError:
            return f'"{v}"'
    return str(v)


def funded(d):
    return d.get("principal") or d.get("advance")


def main():
    lines = [
        "# gaib sample portfolio — illustrative. Market levels: see data/SOURCES.md.",
        "# Generated by data/tools/make_sample.py; 3 deals inline, 27 in sample_loan_tape.csv.",
        "",
        "loan_tape = \"sample_loan_tape.csv\"",
        "",
        "[portfolio]",
        'id = "gaib-sample-2026q4"',
        'name = "GAIB-style GPU credit book (illustrative)"',
        'as_of = "2026-11-01"',
        "",
        "[market]",
        "# USD zero curve near SOFR (continuously compounded), see SOURCES.md",
        "discount_curve = [",
        "  { tenor_years = 0.25, rate = 0.0430 },",
        "  { tenor_years = 1.0, rate = 0.0410 },",
        "  { tenor_years = 2.0, rate = 0.0390 },",
        "  { tenor_years = 5.0, rate = 0.0385 },",
        "]",
        "rate_shock_bps = 0",
        "asset_correlation = 0.25",
        "# classes in the order of [[gpu_classes]]: H100, H200, B200, A100",
        "correlation = [",
    ]
    for row in CORR:
        lines.append("  [" + ", ".join(f"{x:.2f}" for x in row) + "],")
    lines += ["]", ""]
    for (cid, p0, mu, kap, sig, ji, jm, js, life, floor, _) in CLASSES:
        lines += [
            "[[gpu_classes]]",
            f'id = "{cid}"',
            f"price0_per_gpu_hour = {p0}",
            f"drift = {mu}",
            f"kappa = {kap}",
            f"sigma = {sig}",
            f"jump_intensity = {ji}",
            f"jump_mean = {jm}",
            f"jump_std = {js}",
            f"useful_life_years = {life}",
            f"residual_floor = {floor}",
            "",
        ]
    for (oid, name, pd) in OPERATORS:
        import math
        lines += ["[[operators]]", f'id = "{oid}"', f'name = "{name}"',
                  f"hazard = {-math.log(1 - pd):.6f}  # annual PD {pd:.0%}", ""]
    for (fid, op, cls, n, u0, um, phi, rate, end, age) in FLEETS:
        lines += [
            "[[fleets]]",
            f'id = "{fid}"', f'operator_id = "{op}"', f'class_id = "{cls}"', f"gpus = {n}",
            f"utilization0 = {u0}", f"utilization_mean = {um}", "utilization_kappa = 2.0",
            "utilization_sigma = 0.6", "utilization_price_loading = 0.5",
            f"contracted_share = {phi}", f"contract_rate_per_gpu_hour = {rate}",
            f"contract_end_month = {end}",
            "opex_fixed_per_gpu_hour = 0.25", "opex_variable_per_gpu_hour = 0.08",
            f"purchase_price_per_gpu = {PURCHASE[cls]}", f"age0_months = {age}",
            "liquidation_haircut = 0.35", "liquidation_cost = 150000", "",
        ]
    for d in DEALS:
        if d["id"] not in INLINE:
            continue
        lines.append("[[deals]]")
        for c in COLUMNS:
            v = d.get(c, "")
            if v in ("", None):
                continue
            lines.append(f"{c} = {toml_value(v)}")
        lines.append("")
    # Pool: capital structure sums to the pool's collateral.
    total = sum(funded(d) for d in DEALS if d["id"] in POOL)
    senior = round(total * 0.65, -3)
    mezz = round(total * 0.15, -3)
    equity = total - senior - mezz
    lines += [
        "[[pools]]",
        'id = "GPU-ABS-1"',
        "deal_ids = [" + ", ".join(f'"{i}"' for i in POOL) + "]",
        "senior_fee_bps = 25",
        "oc_trigger = 1.25",
        "",
        "[[pools.tranches]]", 'id = "A"', f"balance = {senior:.0f}", "coupon = 0.065",
        "discount_spread_bps = 150", "",
        "[[pools.tranches]]", 'id = "B"', f"balance = {mezz:.0f}", "coupon = 0.095",
        "discount_spread_bps = 400", "",
        "[[pools.tranches]]", 'id = "E"', f"balance = {equity:.0f}", "equity = true",
        "discount_spread_bps = 1200", "",
    ]
    direct = sum(funded(d) for d in DEALS if d["id"] in VAULT_DIRECT)
    buffer = round((direct + mezz + 0.5 * senior) * 0.30 / 0.70, -3)
    nav0 = buffer + direct + mezz + 0.5 * senior
    shares = round(nav0 / 1.05, -3)
    lines += [
        "[vault]",
        'id = "sAID"',
        f"shares = {shares:.0f}",
        f"liquidity_buffer = {buffer:.0f}",
        "tbill_rate = 0.042",
        "deal_ids = [" + ", ".join(f'"{i}"' for i in VAULT_DIRECT) + "]",
        "holdings = [",
        '  { pool_id = "GPU-ABS-1", tranche_id = "A", fraction = 0.5 },',
        '  { pool_id = "GPU-ABS-1", tranche_id = "B", fraction = 1.0 },',
        "]",
        "management_fee_bps = 25",
        "performance_fee = 0.15",
        "withdrawal_cycle_days = 30",
        "request_window_days = 7",
        "redemption_requests = 0.03",
        "confidence = 0.99",
        "liquidation_incentive = 0.05",
        "",
    ]
    (OUT / "sample.toml").write_text("\n".join(lines))
    with open(OUT / "sample_loan_tape.csv", "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for d in DEALS:
            if d["id"] in INLINE:
                continue
            f.write(",".join(str(d.get(c, "")) if d.get(c) is not None else "" for c in COLUMNS) + "\n")


if __name__ == "__main__":
    main()
