pub mod sim;
pub mod truth;
