//! `gaib calibrate HISTORY.csv [--forwards CURVE.csv] [--update PORTFOLIO --out NEW.toml]
//! [--json-out FILE] [--html-out FILE] [--se bootstrap|observed] [--bootstrap N]`: the price
//! process's parameters from market data, with standard errors (gaib-market; docs/MARKET.md).
//!
//! Everything is computed, and an updated portfolio loaded and validated, before any file is
//! written; files are written to a temporary name and renamed, and an existing output (or the
//! input portfolio itself) is never overwritten without `--force` (the input never).

use crate::CliError;
use anyhow::Context;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use gaib_market::bootstrap::{DEFAULT_REPLICATES, DEFAULT_SEED};
use gaib_market::{calibrate, parse_forwards, parse_history, Estimate, Options, StdErrorMethod};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `gaib calibrate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Index history CSV `date,class,price` (USD per GPU-hour; daily or any regular step).
    history: PathBuf,
    /// Forward curve CSV `as_of,class,tenor_months,forward`: the drift of each quoted class is
    /// fitted so that the model's E[P(t)] reprices its latest curve.
    #[arg(long, value_name = "CSV")]
    forwards: Option<PathBuf>,
    /// Portfolio file (TOML) whose classes' price parameters and market.correlation are
    /// replaced; the result goes to --out (a new file; the input is never overwritten).
    #[arg(long, value_name = "PORTFOLIO", requires = "out")]
    update: Option<PathBuf>,
    /// Where the TOML goes: the updated portfolio with --update, else the `[[gpu_classes]]`
    /// block (default without --update: printed on stdout).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write the estimates, standard errors, coverage and forward fit as JSON.
    #[arg(long, value_name = "FILE")]
    json_out: Option<PathBuf>,
    /// Write the calibration page (fitted vs observed, QQ plot, band coverage) as HTML.
    #[arg(long, value_name = "FILE")]
    html_out: Option<PathBuf>,
    /// Replace existing output files (never the --update input).
    #[arg(long)]
    force: bool,
    /// `useful_life_years` written into the block without --update (not estimated).
    #[arg(long, default_value_t = 5.0, value_name = "YEARS")]
    useful_life_years: f64,
    /// `residual_floor` written into the block without --update (not estimated).
    #[arg(long, default_value_t = 0.1, value_name = "FRACTION")]
    residual_floor: f64,
    /// Standard errors: `bootstrap` (parametric bootstrap of the whole estimator — jump
    /// filter, maximum likelihood, kappa's jackknife; seconds to minutes) or `observed` (the
    /// inverse observed information: instant, but too narrow on a few years of data).
    #[arg(long, value_enum, default_value = "bootstrap")]
    se: SeArg,
    /// Bootstrap replicates per class (at least 10; the standard errors are uncertain by about
    /// 1/sqrt(2N) relative) [default: 200].
    #[arg(long, value_name = "N")]
    bootstrap: Option<usize>,
    /// Seed of the bootstrap's simulations (results do not depend on the thread count)
    /// [default: 20240901].
    #[arg(long, value_name = "SEED")]
    bootstrap_seed: Option<u64>,
    /// Worker threads of the bootstrap (default: all CPUs). Results do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Do not draw the bootstrap's progress bar.
    #[arg(long)]
    quiet: bool,
}

/// `--se`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SeArg {
    /// Parametric bootstrap.
    Bootstrap,
    /// Inverse observed information.
    Observed,
}

impl Args {
    /// The standard-error method the arguments ask for; `--bootstrap`/`--bootstrap-seed`
    /// with `--se observed` is refused (they would be silently ignored).
    fn std_errors(&self) -> anyhow::Result<StdErrorMethod> {
        match self.se {
            SeArg::Bootstrap => Ok(StdErrorMethod::Bootstrap {
                replicates: self.bootstrap.unwrap_or(DEFAULT_REPLICATES),
                seed: self.bootstrap_seed.unwrap_or(DEFAULT_SEED),
            }),
            SeArg::Observed => {
                if self.bootstrap.is_some() || self.bootstrap_seed.is_some() {
                    return Err(CliError::invalid(
                        "--bootstrap and --bootstrap-seed apply to --se bootstrap, not --se observed",
                    ));
                }
                Ok(StdErrorMethod::Observed)
            }
        }
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::invalid(format!("cannot read {}: {e}", path.display())))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn fmt(e: &Estimate, d: usize) -> String {
    match e.std_error {
        Some(se) => format!("{:.d$} ± {:.d$}", e.value, se),
        None => format!("{:.d$}", e.value),
    }
}

/// Runs the calibration and writes its outputs.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let hist_name = a.history.display().to_string();
    let history = parse_history(&read(&a.history)?, &hist_name)
        .map_err(|e| CliError::invalid(e.to_string()))?;
    let forwards = match &a.forwards {
        Some(p) => Some(
            parse_forwards(&read(p)?, &p.display().to_string())
                .map_err(|e| CliError::invalid(e.to_string()))?,
        ),
        None => None,
    };
    let mut options = Options {
        std_errors: a.std_errors()?,
        threads: a.threads,
        ..Options::default()
    };
    let portfolio = match &a.update {
        Some(p) => {
            let loaded = crate::input::load(p)?;
            // A history class the portfolio lacks is refused before the (long) calibration.
            let ids: Vec<&str> = loaded
                .portfolio
                .gpu_classes
                .iter()
                .map(|c| c.id.as_str())
                .collect();
            if let Some(s) = history
                .series
                .iter()
                .find(|s| !ids.contains(&s.class.as_str()))
            {
                return Err(CliError::invalid(format!(
                    "{hist_name}: unknown class `{}` (the portfolio {} has gpu_classes {})",
                    s.class,
                    p.display(),
                    ids.join(", ")
                )));
            }
            for c in &loaded.portfolio.gpu_classes {
                options.shocks.insert(
                    c.id.clone(),
                    c.shocks.iter().map(|s| (s.month, s.log_size)).collect(),
                );
            }
            Some((p.clone(), read(p)?))
        }
        None => None,
    };
    // Refuse clobbering before the (possibly long) calibration; checked again below.
    let planned: Vec<&PathBuf> = [&a.out, &a.json_out, &a.html_out]
        .into_iter()
        .flatten()
        .collect();
    check_outputs(&planned, &a)?;
    let bar = match options.std_errors {
        StdErrorMethod::Bootstrap { replicates, .. } if !a.quiet => {
            let total = (replicates * history.series.len()) as u64;
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] bootstrap {wide_bar} {human_pos}/{human_len} replicates ({per_sec}, ETA {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let tick = b.clone();
            options.progress = Some(Arc::new(move || tick.inc(1)));
            b
        }
        _ => ProgressBar::hidden(),
    };
    let cal = calibrate(&history, forwards.as_ref(), &options);
    bar.finish_and_clear();
    let cal = cal.map_err(|e| CliError::invalid(e.to_string()))?;

    // Every output in memory first.
    let mut outputs: Vec<(PathBuf, String)> = Vec::new();
    let mut warnings: Vec<String> = cal.warnings.clone();
    for c in &cal.classes {
        warnings.extend(c.warnings.iter().map(|w| format!("{}: {w}", c.class)));
    }
    let toml_text = match &portfolio {
        Some((in_path, text)) => {
            let out = a.out.as_ref().expect("clap: --update requires --out");
            if same_file(in_path, out) || in_path == out {
                return Err(CliError::invalid(format!(
                    "--out {} is the --update input: write the updated portfolio to a new file",
                    out.display()
                )));
            }
            let in_dir = in_path.parent().unwrap_or(Path::new("")).to_path_buf();
            let out_dir = out.parent().unwrap_or(Path::new("")).to_path_buf();
            let relocate = |tape: &str| -> String {
                let src = in_dir.join(tape);
                if same_file(&in_dir_or_dot(&in_dir), &in_dir_or_dot(&out_dir)) {
                    tape.to_string()
                } else {
                    src.canonicalize().unwrap_or(src).display().to_string()
                }
            };
            let (new_text, w) = gaib_market::output::update_portfolio(
                text,
                &in_path.display().to_string(),
                &cal,
                &relocate,
            )
            .map_err(|e| CliError::invalid(e.to_string()))?;
            warnings.extend(w);
            // The new portfolio must load and validate before anything is written.
            let out_name = out.display().to_string();
            gaib_engine::load_portfolio(&new_text, &out_name, |tape| {
                let p = out_dir.join(tape);
                std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
            })
            .map_err(|e| {
                CliError::invalid(format!(
                    "the updated portfolio would not validate (estimates outside the model's ranges?): {e}"
                ))
            })?;
            Some(new_text)
        }
        None => Some(gaib_market::output::toml_block(
            &cal,
            a.useful_life_years,
            a.residual_floor,
        )),
    };
    let mut print_block = None;
    match (&a.out, toml_text) {
        (Some(out), Some(t)) => outputs.push((out.clone(), t)),
        (None, Some(t)) => print_block = Some(t),
        _ => {}
    }
    if let Some(p) = &a.json_out {
        outputs.push((p.clone(), serde_json::to_string_pretty(&cal)? + "\n"));
    }
    if let Some(p) = &a.html_out {
        outputs.push((p.clone(), gaib_market::html::render(&cal)));
    }
    // Refuse clobbering before writing anything.
    check_outputs(&outputs.iter().map(|(p, _)| p).collect::<Vec<_>>(), &a)?;
    // Write each to NAME.tmp, then rename them all.
    let mut staged = Vec::new();
    for (p, text) in &outputs {
        let tmp = tmp_name(p);
        if let Err(e) = std::fs::write(&tmp, text) {
            for t in &staged {
                let _ = std::fs::remove_file(t);
            }
            return Err(e).with_context(|| format!("cannot write {}", tmp.display()));
        }
        staged.push(tmp);
    }
    for ((p, _), tmp) in outputs.iter().zip(&staged) {
        std::fs::rename(tmp, p).with_context(|| format!("cannot write {}", p.display()))?;
    }

    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "class",
        "obs",
        "price0",
        "drift /y",
        "kappa /y",
        "sigma",
        "jumps /y",
        "jump mean",
        "jump std",
        "cover 50/90 %",
    ]);
    for c in &cal.classes {
        t.add_row(vec![
            c.class.clone(),
            c.observations.to_string(),
            format!("{:.4}", c.price0_per_gpu_hour),
            fmt(&c.drift, 3),
            fmt(&c.kappa, 2),
            fmt(&c.sigma, 3),
            fmt(&c.jump_intensity, 2),
            fmt(&c.jump_mean, 3),
            fmt(&c.jump_std, 3),
            c.coverage.as_ref().map_or("—".into(), |v| {
                format!("{:.1} / {:.1}", 100.0 * v.band50, 100.0 * v.band90)
            }),
        ]);
    }
    let method = format!(
        "estimates ± standard errors: {}",
        cal.std_error_method.describe()
    );
    let forward = forward_table(&cal);
    match print_block {
        Some(block) => {
            print!("{block}");
            eprintln!("{t}\n{method}");
            if let Some(f) = forward {
                eprintln!("{f}");
            }
        }
        None => {
            println!("{t}\n{method}");
            if let Some(f) = forward {
                println!("{f}");
            }
        }
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    for (p, _) in &outputs {
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

/// The forward fit per class and tenor (None without a curve): quoted forward, the model's
/// E[P(t)] at the fitted drift, their difference in USD per GPU-hour and percent, and per
/// class the fitted drift and the RMSE of the log errors.
fn forward_table(cal: &gaib_market::Calibration) -> Option<String> {
    let fitted: Vec<_> = cal
        .classes
        .iter()
        .filter_map(|c| c.forward_fit.as_ref().map(|f| (c, f)))
        .collect();
    if fitted.is_empty() {
        return None;
    }
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "class",
        "as of",
        "tenor (months)",
        "forward",
        "model E[P(t)]",
        "error (USD/GPU-h)",
        "error %",
    ]);
    let mut notes = Vec::new();
    for (c, f) in fitted {
        for k in &f.fit.tenors {
            t.add_row(vec![
                c.class.clone(),
                f.as_of.to_string(),
                k.tenor_months.to_string(),
                format!("{:.4}", k.forward),
                format!("{:.4}", k.model),
                format!("{:+.4}", k.error),
                format!("{:+.2}", k.error_pct),
            ]);
        }
        notes.push(format!(
            "{}: drift {:.4} /y fitted to {} tenors (spot {:.4} on or before {}), RMSE {:.2} % of the forwards",
            c.class,
            f.fit.drift,
            f.fit.tenors.len(),
            f.spot,
            f.as_of,
            f.fit.rmse_pct
        ));
    }
    Some(format!(
        "forward fit (one drift per class; per-tenor error = model − forward):\n{t}\n{}",
        notes.join("\n")
    ))
}

/// Refuses an output named twice, an output that is an input (the history, the forward
/// curve, the --update portfolio), and an existing output without --force.
fn check_outputs(outputs: &[&PathBuf], a: &Args) -> anyhow::Result<()> {
    if let (Some(in_path), Some(out)) = (&a.update, &a.out) {
        if same_file(in_path, out) || in_path == out {
            return Err(CliError::invalid(format!(
                "--out {} is the --update input: write the updated portfolio to a new file",
                out.display()
            )));
        }
    }
    let mut seen: BTreeMap<&PathBuf, ()> = BTreeMap::new();
    for p in outputs {
        if seen.insert(p, ()).is_some() {
            return Err(CliError::invalid(format!(
                "{} is named as two outputs",
                p.display()
            )));
        }
        let inputs = [Some(&a.history), a.forwards.as_ref(), a.update.as_ref()];
        if inputs
            .into_iter()
            .flatten()
            .any(|i| same_file(i, p) || i == *p)
        {
            return Err(CliError::invalid(format!(
                "{} is an input: outputs go to new files",
                p.display()
            )));
        }
        if p.exists() && !a.force {
            return Err(CliError::invalid(format!(
                "{} exists (use --force to replace it)",
                p.display()
            )));
        }
    }
    Ok(())
}

fn in_dir_or_dot(p: &Path) -> PathBuf {
    if p.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        p.to_path_buf()
    }
}

fn tmp_name(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}
