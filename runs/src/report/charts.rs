//! Inline SVG charts for `report.html`, written by hand.
//!
//! Why not plotters: its SVG backend needs a font backend (`ttf`/`ab_glyph`, with system
//! fonts or a bundled font file) to measure text, or falls back to rough estimates; the four
//! chart kinds a risk report needs (histogram, fan, horizontal bars, bands) are ~300 lines of
//! plain SVG here, add no dependency to the build, leave text layout to the browser (which
//! has fonts), and give byte-for-byte deterministic output. Every chart is an `<svg>` with a
//! `<title>` (accessible name) and an `id`, so tests can find it.

use gaib_pricing::ChartHistogram;
use std::fmt::Write;

/// Escapes text for HTML and SVG (`&`, `<`, `>`, `"`, `'`).
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Colours (colour-blind-safe Okabe–Ito palette).
pub(crate) const PALETTE: [&str; 6] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
];

const W: f64 = 760.0;
const H: f64 = 330.0;

/// A plotting frame: pixel box and data ranges.
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn new(w: f64, h: f64, left: f64, x: (f64, f64), y: (f64, f64)) -> Self {
        let widen = |r: (f64, f64)| {
            if (r.1 - r.0).abs() < 1e-12 || !r.0.is_finite() || !r.1.is_finite() {
                let c = if r.0.is_finite() { r.0 } else { 0.0 };
                (c - 1.0, c + 1.0)
            } else {
                r
            }
        };
        Frame {
            w,
            h,
            left,
            right: 20.0,
            top: 36.0,
            bottom: 46.0,
            x: widen(x),
            y: widen(y),
        }
    }

    fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x.0) / (self.x.1 - self.x.0) * (self.w - self.left - self.right)
    }

    fn py(&self, y: f64) -> f64 {
        let y = y.clamp(self.y.0, self.y.1);
        self.h
            - self.bottom
            - (y - self.y.0) / (self.y.1 - self.y.0) * (self.h - self.top - self.bottom)
    }
}

/// About `n` "nice" ticks (steps 1, 2, 5 × 10^k) covering [lo, hi].
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-12);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    let mut out = Vec::new();
    let mut t = first;
    while t <= hi + step * 1e-9 && out.len() < 50 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

fn fmt_tick(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.decimals$}")
}

/// Grid lines and labels at the powers of ten of a frame whose y axis is log10(value).
fn log_ticks(f: &Frame) -> String {
    let mut s = String::new();
    let mut e = f.y.0.ceil();
    while e <= f.y.1 + 1e-9 {
        let label = if e >= 0.0 {
            format!("{}", 10f64.powf(e))
        } else {
            format!("{:.*}", (-e) as usize, 10f64.powf(e))
        };
        s += &y_grid(f, e, &label);
        e += 1.0;
    }
    s
}

/// A horizontal grid line at data value `v` with its label left of the axis.
fn y_grid(f: &Frame, v: f64, label: &str) -> String {
    let y = f.py(v);
    format!(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
         <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
        f.left,
        f.w - f.right,
        f.left - 6.0,
        y + 4.0
    )
}

fn open(id: &str, title: &str, w: f64, h: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"{id}-title\" \
         font-family=\"system-ui, sans-serif\" font-size=\"12\">\
         <title id=\"{id}-title\">{t}</title>\
         <text x=\"{cx}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\">{t}</text>",
        id = esc(id),
        t = esc(title),
        cx = w / 2.0
    )
}

