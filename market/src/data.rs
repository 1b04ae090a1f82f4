//! The market-data files: a price-index history (`date,class,price`) and a forward curve
//! (`as_of,class,tenor_months,forward`), parsed from text (the caller reads the files).
//!
//! Both are CSV with a header row naming the columns (any order, extra columns refused);
//! lines starting with `#` are comments, so a file can say where its numbers come from.

use crate::error::{MarketError, Result};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Daily (or any regular) index observations of one GPU class, dates strictly increasing.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSeries {
    /// GPU class id (e.g. `H100`), as in the portfolio's `gpu_classes[].id`.
    pub class: String,
    /// Observation dates, strictly increasing.
    pub dates: Vec<NaiveDate>,
    /// Index level on each date, USD per GPU-hour (> 0).
    pub prices: Vec<f64>,
}

/// A price-index history: one series per class, in order of first appearance in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceHistory {
    /// File name, for messages.
    pub file: String,
    /// The series, one per class.
    pub series: Vec<ClassSeries>,
}

/// One quoted forward: the price, agreed on `as_of`, of one GPU-hour delivered
/// `tenor_months` months later.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardPoint {
    /// Quote date.
    pub as_of: NaiveDate,
    /// GPU class id.
    pub class: String,
    /// Delivery horizon in months after `as_of` (1 ..= 600).
    pub tenor_months: u32,
    /// Forward price, USD per GPU-hour (> 0).
    pub forward: f64,
    /// 1-based line of the quote in its file (for messages).
    pub line: u64,
}

/// A forward-curve file: quotes for one or more classes and dates.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardCurve {
    /// File name, for messages.
    pub file: String,
    /// The quotes in file order.
    pub points: Vec<ForwardPoint>,
}

impl ForwardCurve {
    /// The latest quote date of `class` and its quotes sorted by tenor (None if the class has
    /// no quote).
    pub fn latest(&self, class: &str) -> Option<(NaiveDate, Vec<&ForwardPoint>)> {
        let as_of = self
            .points
            .iter()
            .filter(|p| p.class == class)
            .map(|p| p.as_of)
            .max()?;
        let mut pts: Vec<&ForwardPoint> = self
            .points
            .iter()
            .filter(|p| p.class == class && p.as_of == as_of)
            .collect();
        pts.sort_by_key(|p| p.tenor_months);
        Some((as_of, pts))
    }
}

/// A CSV reader over `text` with a header row, `#` comments and trimmed fields; returns the
/// column index of each of `columns` (all required, nothing else allowed).
fn open<'t>(
    text: &'t str,
    file: &str,
    columns: &[&str],
) -> Result<(csv::Reader<&'t [u8]>, Vec<usize>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = rdr.headers().map_err(|e| MarketError::Format {
        file: file.to_string(),
        reason: format!("cannot read the header row: {e}"),
    })?;
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    for n in &names {
        if !columns.contains(&n.as_str()) {
            return Err(MarketError::Format {
                file: file.to_string(),
                reason: format!(
                    "unknown column `{n}` in the header; expected exactly {}",
                    columns.join(",")
                ),
            });
        }
    }
    let mut idx = Vec::with_capacity(columns.len());
    for c in columns {
        let i = names
            .iter()
            .position(|n| n == c)
            .ok_or_else(|| MarketError::Format {
                file: file.to_string(),
                reason: format!(
                    "missing column `{c}` in the header `{}`; expected {}",
                    names.join(","),
                    columns.join(",")
                ),
            })?;
        idx.push(i);
    }
    Ok((rdr, idx))
}

/// Reads every record, with its 1-based line number.
fn records(rdr: &mut csv::Reader<&[u8]>, file: &str) -> Result<Vec<(u64, csv::StringRecord)>> {
    let mut out = Vec::new();
    for r in rdr.records() {
        let r = r.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            MarketError::Format {
                file: file.to_string(),
                reason: format!("line {line}: {e}"),
            }
        })?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        out.push((line, r));
    }
    Ok(out)
}

