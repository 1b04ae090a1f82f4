//! Shared helpers of the integration tests: the repository root, the sample portfolio and the
//! sample under a scenario file (from gaib-testkit).

#![allow(unused_imports)]

pub(crate) use gaib_testkit::engine::{sample, sample_hedged, stressed};
pub(crate) use gaib_testkit::root;
