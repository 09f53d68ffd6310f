//! YAML text into JSON values, with the resolution rules of Kubernetes' YAML decoder.
