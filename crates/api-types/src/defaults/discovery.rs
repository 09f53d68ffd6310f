//! Defaults of `discovery.k8s.io/v1`: EndpointSlice ports.

use super::{SetDefaults, default_ptr};
use crate::discovery::v1::EndpointSlice;

/// Every port gets `name: ""` and `protocol: TCP` when they are absent.
impl SetDefaults for EndpointSlice {
    fn set_defaults(&mut self) {
        for port in self.ports.iter_mut().flatten() {
            default_ptr(&mut port.name, String::new());
            default_ptr(&mut port.protocol, "TCP".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::defaults::tests::assert_defaults;
    use crate::discovery::v1::EndpointSlice;

    #[test]
    fn endpoint_slice_ports() {
        assert_defaults::<EndpointSlice>(
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "web-abc"},
                "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"]}],
                "ports": [{"port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"}]}),
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "web-abc"},
                "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"]}],
                "ports": [{"name": "", "port": 80, "protocol": "TCP"}, {"name": "dns", "port": 53, "protocol": "UDP"}]}),
        );
    }
}
