//! The calibration page: one self-contained HTML file with inline SVG (no scripts, no
//! network), deterministic for a given calibration.
//!
//! Charts are written by hand like runs/src/report/charts.rs (the market crate sits below
//! the run layer and cannot use it): a price chart (observed, fitted trend with filtered
//! jumps, out-of-sample 50/90 % one-step-ahead bands), a QQ plot of the PIT residuals and the
//! forward fit. Every chart is an `<svg>` with a `<title>` and an `id`.

use crate::calibrate::{Calibration, ClassCalibration, Estimate, StdErrorMethod};
use statrs::distribution::{ContinuousCDF, Normal};
use std::fmt::Write;

/// Escapes text for HTML and SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.warn{color:#a40}.note{color:#555;font-size:.9em}\
svg{display:block;margin:.5em 0}figcaption{font-size:.9em;color:#555}";

const W: f64 = 760.0;
const H: f64 = 300.0;
const L: f64 = 60.0;
const R: f64 = 20.0;
const T: f64 = 30.0;
const B: f64 = 40.0;

/// Maps data to pixels.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn new(x: (f64, f64), y: (f64, f64)) -> Self {
        let fix = |r: (f64, f64)| {
            if (r.1 - r.0).abs() < 1e-12 || !r.0.is_finite() || !r.1.is_finite() {
                (0.0, 1.0)
            } else {
                r
            }
        };
        Frame {
            x: fix(x),
            y: fix(y),
        }
    }
    fn px(&self, v: f64) -> f64 {
        L + (v - self.x.0) / (self.x.1 - self.x.0) * (W - L - R)
    }
    fn py(&self, v: f64) -> f64 {
        H - B - (v - self.y.0) / (self.y.1 - self.y.0) * (H - T - B)
    }
    fn path(&self, pts: impl Iterator<Item = (f64, f64)>) -> String {
        let mut s = String::new();
        for (i, (x, y)) in pts.enumerate() {
            let _ = write!(
                s,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { " L" },
                self.px(x),
                self.py(y)
            );
        }
        s
    }
}

fn range(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = v
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    let pad = 0.05 * (hi - lo).abs().max(1e-9);
    (lo - pad, hi + pad)
}

fn open(id: &str, title: &str) -> String {
    format!(
        "<svg id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\"><title>{}</title>\
         <text x=\"{L}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        esc(id),
        esc(title),
        esc(title)
    )
}

/// Axes with 5 ticks on y and labels at the ends of x.
fn axes(f: &Frame, x_lab: (&str, &str), x_name: &str, y_name: &str) -> String {
    let mut s = format!(
        "<rect x=\"{L}\" y=\"{T}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        W - L - R,
        H - T - B
    );
    for i in 0..=4 {
        let v = f.y.0 + (f.y.1 - f.y.0) * f64::from(i) / 4.0;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{v:.3}</text>",
            L - 4.0,
            f.py(v) + 4.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"{L}\" y=\"{:.1}\" font-size=\"11\">{}</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\
         <text x=\"12\" y=\"{:.1}\" font-size=\"11\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>",
        H - B + 15.0,
        esc(x_lab.0),
        W - R,
        H - B + 15.0,
        esc(x_lab.1),
        (W + L - R) / 2.0,
        H - 6.0,
        esc(x_name),
        H / 2.0,
        H / 2.0,
        esc(y_name)
    );
    s
}

fn legend(items: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (i, (label, colour)) in items.iter().enumerate() {
        let x = L + 10.0 + 180.0 * i as f64;
        let _ = write!(
            s,
            "<rect x=\"{x:.0}\" y=\"{:.0}\" width=\"12\" height=\"8\" fill=\"{colour}\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\">{}</text>",
            T + 6.0,
            x + 16.0,
            T + 14.0,
            esc(label)
        );
    }
    s
}