fn axes(f: &Frame, x_label: &str, y_label: &str, y_ticks: bool) -> String {
    let mut s = String::new();
    let yt = if y_ticks {
        ticks(f.y.0, f.y.1, 5)
    } else {
        Vec::new()
    };
    let ystep = if yt.len() > 1 { yt[1] - yt[0] } else { 1.0 };
    for t in &yt {
        s += &y_grid(f, *t, &fmt_tick(*t, ystep));
    }
    {
        let xt = ticks(f.x.0, f.x.1, 8);
        let xstep = if xt.len() > 1 { xt[1] - xt[0] } else { 1.0 };
        for t in &xt {
            let x = f.px(*t);
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#888\"/>\
                 <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                f.h - f.bottom,
                f.h - f.bottom + 4.0,
                f.h - f.bottom + 17.0,
                fmt_tick(*t, xstep)
            );
        }
    }
    let _ = write!(
        s,
        "<line x1=\"{l}\" x2=\"{r}\" y1=\"{b}\" y2=\"{b}\" stroke=\"#333\"/>\
         <line x1=\"{l}\" x2=\"{l}\" y1=\"{t}\" y2=\"{b}\" stroke=\"#333\"/>\
         <text x=\"{cx}\" y=\"{xl}\" text-anchor=\"middle\">{xlab}</text>\
         <text transform=\"translate(14 {cy}) rotate(-90)\" text-anchor=\"middle\">{ylab}</text>",
        l = f.left,
        r = f.w - f.right,
        b = f.h - f.bottom,
        t = f.top,
        cx = (f.left + f.w - f.right) / 2.0,
        xl = f.h - 8.0,
        cy = (f.top + f.h - f.bottom) / 2.0,
        xlab = esc(x_label),
        ylab = esc(y_label)
    );
    s
}

/// How a legend entry is drawn: a line (dashed or not) or a filled swatch of a band.
enum Mark {
    Line { dashed: bool },
    Swatch { opacity: f64 },
}

fn legend(f: &Frame, items: &[(String, &str, Mark)]) -> String {
    let mut s = String::new();
    for (i, (label, colour, mark)) in items.iter().enumerate() {
        let y = f.top + 8.0 + 16.0 * i as f64;
        let x = f.w - f.right - 190.0;
        match mark {
            Mark::Line { dashed } => {
                let dash = if *dashed {
                    " stroke-dasharray=\"5 3\""
                } else {
                    ""
                };
                let _ = write!(
                    s,
                    "<line x1=\"{x}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"3\"{dash}/>",
                    x + 22.0
                );
            }
            Mark::Swatch { opacity } => {
                let _ = write!(
                    s,
                    "<rect class=\"swatch\" x=\"{x}\" y=\"{}\" width=\"22\" height=\"10\" fill=\"{colour}\" fill-opacity=\"{opacity}\" stroke=\"{colour}\" stroke-opacity=\"0.6\"/>",
                    y - 5.0
                );
            }
        }
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            x + 28.0,
            y + 4.0,
            esc(label)
        );
    }
    s
}

/// A histogram of probabilities (percent on the y axis) with labelled vertical markers; with
/// `log_y` the y axis is log10 of the probability, so a thin tail stays visible (empty bins
/// are not drawn).
pub(crate) fn histogram(
    id: &str,
    title: &str,
    x_label: &str,
    h: &ChartHistogram,
    markers: &[(f64, String)],
    log_y: bool,
) -> String {
    let n = h.probabilities.len();
    let x1 = h.lo + h.width * n as f64;
    let pmax = h
        .probabilities
        .iter()
        .fold(0.0f64, |a, &p| a.max(100.0 * p))
        .max(1e-9);
    let pmin = h
        .probabilities
        .iter()
        .filter(|p| **p > 0.0)
        .fold(pmax, |a, &p| a.min(100.0 * p));
    let y_range = if log_y {
        let top = pmax.log10().ceil();
        (pmin.log10().floor().min(top - 1.0), top)
    } else {
        (0.0, pmax * 1.1)
    };
    let f = Frame::new(W, H, 60.0, (h.lo, x1), y_range);
    let mut s = open(id, title, W, H);
    if log_y {
        s += &axes(&f, x_label, "probability (%, log scale)", false);
        s += &log_ticks(&f);
    } else {
        s += &axes(&f, x_label, "probability (%)", true);
    }
    for (i, p) in h.probabilities.iter().enumerate() {
        if log_y && *p <= 0.0 {
            continue;
        }
        let xa = f.px(h.lo + h.width * i as f64);
        let xb = f.px(h.lo + h.width * (i + 1) as f64);
        let y = f.py(if log_y {
            (100.0 * p).log10()
        } else {
            100.0 * p
        });
        let _ = write!(
            s,
            "<rect x=\"{xa:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{:.3}–{:.3}: {:.3e} %</title></rect>",
            (xb - xa - 1.0).max(0.5),
            (f.h - f.bottom - y).max(0.0),
            PALETTE[0],
            h.lo + h.width * i as f64,
            h.lo + h.width * (i + 1) as f64,
            100.0 * p
        );
    }
    for (i, (x, label)) in markers.iter().enumerate() {
        if *x < h.lo || *x > x1 {
            continue;
        }
        let px = f.px(*x);
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-dasharray=\"5 3\" stroke-width=\"2\"/>\
             <text x=\"{:.1}\" y=\"{}\" fill=\"{}\">{}</text>",
            f.top,
            f.h - f.bottom,
            PALETTE[1 + i % 5],
            px + 4.0,
            f.top + 12.0 + 14.0 * i as f64,
            PALETTE[1 + i % 5],
            esc(label)
        );
    }
    if h.beyond > 0.0 {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">beyond the axis: {:.3} %</text>",
            f.w - f.right,
            f.h - f.bottom - 6.0,
            100.0 * h.beyond
        );
    }
    s + "</svg>"
}

