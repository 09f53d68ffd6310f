//! Examples are under `examples/`; this library is empty by design.
