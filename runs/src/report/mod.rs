//! The risk report `report.html`, produced from a run's results (a fresh [`crate::RunOutput`]
//! or a stored [`crate::RunDir`]) so that every front serves the same page: one
//! self-contained file (inline CSS and SVG, no script, no network) with the tables and the
//! charts a risk team reads: portfolio loss distribution, tranche and deal expected losses,
//! the vault's NAV-per-share fan and deal collateral-ratio bands, plus sensitivities and
//! stress results when the run has them.

pub(crate) mod charts;
mod derivatives;
mod flags;
pub(crate) mod structure;
pub(crate) use structure::body as structure_body;

use charts::{bands, esc, hbars, histogram, Band, Line, PALETTE};
use flags::flags_section;
use gaib_pricing::{
    InstrumentValuation, McEstimate, MetricChange, Sensitivity, Valuation, FAN_LEVELS,
};
use std::fmt::Write;

/// How the run was made (shown in the report's header).
pub struct RunInfo {
    /// Seed of the random numbers.
    pub seed: u64,
    /// Backend name.
    pub backend: String,
}

/// One stress scenario's result: its label, description and the change of every metric.
pub struct StressColumn {
    /// Scenario name.
    pub label: String,
    /// What it does.
    pub description: String,
    /// Change of every metric against the base run.
    pub changes: Vec<MetricChange>,
    /// Each derivative's E\[PV\] under the scenario against the base run, in portfolio order
    /// (`stress.json`'s `derivatives`; empty without derivatives).
    pub derivatives: Vec<crate::DerivativeChange>,
}

/// Everything the report shows.
pub struct ReportInput<'a> {
    /// The base valuation.
    pub valuation: &'a Valuation,
    /// Run parameters.
    pub run: RunInfo,
    /// Bump-and-revalue results, if computed.
    pub sensitivities: &'a [Sensitivity],
    /// Stress results, if computed.
    pub stress: Vec<StressColumn>,
    /// The structure analysis saved into the run, if any (`gaib structure --save`).
    pub structure: Option<&'a crate::StructureFile>,
    /// The portfolio's derivatives (`results.json`'s `derivatives`; empty: no section).
    pub derivatives: &'a [crate::DerivativeResult],
    /// The comparison with and without hedges, when the portfolio hedges a fleet.
    pub hedges: Option<&'a crate::HedgeComparison>,
}

/// How the change cells are coloured (after the sensitivity and stress tables).
const CHANGE_LEGEND: &str = "<p class=\"note\">Red: the change hurts the holder of the \
    instrument or a lender against sAID (higher loss, PD, VaR, haircut, queue or lending \
    horizon; lower price, NAV or LTV). Green: it helps. Uncoloured: no change, or neither \
    (yields).</p>";

/// Largest collateral ratio drawn in the collateral chart.
const RATIO_CAP: f64 = 5.0;

/// `x` with `d` decimals, or "–" when not finite.
pub fn num(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:.d$}")
    } else {
        "–".into()
    }
}

/// [`num`] of an optional value ("–" when absent).
pub fn opt(x: Option<f64>, d: usize) -> String {
    x.map_or_else(|| "–".into(), |v| num(v, d))
}

fn pm(e: &McEstimate, d: usize) -> String {
    format!("{} ± {}", num(e.value, d), num(e.std_error, d))
}

/// `x` with an explicit sign and `d` decimals, or "–" when not finite.
pub fn signed(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:+.d$}")
    } else {
        "–".into()
    }
}

fn loss_q(i: &InstrumentValuation, level: f64) -> f64 {
    i.loss_quantiles_pct
        .iter()
        .find(|q| (q.level - level).abs() < 1e-12)
        .map_or(f64::NAN, |q| q.value)
}

/// Keys shown in the sensitivity table (every tranche's price and EL, the portfolio's EL and
/// VaR 99 %, the vault's haircut and LTV).
pub fn headline(key: &str) -> bool {
    (key.contains('/') && (key.ends_with(" price") || key.ends_with(" EL")))
        || key == "portfolio EL"
        || key == "portfolio VaR 99%"
        || key.ends_with(" haircut")
        || key.ends_with(" recommended LTV")
}