/// A shaded band between two series.
pub(crate) struct Band<'a> {
    /// Lower edge per x.
    pub(crate) lo: &'a [f64],
    /// Upper edge per x.
    pub(crate) hi: &'a [f64],
    /// Fill colour.
    pub(crate) colour: &'a str,
    /// Fill opacity (0..1).
    pub(crate) opacity: f64,
    /// Legend label.
    pub(crate) label: String,
}

/// A line series.
pub(crate) struct Line<'a> {
    /// Values per x.
    pub(crate) y: &'a [f64],
    /// Stroke colour.
    pub(crate) colour: &'a str,
    /// Dashed stroke.
    pub(crate) dashed: bool,
    /// Legend label (empty: not in the legend).
    pub(crate) label: String,
}

/// Bands and lines over x (e.g. months): a fan chart or bands of a ratio. The first argument
/// is (svg id, title, x-axis label, y-axis label).
pub(crate) fn bands(
    (id, title, x_label, y_label): (&str, &str, &str, &str),
    x: &[f64],
    bands: &[Band<'_>],
    lines: &[Line<'_>],
    vline: Option<(f64, String)>,
) -> String {
    let all = bands
        .iter()
        .flat_map(|b| b.lo.iter().chain(b.hi))
        .chain(lines.iter().flat_map(|l| l.y.iter()))
        .copied()
        .filter(|v| v.is_finite());
    let (mut ymin, mut ymax) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let pad = 0.05 * (ymax - ymin).max(1e-9);
    ymin -= pad;
    ymax += pad;
    let x0 = x.first().copied().unwrap_or(0.0);
    let x1 = x.last().copied().unwrap_or(1.0);
    let f = Frame::new(W, H, 64.0, (x0, x1), (ymin, ymax));
    let mut s = open(id, title, W, H);
    s += &axes(&f, x_label, y_label, true);
    let mut items = Vec::new();
    for b in bands {
        let mut pts = String::new();
        for (xi, v) in x.iter().zip(b.hi) {
            let _ = write!(pts, "{:.1},{:.1} ", f.px(*xi), f.py(*v));
        }
        for (xi, v) in x.iter().zip(b.lo).rev() {
            let _ = write!(pts, "{:.1},{:.1} ", f.px(*xi), f.py(*v));
        }
        let _ = write!(
            s,
            "<polygon points=\"{}\" fill=\"{c}\" fill-opacity=\"{}\" stroke=\"{c}\" stroke-opacity=\"0.5\" stroke-width=\"0.8\"/>",
            pts.trim_end(),
            b.opacity,
            c = b.colour,
        );
        if !b.label.is_empty() {
            items.push((
                b.label.clone(),
                b.colour,
                Mark::Swatch { opacity: b.opacity },
            ));
        }
    }
    for l in lines {
        let mut pts = String::new();
        for (xi, v) in x.iter().zip(l.y) {
            if v.is_finite() {
                let _ = write!(pts, "{:.1},{:.1} ", f.px(*xi), f.py(*v));
            }
        }
        let dash = if l.dashed {
            " stroke-dasharray=\"5 3\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}/>",
            pts.trim_end(),
            l.colour
        );
        if !l.label.is_empty() {
            items.push((l.label.clone(), l.colour, Mark::Line { dashed: l.dashed }));
        }
    }
    if let Some((xv, label)) = vline {
        let px = f.px(xv);
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#333\" stroke-dasharray=\"2 3\"/>\
             <text x=\"{:.1}\" y=\"{}\">{}</text>",
            f.top,
            f.h - f.bottom,
            px + 4.0,
            f.h - f.bottom - 8.0,
            esc(&label)
        );
    }
    s += &legend(&f, &items);
    s + "</svg>"
}

/// Horizontal bars with ± error whiskers, one row per label.
pub(crate) fn hbars(id: &str, title: &str, x_label: &str, rows: &[(String, f64, f64)]) -> String {
    let row_h = 18.0;
    let h = 36.0 + 46.0 + row_h * rows.len().max(1) as f64;
    let xmax = rows.iter().fold(0.0f64, |a, r| a.max(r.1 + r.2)).max(1e-6) * 1.08;
    let f = Frame::new(W, h, 150.0, (0.0, xmax), (0.0, rows.len().max(1) as f64));
    let mut s = open(id, title, W, h);
    s += &axes(&f, x_label, "", false);
    for (i, (label, v, err)) in rows.iter().enumerate() {
        let yc = f.top + row_h * (i as f64 + 0.5);
        let (xa, xb) = (f.px(0.0), f.px(*v));
        let _ = write!(
            s,
            "<rect x=\"{xa:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {:.3} ± {:.3}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            yc - row_h * 0.35,
            (xb - xa).max(0.0),
            row_h * 0.7,
            if label.contains('/') { PALETTE[0] } else { PALETTE[2] },
            esc(label),
            v,
            1.96 * err,
            f.left - 6.0,
            yc + 4.0,
            esc(label)
        );
        if *err > 0.0 {
            let (ea, eb) = (f.px((v - 1.96 * err).max(0.0)), f.px(v + 1.96 * err));
            let _ = write!(
                s,
                "<line x1=\"{ea:.1}\" x2=\"{eb:.1}\" y1=\"{yc:.1}\" y2=\"{yc:.1}\" stroke=\"#333\"/>"
            );
        }
    }
    s + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(0.013, 0.087, 4);
        assert!(t.first().unwrap() >= &0.013 && t.last().unwrap() <= &0.087);
        assert_eq!(fmt_tick(0.02, 0.02), "0.02");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn charts_are_svg_with_a_title_and_no_nan() {
        let h = ChartHistogram {
            lo: 0.0,
            width: 0.5,
            probabilities: vec![0.5, 0.3, 0.2],
            beyond: 0.0,
        };
        let s = histogram(
            "fig-x",
            "Loss <x>",
            "loss (%)",
            &h,
            &[(1.0, "VaR".into())],
            false,
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("<title id=\"fig-x-title\">Loss &lt;x&gt;</title>"));
        assert!(!s.contains("NaN"));
        let x = [1.0, 2.0, 3.0];
        let s = bands(
            ("fig-b", "B", "month", "USD"),
            &x,
            &[Band {
                lo: &[0.9, 0.8, 0.7],
                hi: &[1.1, 1.2, 1.3],
                colour: PALETTE[0],
                opacity: 0.3,
                label: "5–95 %".into(),
            }],
            &[Line {
                y: &[1.0, 1.0, 1.0],
                colour: PALETTE[1],
                dashed: false,
                label: "median".into(),
            }],
            Some((2.0, "horizon".into())),
        );
        assert!(s.contains("<polygon") && s.contains("<polyline") && !s.contains("NaN"));
        let s = hbars("fig-h", "EL", "EL (%)", &[("P/A".into(), 1.0, 0.1)]);
        assert!(s.contains("<rect") && !s.contains("NaN"));
    }
}
