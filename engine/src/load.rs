//! Parsing a portfolio from TOML or JSON text and its loan tape from CSV, then validating it.
//!
//! The engine does no file I/O: the caller passes the text and a closure that reads a file the
//! portfolio refers to (the loan tape), relative to the portfolio file.

use crate::error::{EngineError, Result};
use crate::portfolio::{Deal, DealRecord, Portfolio};
use crate::validate::validate;

/// Text format of a portfolio document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML (the CLI's format).
    Toml,
    /// JSON (the API's format).
    Json,
}

impl Format {
    /// Format from a file name: `.json` is JSON, anything else TOML.
    pub fn from_path(path: &str) -> Self {
        if path.to_ascii_lowercase().ends_with(".json") {
            Format::Json
        } else {
            Format::Toml
        }
    }
}

/// Parses a portfolio document without validating it or loading its loan tape.
pub fn parse_portfolio(text: &str, format: Format, file: &str) -> Result<Portfolio> {
    let parsed = match format {
        Format::Toml => toml::from_str::<Portfolio>(text).map_err(|e| e.to_string()),
        Format::Json => serde_json::from_str::<Portfolio>(text).map_err(|e| e.to_string()),
    };
    parsed.map_err(|message| EngineError::Parse {
        file: file.to_string(),
        message: message.trim_end().to_string(),
    })
}

/// Parses a loan tape: CSV with a header row, one deal per row, columns named as the fields of
/// [`DealRecord`]; empty cells mean "not given". Errors name the line and the column.
pub fn parse_loan_tape(text: &str, file: &str) -> Result<Vec<Deal>> {
    let parse_err = |message: String| EngineError::Parse {
        file: file.to_string(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| parse_err(format!("header row: {e}")))?
        .clone();
    let mut deals = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2; // the header is line 1
        let record = row.map_err(|e| parse_err(format!("line {line}: {e}")))?;
        let parsed: DealRecord = record.deserialize(Some(&headers)).map_err(|e| {
            parse_err(format!(
                "line {line}: {}",
                describe_csv_error(&e, &headers, &record)
            ))
        })?;
        let deal = Deal::try_from(parsed).map_err(|m| parse_err(format!("line {line}: {m}")))?;
        deals.push(deal);
    }
    if deals.is_empty() {
        return Err(parse_err("loan tape has no deal rows".to_string()));
    }
    Ok(deals)
}

/// Names the column of a cell that failed to deserialize: from the error's field index when
/// the CSV reader knows it, else by finding the quoted bad text among the row's cells.
fn describe_csv_error(
    e: &csv::Error,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> String {
    let csv::ErrorKind::Deserialize { err, .. } = e.kind() else {
        return e.to_string();
    };
    let msg = err.kind().to_string();
    let column = err.field().map(|f| f as usize).or_else(|| {
        record
            .iter()
            .position(|cell| !cell.is_empty() && msg.contains(&format!("\"{cell}\"")))
    });
    match column {
        Some(c) => format!("column `{}`: {msg}", headers.get(c).unwrap_or("?")),
        None => msg,
    }
}

/// A validated portfolio and where each deal came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated portfolio, loan-tape deals appended to the inline ones.
    pub portfolio: Portfolio,
    /// For each deal (same index as `portfolio.deals`), the file it was read from.
    pub deal_sources: Vec<String>,
}

/// Parses, loads the loan tape through `read_referenced` (called with the path as written in
/// the file), and validates. Errors name the file, the field path and the value.
pub fn load_portfolio<F>(text: &str, file: &str, mut read_referenced: F) -> Result<Loaded>
where
    F: FnMut(&str) -> std::result::Result<String, String>,
{
    let mut portfolio = parse_portfolio(text, Format::from_path(file), file)?;
    let mut deal_sources = vec![file.to_string(); portfolio.deals.len()];
    if let Some(tape) = portfolio.loan_tape.take() {
        let tape_text = read_referenced(&tape).map_err(|message| EngineError::Reference {
            file: file.to_string(),
            referenced: tape.clone(),
            message,
        })?;
        let deals = parse_loan_tape(&tape_text, &tape)?;
        deal_sources.extend(std::iter::repeat_n(tape.clone(), deals.len()));
        portfolio.deals.extend(deals);
    }
    validate(&portfolio, &deal_sources)?;
    Ok(Loaded {
        portfolio,
        deal_sources,
    })
}
