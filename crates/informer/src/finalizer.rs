//! A finalizer helper: a reconciler that must clean up before its object goes away keeps a
//! finalizer on the object, and this helper adds it, runs the reconciler's `Apply` while the
//! object lives and its `Cleanup` once it is being deleted, then removes the finalizer — every
//! write guarded so that no concurrent change is lost.
//!
//! ```no_run
//! use std::sync::Arc;
//! use kubernaut_api_types::core::v1::ConfigMap;
//! use kubernaut_client::Api;
//! use kubernaut_informer::finalizer::{Event, finalizer};
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("the mirror is unreachable")]
//! struct MirrorDown;
//!
//! # async fn reconcile(api: Api<ConfigMap>, config_map: Arc<ConfigMap>) -> Result<(), Box<dyn std::error::Error>> {
//! let outcome = finalizer(&api, "mirror.example.com/cleanup", config_map, |event| async move {
//!     match event {
//!         // Make the world match the object; idempotent.
//!         Event::Apply(cm) => Ok::<_, MirrorDown>(()),
//!         // Undo what Apply did; idempotent too.
//!         Event::Cleanup(cm) => Ok(()),
//!     }
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Expected flow
//! 1. The object is created; the reconciler is called with it.
//! 2. The helper adds the finalizer (a guarded JSON Patch) and runs `Apply` with the object the
//!    server returned.
//! 3. Each later reconcile of the live object runs `Apply`.
//! 4. The object is deleted: the API server only sets `deletionTimestamp`, because the
//!    finalizer is there.
//! 5. The next reconcile runs `Cleanup`; once it succeeds the helper removes the finalizer (a
//!    guarded JSON Patch), and the API server deletes the object when no finalizer is left.
//!
//! # Guarantees
//! - `Apply` never runs before the finalizer is stored on the object, so `Cleanup` runs before
//!   the object is gone for everything `Apply` may have done (as long as nobody else removes
//!   the finalizer).
//! - The finalizer is removed only after `Cleanup` returned `Ok`.
//! - No write overwrites a change this reconcile did not see: adding tests the finalizer list
//!   as read (or, when the object had none, its `resourceVersion`), removing tests that the
//!   finalizer is still at the index it was read at, and both test the object's UID, so a
//!   patch never lands on a newer object of the same name. A failed test is reported as
//!   [`Error::Conflict`]: reconcile again from a fresh copy of the object.
//!
//! # Assumptions
//! - `Apply` and `Cleanup` are idempotent: a reconcile may run again after any failure or
//!   cancellation (the process may stop between `Cleanup` and the removal of the finalizer, so
//!   `Cleanup` can run twice).
//! - The object was read from the API server (it has a name, a UID and a `resourceVersion`),
//!   from a cache at worst: a stale copy only costs a conflict and a retry.
//! - The finalizer name is owned by this reconciler alone, in the `domain/name` form upstream
//!   recommends; nobody else adds or removes it.
//! - `Cleanup` does not fail forever: while it fails, the object cannot be deleted.
//!
//! # Caveats
//! - Adding the finalizer is a write, and the write is itself a change that a watch delivers:
//!   the reconciler will be called again for it. That is harmless (`Apply` is idempotent).
//! - An object deleted before the finalizer was added is never cleaned up: nothing was applied
//!   either, since `Apply` only runs once the finalizer is stored.
//! - Removing the finalizer from an object with no other finalizer deletes it; any later write
//!   of the reconciler to that object will fail with `NotFound`.
//! - Deleting the namespace of an object whose controller is not running leaves the namespace
//!   `Terminating` until the finalizer is removed by hand.

use std::future::Future;
use std::sync::Arc;

use kubernaut_api_types::meta::ObjectMeta;
use kubernaut_api_types::{Resource, Scope};
use kubernaut_client::{Api, Patch, PatchParams};
use serde_json::{Value, json};

/// What the reconciler is asked to do.
#[derive(Debug)]
pub enum Event<K> {
    /// The object lives and carries the finalizer: make the world match it.
    Apply(Arc<K>),
    /// The object is being deleted and still carries the finalizer: undo what `Apply` did.
    Cleanup(Arc<K>),
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// `Apply` ran (after the finalizer was added, if it was missing) and returned this.
    Applied(T),
    /// `Cleanup` ran, returned this, and the finalizer was removed; the object may be gone.
    CleanedUp(T),
    /// The object is being deleted and does not carry the finalizer (it was never added, or
    /// cleanup already finished): nothing ran.
    NotTracked,
}

