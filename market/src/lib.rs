//! gaib-market: the market layer. GPU-hour price indices (and forward curves) in, the
//! parameters of the price process of MODEL.md §1 out — with standard errors, diagnostics,
//! the `[[gpu_classes]]` block a portfolio file takes and an HTML page (docs/MARKET.md).
//!
//! Below the run layer: it depends on no other gaib crate, parses from `&str` (the caller
//! reads files) and returns text (the caller writes files).

mod error;
mod optim;

pub mod bootstrap;
pub mod calibrate;
pub mod correlation;
pub mod data;
pub mod estimate;
pub mod forward;
pub mod html;
pub mod output;

pub use calibrate::{
    calibrate, Calibration, ClassCalibration, Estimate, Options, StdErrorMethod, StdErrorReport,
};
pub use data::{
    parse_forwards, parse_history, ClassSeries, ForwardCurve, ForwardPoint, PriceHistory,
};
pub use error::{MarketError, Result};
