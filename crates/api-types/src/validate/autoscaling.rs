//! The autoscaling group as far as kubernaut models it: the `scale` subresource's Scale, as
//! upstream's `ValidateScale` (object metadata, and replicas not negative).

use super::Validate;
use super::field::{ErrorList, FieldError, Path};
use super::meta;
use super::names;
use crate::autoscaling::v1::Scale;

impl Validate for Scale {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        if let Some(replicas) = self.spec.as_ref().and_then(|s| s.replicas)
            && replicas < 0
        {
            errs.push(FieldError::invalid(
                &Path::new("spec").child("replicas"),
                replicas,
                "must be greater than or equal to 0",
            ));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaling::v1::ScaleSpec;
    use crate::meta::ObjectMeta;

    #[test]
    fn negative_replicas_are_invalid() {
        let mut scale = Scale {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(ScaleSpec { replicas: Some(3) }),
            ..Default::default()
        };
        assert!(scale.validate().is_empty());
        scale.spec = Some(ScaleSpec { replicas: Some(-1) });
        let errs: Vec<String> = scale.validate().iter().map(ToString::to_string).collect();
        assert_eq!(
            errs,
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
        );
    }
}
