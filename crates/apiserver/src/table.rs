//! Server-side printing: the columns and cells of a `meta.k8s.io` Table for each kind.

use kubernaut_api_types::Time;
use kubernaut_api_types::meta::TableColumnDefinition;
use serde_json::{Value, json};

/// Columns and cells of one kind's Table.
pub trait Printer: Send + Sync {
    /// The columns.
    fn columns(&self) -> &[TableColumnDefinition];
    /// The cells of one object.
    fn cells(&self, object: &Value, now: Time) -> Vec<Value>;
}

struct Default {
    columns: Vec<TableColumnDefinition>,
}

impl Printer for Default {
    fn columns(&self) -> &[TableColumnDefinition] {
        &self.columns
    }
    fn cells(&self, object: &Value, _now: Time) -> Vec<Value> {
        vec![
            json!(crate::object::name(object)),
            json!(crate::object::meta_str(object, "creationTimestamp").unwrap_or("")),
        ]
    }
}

/// The printer of a kind: upstream's default (`Name`, `Created At`).
pub fn printer_for(_group: &str, _kind: &str) -> &'static dyn Printer {
    static DEFAULT: std::sync::OnceLock<Default> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(|| Default {
        columns: vec![
            TableColumnDefinition {
                name: "Name".into(),
                type_: "string".into(),
                format: "name".into(),
                description: "Name must be unique within a namespace.".into(),
                priority: 0,
            },
            TableColumnDefinition {
                name: "Created At".into(),
                type_: "date".into(),
                format: String::new(),
                description: "CreationTimestamp is a timestamp representing the server time when this object was created.".into(),
                priority: 0,
            },
        ],
    })
}
