//! Hand-written behaviour of generated kinds, beside the generated modules (which are never
//! edited by hand).

use crate::ByteString;
use crate::core::v1::Secret;

impl Secret {
    /// Folds the write-only `stringData` into `data`, as the API server does when it decodes a
    /// Secret: each entry is stored as the UTF-8 bytes of its value, replacing a `data` entry of
    /// the same key, and `stringData` is cleared, so it is never stored or returned.
    ///
    /// ```
    /// use kubernaut_api_types::core::v1::Secret;
    ///
    /// let mut secret: Secret = serde_json::from_value(serde_json::json!({
    ///     "metadata": {"name": "s"},
    ///     "data": {"user": "YWRtaW4="},
    ///     "stringData": {"password": "hunter2"},
    /// }))?;
    /// secret.fold_string_data();
    /// let json = serde_json::to_value(&secret)?;
    /// assert_eq!(json["data"]["password"], "aHVudGVyMg==");
    /// assert_eq!(json["data"]["user"], "YWRtaW4=");
    /// assert!(json.get("stringData").is_none());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn fold_string_data(&mut self) {
        let Some(string_data) = self.string_data.take() else {
            return;
        };
        let data = self.data.get_or_insert_with(Default::default);
        for (key, value) in string_data {
            data.insert(key, ByteString(value.into_bytes()));
        }
    }
}
