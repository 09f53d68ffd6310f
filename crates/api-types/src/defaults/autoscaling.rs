//! Defaults of `autoscaling/v1`: the Scale subresource has none.

use super::no_defaults;

no_defaults!(crate::autoscaling::v1::Scale);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::autoscaling::v1::Scale;
    use crate::defaults::tests::assert_unchanged;

    #[test]
    fn scale_is_untouched() {
        let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"},
            "spec": {"replicas": 3}});
        assert_unchanged::<Scale>(scale);
    }
}