pub(crate) const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;line-height:1.4}\
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}\
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}\
figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555;max-width:760px}\
.note{font-size:.85rem;color:#555}td.adverse{color:#b00;background:#fdecea}\
td.favourable{color:#176b2c;background:#e9f6ec}\
.flags{border:1px solid #e0b400;background:#fff8e1;padding:.4rem 1rem}.flags li{margin:.2rem 0}\
details summary{cursor:pointer;font-size:.9rem;color:#0072B2}";

fn html_table(header: &[String], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<(String, &str)>> = rows
        .iter()
        .map(|r| r.iter().map(|c| (c.clone(), "")).collect())
        .collect();
    html_table_classed(header, &rows)
}

/// A table whose cells carry a CSS class each ("" for none).
fn html_table_classed(header: &[String], rows: &[Vec<(String, &str)>]) -> String {
    let mut s = String::from("<table><thead><tr>");
    for h in header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s += "</tr></thead><tbody>";
    for r in rows {
        s += "<tr>";
        for (c, class) in r {
            if class.is_empty() {
                let _ = write!(s, "<td>{}</td>", esc(c));
            } else {
                let _ = write!(s, "<td class=\"{class}\">{}</td>", esc(c));
            }
        }
        s += "</tr>";
    }
    s + "</tbody></table>"
}

/// A change of metric `key` as a table cell, classed by whether it hurts the holder or the
/// lender ([`gaib_pricing::higher_is_adverse`]), not by its sign.
fn change_cell(key: &str, change: Option<f64>) -> (String, &'static str) {
    let Some(c) = change else {
        return ("–".into(), "");
    };
    let class = match gaib_pricing::higher_is_adverse(key) {
        _ if c == 0.0 || !c.is_finite() => "",
        Some(worse_up) if worse_up == (c > 0.0) => "adverse",
        Some(_) => "favourable",
        None => "",
    };
    (signed(c, 3), class)
}

fn instrument_rows(list: &[InstrumentValuation]) -> Vec<Vec<String>> {
    list.iter()
        .map(|i| {
            vec![
                i.id.clone(),
                num(i.notional_usd, 0),
                pm(&i.price_pct, 3),
                pm(&i.expected_loss_pct, 3),
                num(i.pd_pct.value, 2),
                num(i.pd_1y_pct.value, 2),
                num(i.expected_loss_1y_pct.value, 3),
                num(i.loss_probability_pct.value, 2),
                opt(i.lgd_pct.map(|l| l.value), 1),
                opt(i.wal_years, 2),
                opt(i.yield_pct, 3),
                opt(i.modified_duration_years, 2),
                num(loss_q(i, 0.99), 1),
            ]
        })
        .collect()
}

fn instrument_header() -> Vec<String> {
    [
        "instrument",
        "notional USD",
        "price % par (± se)",
        "EL % (± se)",
        "PD %",
        "PD 1y %",
        "EL 1y %",
        "P[loss>0] %",
        "LGD %",
        "WAL y",
        "yield %",
        "mod. duration y",
        "loss q99 %",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn figure(id: &str, svg: String, caption: &str) -> String {
    format!(
        "<figure id=\"{}\">{svg}<figcaption>{}</figcaption></figure>",
        esc(id),
        esc(caption)
    )
}

/// Renders `report.html` (deterministic: no timestamps): a header, then one section per
/// part of the valuation.
pub fn render(r: &ReportInput<'_>) -> String {
    let v = r.valuation;
    let mut s = String::with_capacity(256 * 1024);
    s += &header(r);
    s += &flags_section(v);
    s += &tranches_section(v);
    s += &portfolio_section(v);
    s += &vault_section(v);
    s += &collateral_section(v);
    s += &deals_section(v);
    s += &sensitivities_section(r);
    s += &stress_section(r);
    s += &derivatives::section(r.derivatives, r.hedges);
    s += &structure::section(r.structure);
    s += "<p class=\"note\">Generated by gaib. Self-contained: no scripts, no network.</p></body></html>\n";
    s
}

/// The title, run parameters and how to read the report.
fn header(r: &ReportInput<'_>) -> String {
    let mut s = String::new();
    let v = r.valuation;
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>gaib risk report — {id}</title><style>{CSS}</style></head><body>\
         <h1>gaib risk report — {id}</h1>\
         <p>Valuation date <b>{as_of}</b> · {paths} Monte Carlo paths · seed {seed} · backend {backend} · \
         model version {mv} · horizon {months} months · gaib {ver}</p>",
        id = esc(&v.portfolio_id),
        as_of = v.as_of,
        paths = v.paths,
        seed = r.run.seed,
        backend = esc(&r.run.backend),
        mv = esc(&v.model_version),
        months = v.months,
        ver = env!("CARGO_PKG_VERSION"),
    );
    s += "<p class=\"note\">How to read it: prices are E[PV] as a percent of the original \
          balance, discounted on the portfolio's zero curve plus each instrument's spread; \
          every mean carries its Monte Carlo standard error (± se), so a difference smaller \
          than about two standard errors is noise. EL is the expected loss as a percent of the \
          original balance; PD the probability of a default event by the horizon (a deal's \
          payment, refinancing or credit default; a tranche's write-down or senior interest \
          default), PD 1y and EL 1y the same for a first default in months 1–12 (IFRS 9 stage \
          1, CECL); P[loss>0] the probability of any loss; LGD = EL / PD. Yield is the \
          continuously compounded IRR of the expected cash flows at the model price, so yield \
          minus the curve is the spread the model price implies. VaR and ES are quantiles and \
          tail means of the portfolio loss (Σ deal losses / Σ funded).</p>";
    s
}

/// The tranche table and the expected-loss bars of tranches and deals.
fn tranches_section(v: &Valuation) -> String {
    let mut s = String::new();
    // Tranches and deals.
    s += "<h2 id=\"tranches\">Tranches</h2>";
    s += &html_table(&instrument_header(), &instrument_rows(&v.tranches));
    let mut bars: Vec<(String, f64, f64)> = v
        .tranches
        .iter()
        .chain(&v.deals)
        .map(|i| {
            (
                i.id.clone(),
                i.expected_loss_pct.value,
                i.expected_loss_pct.std_error,
            )
        })
        .collect();
    bars.truncate(60);
    s += &figure(
        "fig-tranche-loss",
        hbars(
            "svg-tranche-loss",
            "Expected loss by tranche and deal",
            "expected loss (% of original balance)",
            &bars,
        ),
        "Expected loss of each tranche (blue, pool/tranche) and deal (green); whiskers are \
         95 % Monte Carlo intervals. Senior tranches should lose least; a junior tranche that \
         loses less than a senior one means the waterfall or the inputs are wrong.",
    );
    s
}

/// The portfolio loss: VaR/ES table and loss histogram.
fn portfolio_section(v: &Valuation) -> String {
    let mut s = String::new();
    // Portfolio.
    s += "<h2 id=\"portfolio\">Portfolio loss</h2>";
    let rows: Vec<Vec<String>> = v
        .portfolio
        .tail
        .iter()
        .map(|t| {
            vec![
                format!("{} %", 100.0 * t.confidence),
                num(t.var_pct, 3),
                format!(
                    "[{}, {}]",
                    num(t.var_ci95_pct[0], 3),
                    num(t.var_ci95_pct[1], 3)
                ),
                num(t.var_usd, 0),
                num(t.es_pct, 3),
                num(t.es_usd, 0),
            ]
        })
        .collect();
    let _ = write!(
        s,
        "<p>Funded {} USD · expected loss {} % ({} USD) · expected defaults per path {} · \
         quantile resolution {} %.</p>",
        num(v.portfolio.funded_usd, 0),
        pm(&v.portfolio.expected_loss_pct, 3),
        num(v.portfolio.expected_loss_usd.value, 0),
        pm(&v.portfolio.expected_defaults, 3),
        num(v.portfolio.resolution_pct, 3)
    );
    s += &html_table(
        &[
            "confidence",
            "VaR %",
            "VaR 95 % CI",
            "VaR USD",
            "ES %",
            "ES USD",
        ]
        .map(String::from),
        &rows,
    );
    let markers: Vec<(f64, String)> = v
        .portfolio
        .tail
        .iter()
        .map(|t| (t.var_pct, format!("VaR {} %", 100.0 * t.confidence)))
        .collect();
    s += &figure(
        "fig-loss-histogram",
        histogram(
            "svg-loss-histogram",
            "Portfolio loss distribution",
            "portfolio loss (% of funded)",
            &v.portfolio.loss_histogram_pct,
            &markers,
            false,
        ),
        "Probability of each portfolio loss bucket; dashed lines mark the VaR levels. Mass far \
         to the right of the expected loss is the tail the tranches' subordination must absorb.",
    );
    s += "<details id=\"loss-histogram-log\"><summary>Show the same distribution on a \
          log-probability scale (the tail)</summary>";
    s += &figure(
        "fig-loss-histogram-log",
        histogram(
            "svg-loss-histogram-log",
            "Portfolio loss distribution (log-probability scale)",
            "portfolio loss (% of funded)",
            &v.portfolio.loss_histogram_pct,
            &markers,
            true,
        ),
        "The same buckets with the probability on a log scale: each grid line is ten times \
         less likely than the one above it, so buckets of one path in a million stay visible. \
         Empty buckets are not drawn.",
    );
    s += "</details>";
    s
}

/// The vault: NAV, haircut, LTV, queue, and the NAV fan chart.
fn vault_section(v: &Valuation) -> String {
    let mut s = String::new();
    // Vault.
    if let Some(vr) = &v.vault {
        s += "<h2 id=\"vault\">Vault</h2>";
        let q = |level: f64| {
            vr.nav_quantiles_usd
                .iter()
                .find(|x| (x.level - level).abs() < 1e-12)
                .map_or(f64::NAN, |x| x.value)
        };
        let rows = vec![
            vec![
                "NAV per share at t = 0 (USD)".into(),
                num(vr.nav0_per_share_usd, 6),
            ],
            vec![
                format!("unstaking NAV per share at day {} (USD)", vr.horizon_days),
                pm(&vr.nav_per_share_usd, 6),
            ],
            vec![
                "staking NAV per share (USD)".into(),
                pm(&vr.staking_nav_per_share_usd, 6),
            ],
            vec![
                "NAV per share q1 % / q5 % / q50 %".into(),
                format!(
                    "{} / {} / {}",
                    num(q(0.01), 6),
                    num(q(0.05), 6),
                    num(q(0.5), 6)
                ),
            ],
            vec![
                "lending horizon (time a lender needs to exit sAID)".into(),
                format!(
                    "{} days — {}",
                    vr.lending_horizon.days, vr.lending_horizon.explanation
                ),
            ],
            vec![
                format!(
                    "haircut at {} %, month {} (95 % CI)",
                    100.0 * vr.confidence,
                    vr.lending_horizon.month
                ),
                format!(
                    "{} % [{}, {}]{}",
                    num(vr.haircut_pct, 3),
                    num(vr.haircut_ci95_pct[0], 3),
                    num(vr.haircut_ci95_pct[1], 3),
                    if vr.haircut_unfloored_pct < 0.0 {
                        format!(
                            " (floored at 0: the {} % tail gains {} %)",
                            100.0 * vr.confidence,
                            num(-vr.haircut_unfloored_pct, 3)
                        )
                    } else {
                        String::new()
                    }
                ),
            ],
            vec![
                "liquidation incentive %".into(),
                num(vr.liquidation_incentive_pct, 2),
            ],
            vec!["recommended LTV %".into(), num(vr.recommended_ltv_pct, 2)],
            vec![
                "P[queue not cleared in 1 / 2 / 3 cycles] %".into(),
                vr.p_queue_not_cleared_pct
                    .iter()
                    .map(|e| pm(e, 2))
                    .collect::<Vec<_>>()
                    .join(" / "),
            ],
            vec![
                "largest queue, % of shares (mean)".into(),
                pm(&vr.max_queue_pct, 2),
            ],
        ];
        s += &html_table(&["vault ".to_string() + &vr.id, "value".into()], &rows);
        let months: Vec<f64> = vr.fan.iter().map(|p| f64::from(p.month)).collect();
        let col = |j: usize| -> Vec<f64> { vr.fan.iter().map(|p| p.quantiles_usd[j]).collect() };
        let (q05, q25, q50, q75, q95) = (col(0), col(1), col(2), col(3), col(4));
        debug_assert_eq!(FAN_LEVELS.len(), 5);
        let mean: Vec<f64> = vr.fan.iter().map(|p| p.mean_usd).collect();
        s += &figure(
            "fig-nav-fan",
            bands(
                (
                    "svg-nav-fan",
                    "sAID unstaking NAV per share over time",
                    "month",
                    "NAV per share (USD)",
                ),
                &months,
                &[
                    Band {
                        lo: &q05,
                        hi: &q95,
                        colour: PALETTE[0],
                        opacity: 0.22,
                        label: "5–95 % band".into(),
                    },
                    Band {
                        lo: &q25,
                        hi: &q75,
                        colour: PALETTE[0],
                        opacity: 0.45,
                        label: "25–75 % band".into(),
                    },
                ],
                &[
                    Line {
                        y: &q50,
                        colour: PALETTE[0],
                        dashed: false,
                        label: "median".into(),
                    },
                    Line {
                        y: &mean,
                        colour: PALETTE[1],
                        dashed: true,
                        label: "mean".into(),
                    },
                ],
                Some((
                    f64::from(vr.lending_horizon.month),
                    format!("lending horizon ({} days)", vr.lending_horizon.days),
                )),
            ),
            "Fan chart of the unstaking NAV per share (the redemption and collateral price): \
             shaded 5–95 % (light) and 25–75 % (dark) bands, median and mean. The haircut is \
             read at the marked lending horizon, the time a lender needs to exit through the \
             redemption queue: a lender advancing the recommended LTV against sAID stays \
             covered unless NAV falls below the lower tail.",
        );
    }
    s
}

/// Deal collateral ratios: the four weakest deals' bands and a table of all.
fn collateral_section(v: &Valuation) -> String {
    let mut s = String::new();
    // Collateral ratios.
    if !v.collateral.is_empty() {
        s += "<h2 id=\"collateral\">Deal collateral ratios</h2>";
        let mut order: Vec<usize> = (0..v.collateral.len()).collect();
        let min_mean = |i: usize| {
            let c = &v.collateral[i];
            c.mean
                .iter()
                .zip(&c.performing_paths)
                .filter(|(_, n)| **n > 0)
                .map(|(m, _)| *m)
                .fold(f64::INFINITY, f64::min)
        };
        order.sort_by(|&a, &b| min_mean(a).total_cmp(&min_mean(b)));
        let months: Vec<f64> = (1..=v.months).map(f64::from).collect();
        let shown: Vec<usize> = order.iter().copied().take(4).collect();
        let series: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = shown
            .iter()
            .map(|&i| {
                let c = &v.collateral[i];
                // Ratios explode as balances amortise to zero: show each deal until its
                // mean ratio first exceeds RATIO_CAP.
                let cap = |x: f64| x.min(RATIO_CAP);
                let mut alive = true;
                let m: Vec<f64> = c
                    .mean
                    .iter()
                    .zip(&c.performing_paths)
                    .map(|(x, n)| {
                        alive &= *n > 0 && *x <= RATIO_CAP;
                        if alive {
                            *x
                        } else {
                            f64::NAN
                        }
                    })
                    .collect();
                // 5–95 % quantile bands (resolution 0.05): never below 0, unlike mean ± sd.
                let edge = |qs: &[f64]| -> Vec<f64> {
                    m.iter()
                        .enumerate()
                        .map(|(k, x)| match qs.get(k) {
                            Some(q) if x.is_finite() => cap(*q),
                            _ => f64::NAN,
                        })
                        .collect()
                };
                let (lo, hi) = (edge(&c.q05), edge(&c.q95));
                (m, lo, hi)
            })
            .collect();
        // Bands only where every edge is finite (the deal still performs).
        let until = |m: &Vec<f64>| m.iter().take_while(|x| x.is_finite()).count();
        let band_list: Vec<Band<'_>> = series
            .iter()
            .zip(&shown)
            .enumerate()
            .map(|(j, ((m, lo, hi), &i))| {
                let n = until(m);
                Band {
                    lo: &lo[..n],
                    hi: &hi[..n],
                    colour: PALETTE[j % PALETTE.len()],
                    opacity: 0.15,
                    label: format!("{} 5–95 %", v.collateral[i].deal_id),
                }
            })
            .collect();
        let line_list: Vec<Line<'_>> = series
            .iter()
            .enumerate()
            .map(|(j, (m, _, _))| Line {
                y: &m[..until(m)],
                colour: PALETTE[j % PALETTE.len()],
                dashed: false,
                label: String::new(),
            })
            .collect();
        s += &figure(
            "fig-collateral",
            bands(
                (
                    "svg-collateral",
                    "Collateral ratio of the four weakest deals",
                    "month",
                    "(hardware after haircut + DSRA) / outstanding",
                ),
                &months,
                &band_list,
                &line_list,
                None,
            ),
            "Mean collateral ratio over the paths on which each deal still performs, with \
             its 5–95 % band across those paths, for the four deals whose mean ratio falls \
             lowest, each shown until its mean ratio exceeds 5 (balances near zero; band edges \
             above 5 are drawn at 5). Below 1 the hardware no longer covers the balance.",
        );
        let rows: Vec<Vec<String>> = order
            .iter()
            .map(|&i| {
                let c = &v.collateral[i];
                vec![
                    c.deal_id.clone(),
                    pm(&c.first_month, 3),
                    num(min_mean(i), 3),
                ]
            })
            .collect();
        s += &html_table(
            &["deal", "ratio month 1 (± se)", "lowest monthly mean"].map(String::from),
            &rows,
        );
    }
    s
}

/// The deal table.
fn deals_section(v: &Valuation) -> String {
    let mut s = String::new();
    s += "<h2 id=\"deals\">Deals</h2>";
    s += &html_table(&instrument_header(), &instrument_rows(&v.deals));
    s
}

/// Sensitivities (when computed): headline metrics × bumps.
fn sensitivities_section(r: &ReportInput<'_>) -> String {
    let mut s = String::new();
    let v = r.valuation;
    if !r.sensitivities.is_empty() {
        s += "<h2 id=\"sensitivities\">Sensitivities</h2><p class=\"note\">Bump and revalue \
              with common random numbers (same seed and paths): each column is the change of \
              the metric when one input is bumped in the adverse direction.</p>";
        let mut header = vec!["metric".to_string(), "base".to_string()];
        header.extend(r.sensitivities.iter().map(|b| b.description.clone()));
        let rows: Vec<Vec<(String, &str)>> = gaib_pricing::metrics(v)
            .into_iter()
            .filter(|m| headline(&m.key))
            .map(|m| {
                let mut row = vec![
                    (format!("{} ({})", m.key, m.unit), ""),
                    (num(m.value, 3), ""),
                ];
                for b in r.sensitivities {
                    let c = b.changes.iter().find(|c| c.key == m.key);
                    row.push(change_cell(&m.key, c.map(|c| c.change)));
                }
                row
            })
            .collect();
        s += &html_table_classed(&header, &rows);
        s += CHANGE_LEGEND;
    }
    s
}

/// Stress scenarios (when computed): every metric × scenarios.
fn stress_section(r: &ReportInput<'_>) -> String {
    let mut s = String::new();
    let v = r.valuation;
    if !r.stress.is_empty() {
        s += "<h2 id=\"stress\">Stress scenarios</h2><ul>";
        for c in &r.stress {
            let _ = write!(
                s,
                "<li><b>{}</b>: {}</li>",
                esc(&c.label),
                esc(&c.description)
            );
        }
        s += "</ul>";
        let mut header = vec!["metric".to_string(), "base".to_string()];
        header.extend(r.stress.iter().map(|c| format!("{} (Δ)", c.label)));
        let mut rows: Vec<Vec<(String, &str)>> = gaib_pricing::metrics(v)
            .into_iter()
            .map(|m| {
                let mut row = vec![
                    (format!("{} ({})", m.key, m.unit), ""),
                    (num(m.value, 3), ""),
                ];
                for c in &r.stress {
                    let ch = c.changes.iter().find(|x| x.key == m.key);
                    row.push(change_cell(&m.key, ch.map(|x| x.change)));
                }
                row
            })
            .collect();
        rows.extend(stress_derivative_rows(&r.stress));
        s += &html_table_classed(&header, &rows);
        s += CHANGE_LEGEND;
        if r.stress.iter().any(|c| !c.derivatives.is_empty()) {
            s += "<p class=\"note\">Derivatives: E[PV] to the holder, USD, on the same paths; \
                  green when the scenario raises it (the holder gains), red when it lowers it.</p>";
        }
    }
    s
}

/// One row per derivative of the stress table: its base E\[PV\] (USD) and its change under
/// each scenario, coloured from the holder's side (a rise helps it).
fn stress_derivative_rows(stress: &[StressColumn]) -> Vec<Vec<(String, &'static str)>> {
    let Some(first) = stress.first() else {
        return Vec::new();
    };
    first
        .derivatives
        .iter()
        .map(|d| {
            let mut row = vec![
                (format!("derivative {} E[PV] (USD)", d.id), ""),
                (num(d.base_usd, 0), ""),
            ];
            for c in stress {
                let change = c
                    .derivatives
                    .iter()
                    .find(|x| x.id == d.id)
                    .map(|x| x.change_usd);
                row.push(match change {
                    Some(ch) if ch.is_finite() => {
                        let class = if ch > 0.0 {
                            "favourable"
                        } else if ch < 0.0 {
                            "adverse"
                        } else {
                            ""
                        };
                        (signed(ch, 0), class)
                    }
                    _ => ("–".into(), ""),
                });
            }
            row
        })
        .collect()
}
