//! Defaults of `rbac.authorization.k8s.io/v1`: the API group of role references and subjects.

use super::{SetDefaults, is_unset, no_defaults};
use crate::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};

/// The RBAC API group, which roles, users and groups belong to.
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

no_defaults!(crate::rbac::v1::ClusterRole, crate::rbac::v1::Role);

/// `roleRef.apiGroup` and each subject's `apiGroup`.
impl SetDefaults for RoleBinding {
    fn set_defaults(&mut self) {
        binding(&mut self.role_ref, self.subjects.as_deref_mut());
    }
}

/// `roleRef.apiGroup` and each subject's `apiGroup`.
impl SetDefaults for ClusterRoleBinding {
    fn set_defaults(&mut self) {
        binding(&mut self.role_ref, self.subjects.as_deref_mut());
    }
}

/// The role reference points into the RBAC group; users and groups belong to it too, while
/// service accounts belong to the core group (`""`, which the JSON omits).
fn binding(role_ref: &mut RoleRef, subjects: Option<&mut [Subject]>) {
    if role_ref.api_group.is_empty() {
        RBAC_GROUP.clone_into(&mut role_ref.api_group);
    }
    for subject in subjects.into_iter().flatten() {
        if is_unset(&subject.api_group) && matches!(subject.kind.as_str(), "User" | "Group") {
            subject.api_group = Some(RBAC_GROUP.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::defaults::tests::{assert_defaults, assert_unchanged};
    use crate::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};

    #[test]
    fn bindings_get_api_groups() {
        let subjects_in = json!([
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs", "apiGroup": ""},
            {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
            {"kind": "Robot", "name": "r2"}
        ]);
        let subjects_out = json!([
            {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
            {"kind": "Robot", "name": "r2"}
        ]);
        assert_defaults::<RoleBinding>(
            json!({"metadata": {"name": "rb", "namespace": "ci"},
                "roleRef": {"kind": "Role", "name": "edit"}, "subjects": subjects_in.clone()}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "rb", "namespace": "ci"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "edit"},
                "subjects": subjects_out.clone()}),
        );
        assert_defaults::<ClusterRoleBinding>(
            json!({"metadata": {"name": "crb"}, "roleRef": {"apiGroup": "", "kind": "ClusterRole", "name": "view"},
                "subjects": subjects_in}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "crb"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": subjects_out}),
        );
    }

    #[test]
    fn roles_have_no_defaults() {
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
            "rules": [{"verbs": ["get"], "resources": ["pods"]}]});
        assert_unchanged::<Role>(role);
        let cluster_role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]});
        assert_unchanged::<ClusterRole>(cluster_role);
    }
}
