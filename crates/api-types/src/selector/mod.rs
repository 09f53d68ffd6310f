//! Label and field selectors: parsing, printing and matching.
