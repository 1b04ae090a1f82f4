//! `gaib explain DIR (--path N | --worst tranche ID) [--deal ID | --pool ID] [--format
//! table|csv|json] [--table NAME]`: replays one path of a run directory (same inputs, seed and
//! draws) and prints it month by month — market, fleets, deals, pool waterfalls, tranches,
//! vault — and the path's totals, which equal its `gaib run --paths-out` row exactly.
//!
//! Formats: `table` (one terminal table per section), `json` (the whole explanation, typed as
//! `gaib_runs::Explanation`), `csv`: with `--table NAME` that table's rows (one column per
//! field), otherwise every table in long form (`table,month,entity,field,value`).

use crate::CliError;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use gaib_runs::{explain, worst_path_for_tranche, Explanation, Focus, RunDir};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Terminal tables.
    Table,
    /// CSV (long form, or one table with --table).
    Csv,
    /// The explanation as JSON.
    Json,
}

/// The tables of an explanation, in print order.
const TABLES: [&str; 9] = [
    "operators",
    "market",
    "fleets",
    "deals",
    "pools",
    "tranches",
    "vault",
    "deal_totals",
    "tranche_totals",
];

/// Arguments of `gaib explain`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["path", "worst"])))]
pub(crate) struct Args {
    /// The run directory (or its manifest.json).
    run: PathBuf,
    /// The path index to replay (one of the run's paths).
    #[arg(long)]
    path: Option<u64>,
    /// Replay the path with the largest loss of an instrument: `--worst tranche POOL/TRANCHE`
    /// (simulates every path of the run).
    #[arg(long, num_args = 2, value_names = ["KIND", "ID"])]
    worst: Option<Vec<String>>,
    /// Only this deal (its fleet, operator and GPU class).
    #[arg(long, conflicts_with = "pool")]
    deal: Option<String>,
    /// Only this pool (its waterfall, tranches, deals, fleets, operators and classes).
    #[arg(long)]
    pool: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Only this table: operators, market, fleets, deals, pools, tranches, vault,
    /// deal_totals, tranche_totals.
    #[arg(long)]
    table: Option<String>,
}

/// Replays and prints.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    if let Some(t) = a.table.as_deref().filter(|t| !TABLES.contains(t)) {
        return Err(CliError::invalid(format!(
            "table: no table {t:?} (known: {})",
            TABLES.join(", ")
        )));
    }
    if !a.run.exists() {
        return Err(CliError::invalid(format!(
            "run: {}: no such run directory",
            a.run.display()
        )));
    }
    let dir = RunDir::open(&a.run)?;
    let path = match (&a.path, &a.worst) {
        (Some(p), _) => *p,
        (None, Some(w)) => worst(&dir, w)?,
        (None, None) => unreachable!("clap requires --path or --worst"),
    };
    let focus = match (a.deal, a.pool) {
        (Some(d), _) => Focus::Deal(d),
        (None, Some(p)) => Focus::Pool(p),
        (None, None) => Focus::All,
    };
    let e = explain(&dir, path, &focus)?;
    let mut out = std::io::stdout().lock();
    let written = match a.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&e)?).map_err(Into::into),
        Format::Csv => write_csv(&tables(&e)?, a.table.as_deref(), &mut out),
        Format::Table => print_tables(&e, &tables(&e)?, a.table.as_deref(), &mut out),
    };
    match written {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The path named by `--worst KIND ID` (noted on stderr).
fn worst(dir: &RunDir, w: &[String]) -> anyhow::Result<u64> {
    let (kind, id) = (w[0].as_str(), w[1].as_str());
    if kind != "tranche" {
        return Err(CliError::invalid(format!(
            "worst: unknown kind {kind:?} (use: --worst tranche POOL/TRANCHE)"
        )));
    }
    let (path, loss) = worst_path_for_tranche(dir, id)?;
    eprintln!(
        "worst path for tranche {id}: path {path}, loss {:.4} % of its balance",
        loss * 100.0
    );
    Ok(path)
}

/// A JSON object with its fields in the order the struct declares them (serde_json's own map
/// sorts them, and its `preserve_order` feature would change every results file's bytes).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Ordered, M::Error> {
                let mut v = Vec::new();
                while let Some(e) = m.next_entry()? {
                    v.push(e);
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V)
    }
}

