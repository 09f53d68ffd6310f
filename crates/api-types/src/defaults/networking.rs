//! Defaults of `networking.k8s.io/v1`. An IngressClass's namespaced-or-cluster parameters
//! reference defaults to `Cluster` scope. Ingress has no defaults in `v1`: in particular
//! `pathType` is required and not defaulted (only the removed `v1beta1` defaulted it).

use super::{SetDefaults, default_ptr, no_defaults};
use crate::networking::v1::IngressClass;

no_defaults!(crate::networking::v1::Ingress);

/// `parameters.scope: Cluster` when parameters are given without a scope.
impl SetDefaults for IngressClass {
    fn set_defaults(&mut self) {
        if let Some(parameters) = self.spec.as_mut().and_then(|s| s.parameters.as_mut()) {
            default_ptr(&mut parameters.scope, "Cluster".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::defaults::tests::{assert_defaults, assert_unchanged};
    use crate::networking::v1::{Ingress, IngressClass};

    #[test]
    fn ingress_class_parameters_scope() {
        assert_defaults::<IngressClass>(
            json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx",
                "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"}}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx", "parameters": {
                "apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p", "scope": "Cluster"
            }}}),
        );
        let bare = json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "c"}, "spec": {"controller": "example.com/c"}});
        assert_unchanged::<IngressClass>(bare);
    }

    #[test]
    fn ingress_path_type_is_not_defaulted() {
        let input = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
        "spec": {"rules": [{"http": {"paths": [
            {"path": "/", "pathType": "", "backend": {"service": {"name": "web", "port": {"number": 80}}}}
        ]}}]}});
        assert_unchanged::<Ingress>(input);
    }
}
