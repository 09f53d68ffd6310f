//! Defaults of `storage.k8s.io/v1`: StorageClass.

use super::{SetDefaults, default_ptr};
use crate::storage::v1::StorageClass;

/// `reclaimPolicy: Delete` and `volumeBindingMode: Immediate`.
impl SetDefaults for StorageClass {
    fn set_defaults(&mut self) {
        default_ptr(&mut self.reclaim_policy, "Delete".to_owned());
        default_ptr(&mut self.volume_binding_mode, "Immediate".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::defaults::tests::assert_defaults;
    use crate::storage::v1::StorageClass;

    #[test]
    fn storage_class() {
        assert_defaults::<StorageClass>(
            json!({"metadata": {"name": "fast"}, "provisioner": "example.com/ssd"}),
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"},
                "provisioner": "example.com/ssd", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}),
        );
    }
}
