//! `NamespaceLifecycle`: no new objects in a namespace that does not exist or is being
//! terminated, and the system namespaces can never be deleted.

use std::sync::Arc;

use async_trait::async_trait;
use kubernaut_api_types::meta::StatusCause;

use super::{AdmissionPlugin, Attributes, Operation};
use crate::cache::Cacher;
use crate::error::{ApiError, GroupResource};

/// Namespaces that exist from the start and may not be deleted.
pub const IMMORTAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

/// Namespaces the server creates at start-up.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Upstream's `NamespaceLifecycle` admission plugin, reading namespaces from their watch
/// cache.
#[derive(Debug)]
pub struct NamespaceLifecycle {
    namespaces: Arc<Cacher>,
}

impl NamespaceLifecycle {
    /// The plugin, looking namespaces up in `namespaces` (the namespaces' watch cache).
    pub fn new(namespaces: Arc<Cacher>) -> Self {
        NamespaceLifecycle { namespaces }
    }

    /// The phase of namespace `name`, `None` when it does not exist. A namespace missing from
    /// the cache is looked up again once the cache has caught up with the store: it may have
    /// been created a moment ago.
    async fn phase(&self, name: &str) -> Result<Option<String>, ApiError> {
        let lookup = |c: &Cacher| {
            c.get(None, name)
                .0
                .map(|ns| ns.field("status.phase").unwrap_or("").to_owned())
        };
        if let Some(phase) = lookup(&self.namespaces) {
            return Ok(Some(phase));
        }
        self.namespaces.wait_fresh().await?;
        Ok(lookup(&self.namespaces))
    }
}

#[async_trait]
impl AdmissionPlugin for NamespaceLifecycle {
    fn name(&self) -> &'static str {
        "NamespaceLifecycle"
    }

    async fn validate(&self, a: &Attributes<'_>) -> Result<(), ApiError> {
        let is_namespace = a.resource.api.group.is_empty() && a.resource.api.plural == "namespaces";
        if is_namespace && a.operation == Operation::Delete && IMMORTAL_NAMESPACES.contains(&a.name)
        {
            return Err(ApiError::forbidden(
                &GroupResource::new("", "namespaces"),
                a.name,
                "this namespace may not be deleted",
            ));
        }
        if a.operation != Operation::Create || !a.resource.namespaced() {
            return Ok(());
        }
        let Some(ns) = a.namespace else {
            return Ok(());
        };
        match self.phase(ns).await? {
            None => Err(ApiError::not_found(
                &GroupResource::new("", "namespaces"),
                ns,
            )),
            Some(phase) if phase == "Terminating" => {
                let mut e = ApiError::forbidden(
                    &a.resource.group_resource(),
                    a.name,
                    &format!(
                        "unable to create new content in namespace {ns} because it is being \
                         terminated"
                    ),
                );
                let details = e.status.details.get_or_insert_with(Default::default);
                details.causes = Some(vec![StatusCause {
                    reason: Some("NamespaceTerminating".to_owned()),
                    message: Some(format!("namespace {ns} is being terminated")),
                    field: Some("metadata.namespace".to_owned()),
                }]);
                Err(e)
            }
            Some(_) => Ok(()),
        }
    }
}
