//! SQL functions diesel's query builder does not ship, declared once for every model.

use diesel::sql_types::{Integer, Text};

#[diesel::declare_sql_function]
extern "SQL" {
    /// `lower(text)`: case-insensitive ordering and matching.
    fn lower(x: Text) -> Text;
    /// `GREATEST(a, b)` of two integers.
    fn greatest(a: Integer, b: Integer) -> Integer;
}