fn field_err(file: &str, line: u64, field: &str, value: &str, reason: &str) -> MarketError {
    MarketError::Field {
        file: file.to_string(),
        line,
        field: field.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn parse_date(file: &str, line: u64, field: &str, v: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|e| {
        field_err(
            file,
            line,
            field,
            v,
            &format!("not a date YYYY-MM-DD ({e})"),
        )
    })
}

fn parse_price(file: &str, line: u64, field: &str, v: &str) -> Result<f64> {
    let x: f64 = v
        .parse()
        .map_err(|_| field_err(file, line, field, v, "not a number"))?;
    if !x.is_finite() || x <= 0.0 {
        return Err(field_err(
            file,
            line,
            field,
            v,
            "must be a finite positive price in USD per GPU-hour",
        ));
    }
    Ok(x)
}

fn parse_class(file: &str, line: u64, v: &str) -> Result<String> {
    if v.is_empty() {
        return Err(field_err(file, line, "class", v, "empty class id"));
    }
    Ok(v.to_string())
}

/// Parses a price-index history `date,class,price` (price in USD per GPU-hour). Refuses
/// malformed rows, non-positive or non-finite prices, impossible dates, and per class
/// duplicate or unsorted dates, naming file, line, field and value.
pub fn parse_history(text: &str, file: &str) -> Result<PriceHistory> {
    let (mut rdr, idx) = open(text, file, &["date", "class", "price"])?;
    let mut series: Vec<ClassSeries> = Vec::new();
    let mut last_line: BTreeMap<String, u64> = BTreeMap::new();
    for (line, r) in records(&mut rdr, file)? {
        let date_s = &r[idx[0]];
        let class = parse_class(file, line, &r[idx[1]])?;
        let date = parse_date(file, line, "date", date_s)?;
        let price = parse_price(file, line, "price", &r[idx[2]])?;
        let s = match series.iter_mut().position(|s| s.class == class) {
            Some(i) => &mut series[i],
            None => {
                series.push(ClassSeries {
                    class: class.clone(),
                    dates: Vec::new(),
                    prices: Vec::new(),
                });
                series.last_mut().expect("just pushed")
            }
        };
        if let Some(&prev) = s.dates.last() {
            let prev_line = last_line[&class];
            if date == prev {
                return Err(field_err(
                    file,
                    line,
                    "date",
                    date_s,
                    &format!("duplicate date of class {class} (also on line {prev_line})"),
                ));
            }
            if date < prev {
                return Err(field_err(
                    file,
                    line,
                    "date",
                    date_s,
                    &format!(
                        "dates of class {class} must increase: the previous row (line {prev_line}) is {prev}"
                    ),
                ));
            }
        }
        s.dates.push(date);
        s.prices.push(price);
        last_line.insert(class, line);
    }
    if series.is_empty() {
        return Err(MarketError::Format {
            file: file.to_string(),
            reason: "no observations (expected rows `date,class,price`)".into(),
        });
    }
    Ok(PriceHistory {
        file: file.to_string(),
        series,
    })
}

/// Parses a forward curve `as_of,class,tenor_months,forward` (forward in USD per GPU-hour,
/// tenor a whole number of months 1 ..= 600). Refuses malformed rows and a repeated
/// (as_of, class, tenor), naming file, line, field and value.
pub fn parse_forwards(text: &str, file: &str) -> Result<ForwardCurve> {
    let (mut rdr, idx) = open(text, file, &["as_of", "class", "tenor_months", "forward"])?;
    let mut points: Vec<ForwardPoint> = Vec::new();
    let mut seen: BTreeMap<(NaiveDate, String, u32), u64> = BTreeMap::new();
    for (line, r) in records(&mut rdr, file)? {
        let as_of = parse_date(file, line, "as_of", &r[idx[0]])?;
        let class = parse_class(file, line, &r[idx[1]])?;
        let t = &r[idx[2]];
        let tenor_months: u32 = t
            .parse()
            .ok()
            .filter(|m| (1..=600).contains(m))
            .ok_or_else(|| {
                field_err(
                    file,
                    line,
                    "tenor_months",
                    t,
                    "must be a whole number of months in 1..=600",
                )
            })?;
        let forward = parse_price(file, line, "forward", &r[idx[3]])?;
        if let Some(prev) = seen.insert((as_of, class.clone(), tenor_months), line) {
            return Err(field_err(
                file,
                line,
                "tenor_months",
                t,
                &format!("repeats the {class} quote of {as_of} on line {prev}"),
            ));
        }
        points.push(ForwardPoint {
            as_of,
            class,
            tenor_months,
            forward,
            line,
        });
    }
    if points.is_empty() {
        return Err(MarketError::Format {
            file: file.to_string(),
            reason: "no quotes (expected rows `as_of,class,tenor_months,forward`)".into(),
        });
    }
    Ok(ForwardCurve {
        file: file.to_string(),
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_parses_with_comments_and_any_column_order() {
        let t = "# synthetic\nclass,date,price\nH100,2025-01-01,2.5\nA100,2025-01-01,1.1\nH100,2025-01-02,2.4\n";
        let h = parse_history(t, "h.csv").unwrap();
        assert_eq!(h.series.len(), 2);
        assert_eq!(h.series[0].class, "H100");
        assert_eq!(h.series[0].prices, vec![2.5, 2.4]);
    }

    fn err(t: &str) -> String {
        parse_history(t, "h.csv").unwrap_err().to_string()
    }

    #[test]
    fn bad_history_names_file_line_field_and_value() {
        let e = err("date,class,price\nH100,2025-01-01,2.5\n");
        assert!(
            e.contains("h.csv:2") && e.contains("`date`") && e.contains("H100"),
            "{e}"
        );
        let e = err("date,class,price\n2025-02-30,H100,2.5\n");
        assert!(e.contains("h.csv:2") && e.contains("2025-02-30"), "{e}");
        let e = err("date,class,price\n2025-01-01,H100,-1\n");
        assert!(e.contains("`price`") && e.contains("\"-1\""), "{e}");
        let e = err("date,class,price\n2025-01-01,H100,NaN\n");
        assert!(e.contains("finite positive"), "{e}");
        let e = err("date,class,price\n2025-01-02,H100,2\n2025-01-01,H100,2\n");
        assert!(e.contains("h.csv:3") && e.contains("must increase"), "{e}");
        let e = err("date,class,price\n2025-01-02,H100,2\n2025-01-02,H100,2\n");
        assert!(e.contains("duplicate") && e.contains("line 2"), "{e}");
        let e = err("date,class,px\n");
        assert!(e.contains("px"), "{e}");
        let e = err("date,class,price\n2025-01-02,H100\n");
        assert!(e.contains("line"), "{e}");
        let e = err("date,class,price\n");
        assert!(e.contains("no observations"), "{e}");
    }

    #[test]
    fn forwards_parse_and_pick_the_latest_date() {
        let t = "as_of,class,tenor_months,forward\n2025-01-01,H100,1,2.0\n2025-02-01,H100,3,1.9\n2025-02-01,H100,1,2.1\n";
        let f = parse_forwards(t, "f.csv").unwrap();
        let (d, pts) = f.latest("H100").unwrap();
        assert_eq!(d.to_string(), "2025-02-01");
        assert_eq!(
            pts.iter().map(|p| p.tenor_months).collect::<Vec<_>>(),
            [1, 3]
        );
        assert!(f.latest("A100").is_none());
        let e = parse_forwards(
            "as_of,class,tenor_months,forward\n2025-01-01,H100,0,2\n",
            "f.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("f.csv:2") && e.contains("tenor_months"), "{e}");
        let e = parse_forwards(
            "as_of,class,tenor_months,forward\n2025-01-01,H100,1,2\n2025-01-01,H100,1,2\n",
            "f.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("repeats") && e.contains("line 2"), "{e}");
    }
}
