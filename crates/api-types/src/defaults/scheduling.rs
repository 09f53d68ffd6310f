//! Defaults of `scheduling.k8s.io/v1`: PriorityClass.

use super::{SetDefaults, default_ptr};
use crate::scheduling::v1::PriorityClass;

/// `preemptionPolicy: PreemptLowerPriority`.
impl SetDefaults for PriorityClass {
    fn set_defaults(&mut self) {
        default_ptr(
            &mut self.preemption_policy,
            "PreemptLowerPriority".to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::defaults::tests::assert_defaults;
    use crate::scheduling::v1::PriorityClass;

    #[test]
    fn priority_class() {
        assert_defaults::<PriorityClass>(
            json!({"metadata": {"name": "high"}, "value": 1000}),
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"},
                "value": 1000, "preemptionPolicy": "PreemptLowerPriority"}),
        );
    }
}