/// Observed vs fitted, with the out-of-sample one-step-ahead bands, from observation `from`
/// on (0: the whole history; the holdout start: a zoom on the bands).
fn price_chart(c: &ClassCalibration, from: usize, id: &str, title: &str) -> String {
    let ch = &c.chart;
    let n = ch.dates.len();
    let from = from.min(n.saturating_sub(2));
    let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let f = Frame::new(
        (from as f64, (n.max(2) - 1) as f64),
        range(
            ch.prices[from..]
                .iter()
                .chain(&ch.fitted[from..])
                .copied()
                .chain(ch.bands.iter().flat_map(|b| [b[0], b[3]])),
        ),
    );
    let mut s = open(id, title);
    let band = |lo: usize, hi: usize, colour: &str| -> String {
        if ch.bands.is_empty() {
            return String::new();
        }
        let h0 = ch.holdout_start;
        let up = ch.bands.iter().enumerate().map(|(k, b)| (x[h0 + k], b[hi]));
        let down: Vec<(f64, f64)> = ch
            .bands
            .iter()
            .enumerate()
            .map(|(k, b)| (x[h0 + k], b[lo]))
            .rev()
            .collect();
        format!(
            "<path d=\"{} Z\" fill=\"{colour}\" stroke=\"none\"/>",
            f.path(up.chain(down))
        )
    };
    s += &band(0, 3, "#cfe3f3");
    s += &band(1, 2, "#8fbfe0");
    let _ = write!(
        s,
        "<path d=\"{}\" fill=\"none\" stroke=\"#D55E00\" stroke-width=\"1.2\"/>\
         <path d=\"{}\" fill=\"none\" stroke=\"#222\" stroke-width=\"0.8\"/>",
        f.path(
            x[from..]
                .iter()
                .copied()
                .zip(ch.fitted[from..].iter().copied())
        ),
        f.path(
            x[from..]
                .iter()
                .copied()
                .zip(ch.prices[from..].iter().copied())
        ),
    );
    if ch.holdout_start < n && ch.holdout_start > from {
        let hx = f.px(x[ch.holdout_start]);
        let _ = write!(
            s,
            "<line x1=\"{hx:.1}\" x2=\"{hx:.1}\" y1=\"{T}\" y2=\"{:.1}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>",
            H - B
        );
    }
    s += &axes(
        &f,
        (
            &ch.dates
                .get(from)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            &ch.dates.last().map(|d| d.to_string()).unwrap_or_default(),
        ),
        "date",
        "USD per GPU-hour",
    );
    s += &legend(&[
        ("observed", "#222"),
        ("trend with filtered jumps", "#D55E00"),
        ("out-of-sample 90 % band", "#cfe3f3"),
        ("50 % band", "#8fbfe0"),
    ]);
    s + "</svg>"
}

/// Normal QQ plot of the PIT residuals.
fn qq_chart(c: &ClassCalibration) -> String {
    let mut r: Vec<f64> = c.chart.pit.clone();
    r.sort_by(f64::total_cmp);
    let n = r.len();
    let norm = Normal::new(0.0, 1.0).expect("standard normal");
    let q: Vec<f64> = (0..n)
        .map(|i| norm.inverse_cdf((i as f64 + 0.5) / n as f64))
        .collect();
    let lim = range(q.iter().chain(&r).copied());
    let f = Frame::new(lim, lim);
    let mut s = open(
        &format!("qq-{}", c.class),
        &format!("{}: QQ plot of the one-step PIT residuals", c.class),
    );
    let _ = write!(
        s,
        "<path d=\"{}\" stroke=\"#999\" fill=\"none\"/>",
        f.path([(lim.0, lim.0), (lim.1, lim.1)].into_iter())
    );
    for (a, b) in q.iter().zip(&r) {
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"1.6\" fill=\"#0072B2\"/>",
            f.px(*a),
            f.py(*b)
        );
    }
    s += &axes(
        &f,
        (&format!("{:.1}", lim.0), &format!("{:.1}", lim.1)),
        "standard normal quantile",
        "residual quantile",
    );
    s + "</svg>"
}

