//! kubernaut client (work in progress).
pub mod api;
pub mod body;
pub mod client;
pub mod config;
pub mod discovery;
pub mod error;
pub mod params;
pub mod tls;
pub mod transport;
pub mod watch;

pub use api::Api;
pub use client::Client;
pub use discovery::Discovery;
pub use error::Error;
pub use params::ListParams;

#[cfg(test)]
mod test_support;
