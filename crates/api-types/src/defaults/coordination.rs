//! Defaults of `coordination.k8s.io/v1`: upstream defaults nothing in a Lease.

use super::no_defaults;

no_defaults!(crate::coordination::v1::Lease);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::coordination::v1::Lease;
    use crate::defaults::tests::assert_unchanged;

    #[test]
    fn lease_is_untouched() {
        let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "node-1"}, "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40}});
        assert_unchanged::<Lease>(lease);
    }
}
