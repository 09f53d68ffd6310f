//! Admission: plugins that see every write after authentication and may change it, refuse it
//! or reserve something for it, as upstream's admission chain.
//!
//! A write runs, in order: every plugin's [`AdmissionPlugin::admit`] (mutating, before the
//! object is validated), the kind's validation, every plugin's
//! [`AdmissionPlugin::validate`], then every plugin's [`AdmissionPlugin::reserve`] (taking
//! what the object needs, like a Service's cluster IP), the store write, and finally each
//! reservation's `commit` (the write is durable) or `release` (it failed or was a dry run).
//!
//! Every plugin lives in a module of its own with the same shape: the plugin type, its
//! constructor, its `AdmissionPlugin` implementation and its tests.

pub mod namespace;
pub mod service;

use async_trait::async_trait;
use serde_json::Value;

use crate::auth::UserInfo;
use crate::error::ApiError;
use crate::resources::ResourceSpec;

pub use namespace::NamespaceLifecycle;
pub use service::{ServiceAllocation, ServiceAllocationConfig};

/// The kind of write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// A new object.
    Create,
    /// A change to an existing object (update, patch, status, scale).
    Update,
    /// A deletion (the object is gone once the write commits).
    Delete,
}

/// What a plugin sees of a write.
#[derive(Debug)]
pub struct Attributes<'a> {
    /// Create, update or delete.
    pub operation: Operation,
    /// The resource.
    pub resource: &'a ResourceSpec,
    /// The subresource (`status`, `scale`), if the write goes through one.
    pub subresource: Option<&'a str>,
    /// The namespace of the object, for namespaced resources.
    pub namespace: Option<&'a str>,
    /// The object's name.
    pub name: &'a str,
    /// The object as it will be written (for a delete: as it is).
    pub object: &'a mut Value,
    /// The stored object, for updates and deletes.
    pub old_object: Option<&'a Value>,
    /// Whether the write is a dry run: nothing will be persisted.
    pub dry_run: bool,
    /// Who is writing.
    pub user: &'a UserInfo,
}

/// Something a plugin holds for a write until it is known to have succeeded or failed.
pub trait Reservation: Send {
    /// The write is durable: keep what was reserved (or free what the write released).
    fn commit(self: Box<Self>);
    /// The write failed or was a dry run: give back what was reserved.
    fn release(self: Box<Self>);
}

/// An admission plugin.
#[async_trait]
pub trait AdmissionPlugin: Send + Sync + 'static {
    /// The plugin's name, as upstream names it (`NamespaceLifecycle`).
    fn name(&self) -> &'static str;

    /// Changes the object before it is validated.
    ///
    /// # Errors
    /// Refuses the write.
    async fn admit(&self, _attributes: &mut Attributes<'_>) -> Result<(), ApiError> {
        Ok(())
    }

    /// Checks the validated object.
    ///
    /// # Errors
    /// Refuses the write.
    async fn validate(&self, _attributes: &Attributes<'_>) -> Result<(), ApiError> {
        Ok(())
    }

    /// Takes what the write needs (filling it into the object), just before it is stored.
    ///
    /// # Errors
    /// Refuses the write (nothing is held then).
    async fn reserve(
        &self,
        _attributes: &mut Attributes<'_>,
    ) -> Result<Option<Box<dyn Reservation>>, ApiError> {
        Ok(None)
    }
}

/// The plugins, in order.
#[derive(Default)]
pub struct AdmissionChain {
    plugins: Vec<std::sync::Arc<dyn AdmissionPlugin>>,
}

impl std::fmt::Debug for AdmissionChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.plugins.iter().map(|p| p.name()))
            .finish()
    }
}

/// What a chain reserved for one write.
#[must_use = "commit or release the reservations"]
#[derive(Default)]
pub struct Reservations(Vec<Box<dyn Reservation>>);

impl std::fmt::Debug for Reservations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reservations({})", self.0.len())
    }
}

impl Reservations {
    /// Keeps everything.
    pub fn commit(self) {
        for r in self.0 {
            r.commit();
        }
    }

    /// Gives everything back.
    pub fn release(self) {
        for r in self.0 {
            r.release();
        }
    }

    /// Commits when `ok`, releases otherwise.
    pub fn finish(self, ok: bool) {
        if ok { self.commit() } else { self.release() }
    }
}

impl AdmissionChain {
    /// An empty chain.
    pub fn new() -> Self {
        AdmissionChain::default()
    }

    /// Appends a plugin.
    pub fn push(&mut self, plugin: std::sync::Arc<dyn AdmissionPlugin>) {
        self.plugins.push(plugin);
    }

    /// Runs every plugin's `admit`.
    ///
    /// # Errors
    /// The first refusal.
    pub async fn admit(&self, attributes: &mut Attributes<'_>) -> Result<(), ApiError> {
        for p in &self.plugins {
            p.admit(attributes).await?;
        }
        Ok(())
    }

    /// Runs every plugin's `validate`.
    ///
    /// # Errors
    /// The first refusal.
    pub async fn validate(&self, attributes: &Attributes<'_>) -> Result<(), ApiError> {
        for p in &self.plugins {
            p.validate(attributes).await?;
        }
        Ok(())
    }

    /// Runs every plugin's `reserve`; on a refusal, what earlier plugins reserved is released.
    ///
    /// # Errors
    /// The first refusal.
    pub async fn reserve(&self, attributes: &mut Attributes<'_>) -> Result<Reservations, ApiError> {
        let mut held = Reservations::default();
        for p in &self.plugins {
            match p.reserve(attributes).await {
                Ok(Some(r)) => held.0.push(r),
                Ok(None) => {}
                Err(e) => {
                    held.release();
                    return Err(e);
                }
            }
        }
        Ok(held)
    }
}
