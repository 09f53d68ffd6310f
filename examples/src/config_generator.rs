//! An example operator built on `kubernaut-informer`: for every Deployment annotated
//! `kubernaut.dev/generate-config: "key=value,key2=value2"`, keep a ConfigMap
//! `<deployment>-generated` with that data, owned by the Deployment. Manual edits of the
//! ConfigMap are reverted; removing the annotation deletes it; deleting the Deployment deletes
//! it too (through a finalizer, so it works without a garbage collector).
//!
//! It shows the pieces an operator uses: a [`Controller`] that `owns` its children, the
//! [`finalizer`] helper, the event [`Recorder`], writes through the controller's client
//! (read-your-own-writes), and per-object backoff on errors.

use kubernaut_api_types::SortedMap;
use std::sync::Arc;
use std::time::Duration;

use kubernaut_api_types::Resource as _;
use kubernaut_api_types::apps::v1::Deployment;
use kubernaut_api_types::core::v1::ConfigMap;
use kubernaut_api_types::meta::{ObjectMeta, OwnerReference};
use kubernaut_client::{Api, Client, DeleteParams, PostParams};
use kubernaut_informer::controller::{Action, Config, Controller};
use kubernaut_informer::events::{EventType, Recorder, Reporter};
use kubernaut_informer::finalizer::{self, Event};
use kubernaut_informer::informer::InformerFactory;

/// The annotation that asks for a generated ConfigMap.
pub const ANNOTATION: &str = "kubernaut.dev/generate-config";
/// The finalizer that deletes the ConfigMap with the Deployment.
pub const FINALIZER: &str = "kubernaut.dev/config-generator";

/// Why a reconcile failed (it is retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused a call.
    #[error("API call failed: {0}")]
    Api(#[from] kubernaut_client::Error),
    /// The finalizer helper failed.
    #[error("finalizer: {0}")]
    Finalizer(String),
    /// The annotation does not parse.
    #[error("annotation {ANNOTATION} is malformed: {0:?}")]
    BadAnnotation(String),
}

/// What reconciles share.
pub struct Context {
    /// The client writes go through (the controller's, for read-your-own-writes).
    pub client: Client,
    /// Events.
    pub recorder: Recorder,
}

/// The name of the generated ConfigMap.
pub fn generated_name(deployment: &str) -> String {
    format!("{deployment}-generated")
}

/// Parses `key=value,key2=value2`.
///
/// # Errors
/// When an entry has no `=` or an empty key.
pub fn parse_annotation(text: &str) -> Result<SortedMap<String, String>, Error> {
    let mut data = SortedMap::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (k, v) = entry
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| Error::BadAnnotation(text.to_owned()))?;
        data.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    Ok(data)
}

/// One reconcile of a Deployment.
///
/// # Errors
/// API failures, or a malformed annotation.
pub async fn reconcile(deployment: Arc<Deployment>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = deployment.metadata.namespace.clone().unwrap_or_default();
    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), &namespace);
    let wanted = deployment
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION))
        .cloned();
    // Deployments that never asked and hold no finalizer of ours are not our business.
    let ours = deployment
        .metadata
        .finalizers
        .iter()
        .flatten()
        .any(|f| f == FINALIZER);
    if wanted.is_none() && !ours {
        return Ok(Action::await_change());
    }
    let ctx2 = Arc::clone(&ctx);
    let result = finalizer::finalizer(
        &deployments,
        FINALIZER,
        Arc::clone(&deployment),
        move |event| async move {
            match event {
                Event::Apply(d) => apply(&d, &ctx2).await,
                Event::Cleanup(d) => cleanup(&d, &ctx2).await,
            }
        },
    )
    .await;
    match result {
        Ok(_) => Ok(Action::requeue(Duration::from_secs(300))),
        Err(e) => Err(Error::Finalizer(e.to_string())),
    }
}

async fn apply(deployment: &Deployment, ctx: &Context) -> Result<(), Error> {
    let namespace = deployment.metadata.namespace.clone().unwrap_or_default();
    let name = deployment.metadata.name.clone().unwrap_or_default();
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &namespace);
    let Some(text) = deployment
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION))
    else {
        // The annotation went away: so does the ConfigMap.
        return cleanup(deployment, ctx).await;
    };
    let data = parse_annotation(text)?;
    let owner = OwnerReference {
        api_version: Deployment::API_VERSION.to_owned(),
        kind: Deployment::KIND.to_owned(),
        name: name.clone(),
        uid: deployment.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    let desired = ConfigMap {
        metadata: ObjectMeta {
            name: Some(generated_name(&name)),
            namespace: Some(namespace.clone()),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        data: Some(data.clone()),
        ..ConfigMap::default()
    };
    match cms.get_opt(&generated_name(&name)).await? {
        None => {
            cms.create(&PostParams::default(), &desired).await?;
            ctx.recorder.record_for(
                deployment,
                EventType::Normal,
                "Generated",
                &format!("created ConfigMap {}", generated_name(&name)),
            );
        }
        Some(current) if current.data.as_ref() != Some(&data) => {
            let mut next = current;
            next.data = Some(data);
            cms.replace(&generated_name(&name), &PostParams::default(), &next)
                .await?;
            ctx.recorder.record_for(
                deployment,
                EventType::Normal,
                "Updated",
                &format!("updated ConfigMap {}", generated_name(&name)),
            );
        }
        Some(_) => {}
    }
    Ok(())
}

async fn cleanup(deployment: &Deployment, ctx: &Context) -> Result<(), Error> {
    let namespace = deployment.metadata.namespace.clone().unwrap_or_default();
    let name = deployment.metadata.name.clone().unwrap_or_default();
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &namespace);
    match cms
        .delete(&generated_name(&name), &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Runs the operator until `shutdown` completes.
pub async fn run(client: Client, shutdown: impl std::future::Future<Output = ()> + Send + 'static) {
    let factory = InformerFactory::new(client.clone());
    let controller = Controller::<Deployment>::new(&factory, None, Default::default())
        .owns::<ConfigMap>(&factory, None, Default::default())
        .with_config(Config {
            name: "config-generator".to_owned(),
            ..Config::default()
        })
        .graceful_shutdown_on(shutdown);
    let ctx = Arc::new(Context {
        client: controller.client(),
        recorder: Recorder::new(client, Reporter::new("config-generator")),
    });
    controller
        .run(
            reconcile,
            |_deployment, error, _ctx| {
                tracing::warn!(%error, "reconcile failed; backing off");
                Action::backoff()
            },
            ctx,
        )
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_parse_into_data() {
        let d = parse_annotation("mode=fast, level = 3,").unwrap();
        assert_eq!(d.get("mode").map(String::as_str), Some("fast"));
        assert_eq!(d.get("level").map(String::as_str), Some("3"));
        assert!(parse_annotation("nokey").is_err());
        assert!(parse_annotation("=v").is_err());
        assert!(parse_annotation("").unwrap().is_empty());
    }
}