impl<T> Outcome<T> {
    /// What the reconciler returned, unless nothing ran.
    pub fn into_inner(self) -> Option<T> {
        match self {
            Outcome::Applied(t) | Outcome::CleanedUp(t) => Some(t),
            Outcome::NotTracked => None,
        }
    }
}

/// The write that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Adding the finalizer.
    AddFinalizer,
    /// Removing the finalizer.
    RemoveFinalizer,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Operation::AddFinalizer => "adding the finalizer",
            Operation::RemoveFinalizer => "removing the finalizer",
        })
    }
}

/// Why [`finalizer`] failed. Every variant but [`Error::UnnamedObject`],
/// [`Error::MissingResourceVersion`] and [`Error::InvalidFinalizerName`] is worth retrying
/// (with backoff) from a fresh copy of the object.
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// `Apply` failed; the finalizer is on the object.
    #[error("apply failed: {0}")]
    ApplyFailed(#[source] E),
    /// `Cleanup` failed; the finalizer stays on the object, which cannot be deleted until a
    /// cleanup succeeds.
    #[error("cleanup failed: {0}")]
    CleanupFailed(#[source] E),
    /// The object changed since it was read (or is gone), so the guarded patch was refused:
    /// reconcile again from a fresh copy. Nothing was lost.
    #[error("the object changed while {operation}; reconcile it again from a fresh copy")]
    Conflict {
        /// The write that was refused.
        operation: Operation,
        /// The server's answer.
        #[source]
        source: kubernaut_client::Error,
    },
    /// A write failed for another reason (unreachable server, forbidden, invalid finalizer
    /// name).
    #[error("{operation} failed: {source}")]
    Write {
        /// The write that failed.
        operation: Operation,
        /// The failure.
        #[source]
        source: kubernaut_client::Error,
    },
    /// The object has no name, so it cannot be patched.
    #[error("the object has no name")]
    UnnamedObject,
    /// The object has no `resourceVersion`: it was not read from the API server, so a write
    /// cannot be guarded.
    #[error("the object has no resourceVersion; read it from the API server first")]
    MissingResourceVersion,
    /// The finalizer name is empty.
    #[error("the finalizer name is empty")]
    InvalidFinalizerName,
}

impl<E> Error<E> {
    /// Whether the object changed under a guarded write ([`Error::Conflict`]).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }
}

/// Runs `reconcile` for `object` under the finalizer `finalizer_name`; see the
/// [module documentation](self) for the contract.
///
/// The object is patched in its own namespace, through `api`'s client (an `Api` over all
/// namespaces will do).
///
/// # Errors
/// See [`Error`]; `Apply` and `Cleanup` failures come back as [`Error::ApplyFailed`] and
/// [`Error::CleanupFailed`].
pub async fn finalizer<K, F, Fut, T, E>(
    api: &Api<K>,
    finalizer_name: &str,
    object: Arc<K>,
    reconcile: F,
) -> Result<Outcome<T>, Error<E>>
where
    K: Resource,
    F: FnOnce(Event<K>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    if finalizer_name.is_empty() {
        return Err(Error::InvalidFinalizerName);
    }
    let meta = object.meta();
    let name = meta
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or(Error::UnnamedObject)?;
    let api = object_api(api, meta);
    let deleting = meta.deletion_timestamp.is_some_and(|t| !t.is_zero());
    let index = meta
        .finalizers
        .iter()
        .flatten()
        .position(|f| f == finalizer_name);
    match (deleting, index) {
        (false, Some(_)) => reconcile(Event::Apply(object))
            .await
            .map(Outcome::Applied)
            .map_err(Error::ApplyFailed),
        (false, None) => {
            let patch = add_patch(meta, finalizer_name)?;
            let patched = guarded_patch(&api, &name, meta, patch, Operation::AddFinalizer).await?;
            reconcile(Event::Apply(Arc::new(patched)))
                .await
                .map(Outcome::Applied)
                .map_err(Error::ApplyFailed)
        }
        (true, Some(index)) => {
            let cleaned = reconcile(Event::Cleanup(Arc::clone(&object)))
                .await
                .map_err(Error::CleanupFailed)?;
            let meta = object.meta();
            let patch = remove_patch(meta, index, finalizer_name);
            match guarded_patch(&api, &name, meta, patch, Operation::RemoveFinalizer).await {
                Ok(_) => {}
                // Gone: every finalizer, ours included, was removed and the object deleted.
                Err(Error::Write { source, .. } | Error::Conflict { source, .. })
                    if source.is_not_found() => {}
                Err(e) => return Err(e),
            }
            Ok(Outcome::CleanedUp(cleaned))
        }
        (true, None) => Ok(Outcome::NotTracked),
    }
}

/// The `Api` of the object's own namespace.
fn object_api<K>(api: &Api<K>, meta: &ObjectMeta) -> Api<K> {
    match meta.namespace.as_deref() {
        Some(ns) if api.resource().scope == Scope::Namespaced && api.namespace() != Some(ns) => {
            Api::namespaced_with(api.client().clone(), ns, api.resource())
        }
        _ => api.clone(),
    }
}

/// A `test` of the object's UID, when it has one.
fn uid_test(meta: &ObjectMeta) -> Option<Value> {
    meta.uid
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|uid| json!({"op": "test", "path": "/metadata/uid", "value": uid}))
}

