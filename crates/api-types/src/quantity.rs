//! Placeholder while the real implementation lands.
/// tmp
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Quantity(pub String);
/// tmp
#[derive(Debug, thiserror::Error)]
#[error("bad")]
pub struct QuantityError;
