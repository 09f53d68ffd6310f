//! Defaults of `policy/v1`: upstream defaults nothing in a PodDisruptionBudget (an absent
//! `unhealthyPodEvictionPolicy` means `IfHealthyBudget` but stays absent) or an Eviction.

use super::no_defaults;

no_defaults!(
    crate::policy::v1::Eviction,
    crate::policy::v1::PodDisruptionBudget
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::defaults::tests::assert_unchanged;
    use crate::policy::v1::{Eviction, PodDisruptionBudget};

    #[test]
    fn pdb_and_eviction_are_untouched() {
        let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}});
        assert_unchanged::<PodDisruptionBudget>(pdb);
        let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-1"},
            "deleteOptions": {"gracePeriodSeconds": 0}});
        assert_unchanged::<Eviction>(eviction);
    }
}