/// Appends the finalizer, guarded by the list as read (or the resource version, when there is
/// no list to compare: a JSON Patch `test` cannot tell "absent" from "changed").
fn add_patch<E>(meta: &ObjectMeta, finalizer_name: &str) -> Result<Value, Error<E>> {
    let finalizers = meta.finalizers.as_deref().unwrap_or_default();
    let mut ops: Vec<Value> = uid_test(meta).into_iter().collect();
    if finalizers.is_empty() {
        let rv = meta
            .resource_version
            .as_deref()
            .filter(|rv| !rv.is_empty())
            .ok_or(Error::MissingResourceVersion)?;
        ops.push(json!({"op": "test", "path": "/metadata/resourceVersion", "value": rv}));
        ops.push(json!({"op": "add", "path": "/metadata/finalizers", "value": [finalizer_name]}));
    } else {
        ops.push(json!({"op": "test", "path": "/metadata/finalizers", "value": finalizers}));
        ops.push(json!({"op": "add", "path": "/metadata/finalizers/-", "value": finalizer_name}));
    }
    Ok(Value::Array(ops))
}

/// Removes the finalizer at `index`, guarded by a test that it is still there.
fn remove_patch(meta: &ObjectMeta, index: usize, finalizer_name: &str) -> Value {
    let path = format!("/metadata/finalizers/{index}");
    let mut ops: Vec<Value> = uid_test(meta).into_iter().collect();
    ops.push(json!({"op": "test", "path": path, "value": finalizer_name}));
    ops.push(json!({"op": "remove", "path": path}));
    Value::Array(ops)
}

/// Sends a guarded JSON Patch. A failed `test` comes back as `422 Invalid` (as upstream
/// answers it), which an invalid result also would: the object is read again, and the failure
/// is a conflict when the object changed (or is gone).
async fn guarded_patch<K: Resource, E>(
    api: &Api<K>,
    name: &str,
    read: &ObjectMeta,
    patch: Value,
    operation: Operation,
) -> Result<K, Error<E>> {
    let source = match api
        .patch(name, &PatchParams::default(), &Patch::<Value>::Json(patch))
        .await
    {
        Ok(patched) => return Ok(patched),
        Err(e) => e,
    };
    if source.is_conflict() || source.is_not_found() {
        return Err(Error::Conflict { operation, source });
    }
    if source.is_invalid() {
        let changed = match api.get_opt(name).await {
            Ok(None) => true,
            Ok(Some(current)) => {
                let meta = current.meta();
                meta.resource_version != read.resource_version || meta.uid != read.uid
            }
            Err(_) => false,
        };
        if changed {
            return Err(Error::Conflict { operation, source });
        }
    }
    Err(Error::Write { operation, source })
}

#[cfg(test)]
mod tests;
