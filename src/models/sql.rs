//! SQL functions diesel's query builder does not ship, declared once for every model.

use diesel::sql_types::{Integer, Nullable, Text};

#[diesel::declare_sql_function]
extern "SQL" {
    /// `lower(text)`: case-insensitive ordering and matching.
    fn lower(x: Text) -> Text;
    /// `GREATEST(a, b)` of two integers.
    fn greatest(a: Integer, b: Integer) -> Integer;
    /// `COALESCE(a, b)` of a nullable text and a text: keep what is there, else set `b`.
    #[sql_name = "coalesce"]
    fn coalesce_text(a: Nullable<Text>, b: Text) -> Nullable<Text>;
}
