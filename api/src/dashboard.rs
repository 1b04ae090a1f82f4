//! `GET /`: a small self-contained dashboard page (inline CSS and SVG; no script, no external
//! asset): each asset's latest published NAV, haircut and LTV, a NAV-history chart per asset,
//! the valuations the publish guards held (with the reason), and the recent jobs with links to
//! their reports.

use crate::app::AppState;
use crate::db::{state, HoldRow, JobRow};
use crate::problem::Problem;
use crate::valuation::Valuation;
use std::fmt::Write;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(
        || t.to_string(),
        |d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2330;background:#fafbfc}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}\
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.3rem .7rem;border-bottom:1px solid #dde;text-align:left}\
th{background:#eef1f6}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.s-succeeded{color:#16703a}.s-failed{color:#b3261e}.s-running{color:#1a5fb4}.s-queued{color:#6b6b6b}.s-cancelled{color:#8a6d00}\
figure{margin:1rem 0}figcaption{font-size:.9rem;color:#555}svg{background:#fff;border:1px solid #dde}\
.muted{color:#777}";

/// A NAV-history line chart of one asset.
fn nav_chart(asset: &str, points: &[Valuation]) -> String {
    let (w, h, pad) = (640.0, 200.0, 40.0);
    let mut s = format!(
        "<figure id=\"nav-{a}\"><svg id=\"svg-nav-{a}\" xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"NAV per share of {a}\">",
        a = esc(asset)
    );
    let navs: Vec<f64> = points
        .iter()
        .map(|p| p.nav_per_share_usd)
        .filter(|x| x.is_finite())
        .collect();
    if navs.is_empty() {
        s.push_str("</svg><figcaption>no valuations</figcaption></figure>");
        return s;
    }
    let (lo, hi) = navs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let span = if hi > lo {
        hi - lo
    } else {
        hi.abs().max(1e-9) * 0.01
    };
    let (lo, hi) = (lo - span * 0.1, hi + span * 0.1);
    let n = navs.len();
    let x = |i: usize| {
        if n == 1 {
            w / 2.0
        } else {
            pad + (w - 2.0 * pad) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - lo) / (hi - lo);
    let _ = write!(
        s,
        "<line x1=\"{pad}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#99a\"/>\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{b}\" stroke=\"#99a\"/>\
         <text x=\"4\" y=\"{t}\" font-size=\"11\">{hi:.4}</text>\
         <text x=\"4\" y=\"{b}\" font-size=\"11\">{lo:.4}</text>",
        b = h - pad,
        r = w - pad,
        t = pad + 4.0,
    );
    let pts: Vec<String> = navs
        .iter()
        .enumerate()
        .map(|(i, &v)| format!("{:.1},{:.1}", x(i), y(v)))
        .collect();
    let _ = write!(
        s,
        "<polyline fill=\"none\" stroke=\"#1a5fb4\" stroke-width=\"2\" points=\"{}\"/>",
        pts.join(" ")
    );
    for (i, &v) in navs.iter().enumerate() {
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#1a5fb4\"><title>{v:.6}</title></circle>",
            x(i),
            y(v)
        );
    }
    let _ = write!(
        s,
        "</svg><figcaption>NAV per share of {} (USD), {} valuation{}, oldest first</figcaption></figure>",
        esc(asset),
        n,
        if n == 1 { "" } else { "s" }
    );
    s
}

fn jobs_table(s: &mut String, jobs: &[JobRow], live: &dyn Fn(&JobRow) -> i64) {
    s.push_str(
        "<table id=\"jobs\"><tr><th>job</th><th>state</th><th>paths done / total</th>\
         <th>created</th><th>report</th></tr>",
    );
    for j in jobs {
        let id = esc(&j.id);
        // A structure job lives under /v1/structures (its result is structure.json, it has no
        // report of its own); a simulation under /v1/simulations.
        let structure = crate::structure_jobs::is_structure(j);
        let status = if structure {
            format!("/v1/structures/{id}")
        } else {
            format!("/v1/simulations/{id}")
        };
        let report = if j.state == state::SUCCEEDED {
            if structure {
                format!("<a href=\"{status}/result\">structure</a>")
            } else {
                format!(
                    "<a href=\"{status}/report\">report</a> · \
                     <a href=\"{status}/results\">results</a>"
                )
            }
        } else {
            j.error
                .as_deref()
                .map(|e| format!("<span class=\"muted\">{}</span>", esc(e)))
                .unwrap_or_default()
        };
        let _ = write!(
            s,
            "<tr><td><a href=\"{status}\">{id}</a></td>\
             <td class=\"s-{st}\">{st}</td><td class=\"n\">{d} / {t}</td><td>{c}</td><td>{r}</td></tr>",
            st = esc(&j.state),
            d = live(j),
            t = j.paths_total,
            c = utc(j.created_at),
            r = report
        );
    }
    s.push_str("</table>");
}

/// The keeper's state of a valuation: published (round, transaction) or failing (attempts,
/// error, next retry).
fn publication_cell(st: &AppState, asset: &str, seq: i64) -> Result<String, Problem> {
    if !st.chain.as_ref().is_some_and(|c| c.publish) {
        return Ok("<span class=\"muted\">no keeper</span>".into());
    }
    Ok(match st.db.publication(asset, seq)? {
        None => "<span class=\"muted\">pending</span>".into(),
        Some(p) if p.status == "published" => format!(
            "<span class=\"s-succeeded\">round {} · tx {}</span>",
            p.round,
            esc(p.tx_hash.as_deref().unwrap_or(""))
        ),
        Some(p) => format!(
            "<span class=\"s-failed\">failed {} time{} (retry {}): {}</span>",
            p.attempts,
            if p.attempts == 1 { "" } else { "s" },
            utc(p.next_attempt_at),
            esc(p.error.as_deref().unwrap_or(""))
        ),
    })
}

/// The valuations the publish guards held, not yet released: published nowhere.
fn held_table(s: &mut String, holds: &[HoldRow]) {
    s.push_str("<h2>Held valuations</h2>");
    if holds.is_empty() {
        s.push_str("<p id=\"no-holds\">No valuation is held.</p>");
        return;
    }
    s.push_str(
        "<table id=\"holds\"><tr><th>seq</th><th>asset</th><th>job</th><th>reason</th>\
         <th>detail</th><th>held</th></tr>",
    );
    for h in holds {
        let _ = write!(
            s,
            "<tr><td class=\"n\">{}</td><td>{}</td>\
             <td><a href=\"/v1/simulations/{j}/report\">{j}</a></td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            h.valuation.seq,
            esc(&h.valuation.asset),
            esc(&h.reason),
            esc(&h.detail),
            utc(h.held_at),
            j = esc(&h.valuation.job_id),
        );
    }
    s.push_str("</table>");
}

/// The page.
pub fn render(st: &AppState) -> Result<String, Problem> {
    let latest = st.db.latest_valuations()?;
    let jobs = st.db.recent_jobs(20)?;
    let mut s = String::with_capacity(16 * 1024);
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>gaib valuation service</title><style>{CSS}</style></head><body>\
         <h1>gaib valuation service</h1>\
         <p class=\"muted\">gaib {} · the API is described at <a href=\"/openapi.json\">/openapi.json</a> · \
         <a href=\"/metrics\">metrics</a></p><h2>Assets</h2>",
        gaib_runs::VERSION
    );
    if latest.is_empty() {
        s.push_str("<p id=\"no-assets\">No valuation published yet: POST a portfolio with a vault and simulate it.</p>");
    } else {
        s.push_str(
            "<table id=\"assets\"><tr><th>asset</th><th>NAV per share (USD)</th>\
             <th>haircut</th><th>LTV</th><th>observed</th><th>valid until</th><th>run</th>\
             <th>on chain</th></tr>",
        );
        let mut charts = String::new();
        for row in &latest {
            let v: Valuation = serde_json::from_str(&row.record).map_err(Problem::internal)?;
            let _ = write!(
                s,
                "<tr><td>{a}</td><td class=\"n\">{nav:.6}</td><td class=\"n\">{h} bps</td>\
                 <td class=\"n\">{l} bps</td><td>{o}</td><td>{u}</td>\
                 <td><a href=\"/v1/simulations/{j}/report\">{r}…</a></td><td>{p}</td></tr>",
                a = esc(&v.asset),
                nav = v.nav_per_share_usd,
                h = v.haircut_bps,
                l = v.ltv_bps,
                o = utc(v.observed_at as i64),
                u = utc(v.valid_until as i64),
                j = esc(&v.job_id),
                r = esc(&v.run_id[..v.run_id.len().min(12)]),
                p = publication_cell(st, &row.asset, row.seq)?,
            );
            let hist = st.db.valuation_history(&v.asset, 0, i64::MAX, 1000)?;
            let points = hist
                .iter()
                .filter_map(|r| serde_json::from_str::<Valuation>(&r.record).ok())
                .collect::<Vec<_>>();
            charts.push_str(&nav_chart(&v.asset, &points));
        }
        s.push_str("</table><h2>NAV history</h2>");
        s.push_str(&charts);
    }
    held_table(&mut s, &st.db.open_holds(100)?);
    s.push_str("<h2>Recent jobs</h2>");
    if jobs.is_empty() {
        s.push_str("<p id=\"no-jobs\">No jobs yet.</p>");
    } else {
        let live = |j: &JobRow| {
            if j.state == state::RUNNING {
                st.jobs.progress(&j.id).map_or(j.paths_done, |d| d as i64)
            } else {
                j.paths_done
            }
        };
        jobs_table(&mut s, &jobs, &live);
    }
    s.push_str("</body></html>\n");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
