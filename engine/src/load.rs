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
/// [`DealRecord`]; empty cells mean "not given".
pub fn parse_loan_tape(text: &str, file: &str) -> Result<Vec<Deal>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut deals = Vec::new();
    for (i, row) in reader.deserialize::<DealRecord>().enumerate() {
        let line = i + 2; // header is line 1
        let record = row.map_err(|e| EngineError::Parse {
            file: file.to_string(),
            message: format!("line {line}: {}", describe_csv_error(&e)),
        })?;
        let deal = Deal::try_from(record).map_err(|message| EngineError::Parse {
            file: file.to_string(),
            message: format!("line {line}: {message}"),
        })?;
        deals.push(deal);
    }
    if deals.is_empty() {
        return Err(EngineError::Parse {
            file: file.to_string(),
            message: "loan tape has no deal rows".to_string(),
        });
    }
    Ok(deals)
}

fn describe_csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(field) => format!("column {}: {}", field + 1, err.kind()),
            None => err.kind().to_string(),
        },
        other => format!("{other:?}"),
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