type Named = Vec<(&'static str, Vec<Ordered>)>;

fn ordered<T: serde::Serialize>(rows: &[T]) -> serde_json::Result<Vec<Ordered>> {
    serde_json::from_str(&serde_json::to_string(rows)?)
}

/// The explanation's tables, named as in [`TABLES`], rows with fields in declaration order.
fn tables(e: &Explanation) -> serde_json::Result<Named> {
    Ok(vec![
        ("operators", ordered(&e.operators)?),
        ("market", ordered(&e.market)?),
        ("fleets", ordered(&e.fleets)?),
        ("deals", ordered(&e.deals)?),
        ("pools", ordered(&e.pools)?),
        ("tranches", ordered(&e.tranches)?),
        ("vault", ordered(&e.vault)?),
        ("deal_totals", ordered(&e.totals.deals)?),
        ("tranche_totals", ordered(&e.totals.tranches)?),
    ])
}

/// A cell's text: money and fractions by their unit, None as empty.
fn cell(key: &str, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if key.ends_with("_usd") {
                format!("{x:.2}")
            } else {
                format!("{x:.6}")
            }
        }
        other => other.to_string(),
    }
}

fn print_tables(
    e: &Explanation,
    tables: &Named,
    only: Option<&str>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "portfolio {} — seed {}, path {}: portfolio loss {} of funded, {} deal defaults",
        e.portfolio_id, e.seed, e.path, e.totals.portfolio_loss_frac, e.totals.defaults
    )?;
    for (name, rows) in tables.iter().filter(|(n, _)| only.is_none_or(|o| o == *n)) {
        let Some(first) = rows.first() else {
            continue;
        };
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        t.set_header(first.0.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>());
        for row in rows {
            t.add_row(
                row.0
                    .iter()
                    .map(|(k, x)| Cell::new(cell(k, x)).set_alignment(align(x))),
            );
        }
        writeln!(out, "\n{name}\n{t}")?;
    }
    Ok(())
}

fn align(v: &Value) -> CellAlignment {
    if v.is_number() {
        CellAlignment::Right
    } else {
        CellAlignment::Left
    }
}

/// A CSV field (quoted when it holds a comma, quote or newline).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Full precision for CSV: numbers as JSON writes them (shortest round-trip).
fn csv_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => csv_field(s),
        other => other.to_string(),
    }
}

fn write_csv(tables: &Named, only: Option<&str>, out: &mut impl Write) -> anyhow::Result<()> {
    if let Some(name) = only {
        let rows = tables.iter().find(|(n, _)| *n == name).map(|(_, r)| r);
        let rows = rows.map_or(&[][..], Vec::as_slice);
        if let Some(first) = rows.first() {
            let header: Vec<String> = first.0.iter().map(|(k, _)| csv_field(k)).collect();
            writeln!(out, "{}", header.join(","))?;
        }
        for row in rows {
            let line: Vec<String> = row.0.iter().map(|(_, x)| csv_value(x)).collect();
            writeln!(out, "{}", line.join(","))?;
        }
        return Ok(());
    }
    writeln!(out, "table,month,entity,field,value")?;
    for (name, rows) in tables {
        for row in rows {
            long_rows(name, row, out)?;
        }
    }
    Ok(())
}

/// Fields naming the entity of a row (joined by `/` in the long form's `entity`).
const ENTITY_KEYS: [&str; 7] = [
    "class", "operator", "fleet", "deal", "pool", "tranche", "id",
];

/// One row in long form: a line per field other than the month and the entity's ids.
fn long_rows(name: &str, row: &Ordered, out: &mut impl Write) -> anyhow::Result<()> {
    let get = |key: &str| row.0.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let month = get("month").map(csv_value).unwrap_or_default();
    let entity: Vec<&str> = ENTITY_KEYS
        .iter()
        .filter_map(|k| get(k).and_then(Value::as_str))
        .collect();
    let entity = csv_field(&entity.join("/"));
    for (k, x) in &row.0 {
        if k == "month" || ENTITY_KEYS.contains(&k.as_str()) {
            continue;
        }
        writeln!(out, "{name},{month},{entity},{k},{}", csv_value(x))?;
    }
    Ok(())
}