/// Forward curve vs the model's E[P(t)].
fn forward_chart(c: &ClassCalibration) -> String {
    let Some(ff) = &c.forward_fit else {
        return String::new();
    };
    let tn = &ff.fit.tenors;
    let f = Frame::new(
        range(tn.iter().map(|t| f64::from(t.tenor_months)).chain([0.0])),
        range(
            tn.iter()
                .flat_map(|t| [t.forward, t.model])
                .chain([ff.spot]),
        ),
    );
    let mut s = open(
        &format!("forward-{}", c.class),
        &format!(
            "{}: forward curve of {} vs the model's E[P(t)]",
            c.class, ff.as_of
        ),
    );
    let model = std::iter::once((0.0, ff.spot))
        .chain(tn.iter().map(|t| (f64::from(t.tenor_months), t.model)));
    let _ = write!(
        s,
        "<path d=\"{}\" fill=\"none\" stroke=\"#D55E00\" stroke-width=\"1.5\"/>",
        f.path(model)
    );
    for t in tn {
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#222\"/>",
            f.px(f64::from(t.tenor_months)),
            f.py(t.forward)
        );
    }
    s += &axes(
        &f,
        (&format!("{:.0}", f.x.0), &format!("{:.0}", f.x.1)),
        "tenor (months)",
        "USD per GPU-hour",
    );
    s += &legend(&[("quoted forward", "#222"), ("model E[P(t)]", "#D55E00")]);
    s + "</svg>"
}

fn pm(e: &Estimate, d: usize) -> String {
    match e.std_error {
        Some(se) => format!("{:.d$} ± {:.d$}", e.value, se),
        None => format!("{:.d$} (no s.e.)", e.value),
    }
}

/// How the class's standard errors were computed, with the observed-information ones for
/// comparison when they are not the ones shown.
fn std_error_note(c: &ClassCalibration) -> String {
    let r = &c.std_errors;
    match r.method {
        StdErrorMethod::Observed => {
            "<p>Standard errors: inverse observed information (asymptotic; kappa's is the MLE's).</p>".into()
        }
        StdErrorMethod::Bootstrap { replicates, seed } => {
            let obs: Vec<String> = r
                .observed
                .iter()
                .filter(|(k, _)| k.as_str() != "log_level")
                .map(|(k, v)| match v {
                    Some(v) => format!("{k} {v:.4}"),
                    None => format!("{k} —"),
                })
                .collect();
            format!(
                "<p>Standard errors: parametric bootstrap, {replicates} histories simulated from the estimates (seed {seed}; {} used, {} with jumps) and re-estimated by the whole estimator (a drift fitted to a forward curve keeps the regression standard error of its fit). Observed-information standard errors, for comparison: {}.</p>",
                r.replicates_used.unwrap_or(0),
                r.replicates_with_jumps.unwrap_or(0),
                esc(&obs.join(", "))
            )
        }
    }
}

