//! Mapping errors to exit codes, exactly once. Every library error says whose fault it is
//! ([`gaib_runs::ErrorClass`]); this module only translates the class.

use gaib_contracts::ContractsError;
use gaib_engine::EngineError;
use gaib_pricing::PricingError;
use gaib_runs::{ErrorClass, RunError};
use gaib_simulator::SimError;
use std::fmt;
use std::process::ExitCode;

/// An error of the CLI's own (argument combinations clap cannot express), with its class.
#[derive(Debug)]
pub(crate) struct CliError {
    /// Whose fault.
    pub(crate) class: ErrorClass,
    /// Message for the user.
    pub(crate) message: String,
}

impl CliError {
    /// Bad input (exit 2).
    pub(crate) fn invalid(message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(CliError {
            class: ErrorClass::Input,
            message: message.into(),
        })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// The exit code of a class: 2 input, 3 mismatch, 130 cancelled (Ctrl-C), 1 internal.
pub(crate) fn code(class: ErrorClass) -> u8 {
    match class {
        ErrorClass::Input => 2,
        ErrorClass::Mismatch => 3,
        ErrorClass::Cancelled => 130,
        ErrorClass::Internal => 1,
    }
}

/// The class of the first classified error in the chain (internal if none is).
pub(crate) fn class_of(e: &anyhow::Error) -> ErrorClass {
    for cause in e.chain() {
        if let Some(c) = cause.downcast_ref::<CliError>() {
            return c.class;
        }
        if let Some(r) = cause.downcast_ref::<RunError>() {
            return r.class();
        }
        if let Some(x) = cause.downcast_ref::<EngineError>() {
            return x.class();
        }
        if let Some(x) = cause.downcast_ref::<SimError>() {
            return x.class();
        }
        if let Some(x) = cause.downcast_ref::<PricingError>() {
            return x.class();
        }
        if let Some(x) = cause.downcast_ref::<ContractsError>() {
            return if x.is_input_error() {
                ErrorClass::Input
            } else {
                ErrorClass::Internal
            };
        }
    }
    ErrorClass::Internal
}

/// Prints the error and returns its exit code.
pub(crate) fn report(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    ExitCode::from(code(class_of(e)))
}
