//! Defaults of `events.k8s.io/v1`: upstream defaults nothing in an Event (neither does it in the
//! core `v1` Event, see `core.rs`).

use super::no_defaults;

no_defaults!(crate::events::v1::Event);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::defaults::tests::assert_unchanged;
    use crate::events::v1::Event;

    #[test]
    fn event_is_untouched() {
        let event = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
            "eventTime": "2024-01-02T03:04:05.000000Z", "reason": "Started", "type": "Normal"});
        assert_unchanged::<Event>(event);
    }
}