fn class_section(c: &ClassCalibration) -> String {
    let mut s = format!(
        "<h2 id=\"class-{id}\">{id}</h2><p>{n} observations, {a} to {b} ({y:.2} years, median step {st} days). price0 = {p0:.4} USD per GPU-hour; drift from the {src}.</p>",
        id = esc(&c.class),
        n = c.observations,
        a = c.first_date,
        b = c.last_date,
        y = c.years,
        st = c.median_step_days,
        p0 = c.price0_per_gpu_hour,
        src = esc(&c.drift_source),
    );
    s += "<table><tr><th>parameter</th><th>estimate ± s.e.</th><th>unit</th></tr>";
    let rows = [
        ("drift", pm(&c.drift, 4), "per year"),
        ("historical drift", pm(&c.historical_drift, 4), "per year"),
        ("kappa (bias-corrected)", pm(&c.kappa, 3), "per year"),
        (
            "kappa (MLE)",
            c.kappa_mle.map_or("—".into(), |k| format!("{k:.3}")),
            "per year",
        ),
        ("sigma", pm(&c.sigma, 4), "per sqrt-year"),
        ("jump_intensity", pm(&c.jump_intensity, 3), "per year"),
        ("jump_mean", pm(&c.jump_mean, 4), "log size"),
        ("jump_std", pm(&c.jump_std, 4), "log size"),
    ];
    for (k, v, u) in rows {
        let _ = write!(s, "<tr><td>{k}</td><td>{}</td><td>{u}</td></tr>", esc(&v));
    }
    s += "</table>";
    s += &std_error_note(c);
    if let Some(cv) = &c.coverage {
        let _ = write!(
            s,
            "<p>Out-of-sample coverage of the one-step-ahead bands (fitted to {}, {} later observations): 50 % band <b>{:.1} %</b>, 90 % band <b>{:.1} %</b>.</p>",
            cv.fit_until,
            cv.observations,
            100.0 * cv.band50,
            100.0 * cv.band90
        );
    }
    if !c.jump_dates.is_empty() {
        let d: Vec<String> = c.jump_dates.iter().map(|d| d.to_string()).collect();
        let _ = write!(
            s,
            "<p>Jumps (posterior probability &gt; 1/2): {}.</p>",
            d.join(", ")
        );
    }
    for w in &c.warnings {
        let _ = write!(s, "<p class=\"warn\">warning: {}</p>", esc(w));
    }
    s += &format!(
        "<figure>{}<figcaption>Black: the index. Orange: the fitted trend exp(a + mu·t + Ĵ(t)) with the filtered jump level. Shaded, right of the dashed line: the 50 % and 90 % one-step-ahead bands of the model fitted to the data left of it.</figcaption></figure>",
        price_chart(
            c,
            0,
            &format!("price-{}", c.class),
            &format!("{}: observed index vs fitted", c.class)
        )
    );
    if !c.chart.bands.is_empty() {
        s += &format!(
            "<figure>{}<figcaption>The held-out last third alone: each day's 50 % and 90 % bands are predicted from the day before with the parameters fitted to the first two thirds.</figcaption></figure>",
            price_chart(
                c,
                c.chart.holdout_start,
                &format!("bands-{}", c.class),
                &format!("{}: out-of-sample one-step-ahead bands", c.class)
            )
        );
    }
    s += &format!(
        "<figure>{}<figcaption>Φ⁻¹ of each observation's one-step-ahead predictive CDF (jumps included), sorted, against normal quantiles: on the diagonal when the model fits.</figcaption></figure>",
        qq_chart(c)
    );
    if let Some(ff) = &c.forward_fit {
        s += &forward_chart(c);
        let _ = write!(
            s,
            "<p>Forward fit: drift {:.4} per year, RMSE {:.2} % over {} tenors (spot {:.4} on {}).</p><table><tr><th>tenor (months)</th><th>forward</th><th>model</th><th>error</th><th>error %</th></tr>",
            ff.fit.drift,
            ff.fit.rmse_pct,
            ff.fit.tenors.len(),
            ff.spot,
            ff.as_of
        );
        for t in &ff.fit.tenors {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:+.4}</td><td>{:+.2}</td></tr>",
                t.tenor_months, t.forward, t.model, t.error, t.error_pct
            );
        }
        s += "</table>";
    }
    s
}

/// Renders the calibration page.
pub fn render(cal: &Calibration) -> String {
    let mut s = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gaib calibration — {f}</title><style>{CSS}</style></head><body>\
         <h1>gaib calibration — {f}</h1><p>Parameters of MODEL.md §1 estimated from <b>{f}</b>{fw}. Estimates ± standard errors ({se}); docs/MARKET.md describes the estimators.</p>",
        se = esc(&cal.std_error_method.describe()),
        f = esc(&cal.history_file),
        fw = cal
            .forwards_file
            .as_ref()
            .map_or(String::new(), |f| format!(" and the forward curve <b>{}</b>", esc(f))),
    );
    for w in &cal.warnings {
        let _ = write!(s, "<p class=\"warn\">warning: {}</p>", esc(w));
    }
    if let Some(c) = &cal.correlation {
        let _ = write!(
            s,
            "<h2>Correlation of the diffusive shocks</h2><p>{} common dates without a likely jump{}.</p><table><tr><th></th>",
            c.observations,
            if c.adjusted {
                "; repaired to be positive definite"
            } else {
                ""
            }
        );
        for k in &c.classes {
            let _ = write!(s, "<th>{}</th>", esc(k));
        }
        s += "</tr>";
        for (i, k) in c.classes.iter().enumerate() {
            let _ = write!(s, "<tr><td>{}</td>", esc(k));
            for j in 0..c.classes.len() {
                let _ = write!(
                    s,
                    "<td>{:.3} ± {:.3}</td>",
                    c.matrix[i][j], c.std_errors[i][j]
                );
            }
            s += "</tr>";
        }
        s += "</table>";
    }
    for c in &cal.classes {
        s += &class_section(c);
    }
    s += "<p class=\"note\">Generated by gaib calibrate. Self-contained: no scripts, no network.</p></body></html>\n";
    s
}
