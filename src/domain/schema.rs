//! OpenAPI schemas for the rules the domain enforces on its inputs, so that the published
//! document refuses exactly what the server refuses (the contract Schemathesis checks in
//! CI: `scripts/fuzz-api`). Used through `#[schema(schema_with = ...)]` and
//! `#[param(schema_with = ...)]` on the input types; nothing here changes what is accepted.
//!
//! The patterns are ECMA-262 and Python regular expressions alike. "Blank" is Unicode
//! `White_Space` (what Rust's `trim` removes); "control" is general category `Cc`
//! (`char::is_control`). A free-text field is trimmed, then must be non-empty (when
//! required), at most N characters and free of control characters.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};

/// Unicode White_Space, as a character-class body.
const BLANK: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// General category Cc, as a character-class body.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

fn visible() -> String {
    // Neither blank nor control.
    format!("[^{CONTROL}{BLANK}]")
}

/// Trimmed: non-blank, at most `max` characters, no control characters inside. (The
/// length is in the pattern, not in `maxLength`: surrounding blanks do not count.)
fn text_pattern(required: bool, max: usize) -> String {
    let v = visible();
    let core = format!("{v}(?:[^{CONTROL}]{{0,{}}}{v})?", max.saturating_sub(2));
    let core = if required {
        core
    } else {
        format!("(?:{core})?")
    };
    format!("^[{BLANK}]*{core}[{BLANK}]*$")
}

fn string(nullable: bool) -> ObjectBuilder {
    let kind = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new().schema_type(kind)
}

fn text(required: bool, nullable: bool, max: usize) -> RefOr<Schema> {
    let description = if required {
        format!("Text, trimmed: 1 to {max} characters, no control characters")
    } else {
        format!("Text, trimmed: at most {max} characters, no control characters; blank means none")
    };
    string(nullable)
        .min_length(required.then_some(1))
        .pattern(Some(text_pattern(required, max)))
        .description(Some(description))
        .into()
}

/// A chat message: trimmed, 1 to 2000 characters; line breaks and tabs may appear inside,
/// no other control characters.
pub fn chat_message() -> RefOr<Schema> {
    let v = visible();
    let inside = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]";
    string(false)
        .min_length(Some(1))
        .pattern(Some(format!(
            "^[{BLANK}]*{v}(?:{inside}{{0,1998}}{v})?[{BLANK}]*$"
        )))
        .description(Some(
            "Text, trimmed: 1 to 2000 characters; line breaks and tabs allowed, no other control characters",
        ))
        .into()
}

pub fn name_100() -> RefOr<Schema> {
    text(true, false, 100)
}
pub fn name_200() -> RefOr<Schema> {
    text(true, false, 200)
}
pub fn optional_name_200() -> RefOr<Schema> {
    text(true, true, 200)
}
pub fn optional_text_50() -> RefOr<Schema> {
    text(false, true, 50)
}
pub fn optional_text_100() -> RefOr<Schema> {
    text(false, true, 100)
}
pub fn optional_text_500() -> RefOr<Schema> {
    text(false, true, 500)
}
pub fn optional_text_1000() -> RefOr<Schema> {
    text(false, true, 1000)
}

fn email_pattern(optional: bool) -> String {
    // local@domain: a local part without '@', a domain with a '.' neither first nor last,
    // no blank or control inside; surrounding blanks are trimmed.
    let inner = format!("[^{CONTROL}{BLANK}]");
    let no_at = format!("[^@{CONTROL}{BLANK}]");
    let no_dot = format!("[^.{CONTROL}{BLANK}]");
    let email = format!("{no_at}+@{no_dot}{inner}*\\.{inner}*{no_dot}");
    let email = if optional {
        format!("(?:{email})?")
    } else {
        email
    };
    format!("^[{BLANK}]*{email}[{BLANK}]*$")
}

pub fn email() -> RefOr<Schema> {
    // No `format: email`: its validators refuse addresses (non-ASCII ones) the server takes.
    string(false)
        .max_length(Some(254))
        .pattern(Some(email_pattern(false)))
        .description(Some(
            "An email address: local@domain.tld, at most 254 characters",
        ))
        .into()
}

/// The settings' email: blank clears it.
pub fn optional_email() -> RefOr<Schema> {
    string(true)
        .max_length(Some(254))
        .pattern(Some(email_pattern(true)))
        .description(Some("An email address, or blank for none"))
        .into()
}

/// A password as the rules take it: 8 to 128 characters (the server also caps it at 128
/// bytes of UTF-8: Argon2 work is bounded by bytes).
pub fn new_password() -> RefOr<Schema> {
    string(false)
        .min_length(Some(8))
        .max_length(Some(128))
        .description(Some("8 characters or more, at most 128 bytes of UTF-8"))
        .into()
}

/// A new password, or null for one the server generates.
pub fn optional_new_password() -> RefOr<Schema> {
    string(true)
        .min_length(Some(8))
        .max_length(Some(128))
        .description(Some(
            "8 characters or more, at most 128 bytes of UTF-8; null or absent: generated and returned once",
        ))
        .into()
}

/// A day the calendar accepts: YYYY-MM-DD between 1970-01-01 and 2199-12-31. (February
/// 29th is left out of the pattern: a regular expression cannot tell leap years; the
/// server accepts it in leap years.)
const DATE: &str = "(?:19[7-9][0-9]|2[01][0-9][0-9])-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))";

fn date_schema(nullable: bool) -> ObjectBuilder {
    string(nullable)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(format!("^{DATE}$")))
        .examples([serde_json::json!("2026-03-10")])
}

pub fn date() -> RefOr<Schema> {
    date_schema(false).into()
}

pub fn optional_date() -> RefOr<Schema> {
    date_schema(true).into()
}

/// A day (YYYY-MM-DD, the store's calendar) or an RFC 3339 instant.
pub fn date_or_instant() -> RefOr<Schema> {
    // Instants keep one year inside the calendar's range on each side: an offset may move
    // the UTC day across the boundary.
    let instant = r"(?:19[7-9][1-9]|198[0-9]|199[0-9]|2[01][0-9][0-8])-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])";
    string(true)
        .pattern(Some(format!("^(?:{DATE}|{instant})$")))
        .description(Some(
            "YYYY-MM-DD (a day in the store's timezone) or an RFC 3339 instant",
        ))
        .into()
}

/// Money that must not be negative: a decimal string with at most two decimals, or a
/// JSON integer. (The server also reads a JSON number with at most two decimals, but
/// "two decimals" cannot be said of binary floats: `multipleOf: 0.01` both refuses
/// amounts the server takes and allows ones it refuses, so the document offers strings.)
fn amount(nullable: bool) -> RefOr<Schema> {
    let mut kinds = vec![Type::String, Type::Integer];
    if nullable {
        kinds.push(Type::Null);
    }
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter(kinds))
        .pattern(Some(
            r"^(?:[0-9]{1,13}(?:\.[0-9]{1,2})?|10000000000000(?:\.00?)?)$",
        ))
        .minimum(Some(0))
        .maximum(Some(10_000_000_000_000_i64))
        .description(Some(
            "An amount, not negative: a decimal string with at most 2 decimals (\"12500.00\") or a JSON number",
        ))
        .examples([serde_json::json!("12500.00")])
        .into()
}

pub fn price() -> RefOr<Schema> {
    amount(false)
}

pub fn optional_price() -> RefOr<Schema> {
    amount(true)
}

/// Paging: 1 to 500 items.
pub fn limit() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .minimum(Some(1))
        .maximum(Some(500))
        .description(Some("Items per page, 1 to 500 (default 50)"))
        .into()
}

/// Paging: 0 to 10,000,000 items skipped.
pub fn offset() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .minimum(Some(0))
        .maximum(Some(10_000_000))
        .description(Some("Items skipped, 0 to 10000000 (default 0)"))
        .into()
}

fn integer(min: i64, max: i64, nullable: bool) -> RefOr<Schema> {
    let kind = if nullable {
        SchemaType::from_iter([Type::Integer, Type::Null])
    } else {
        SchemaType::new(Type::Integer)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .minimum(Some(min))
        .maximum(Some(max))
        .into()
}

/// A cart line's quantity.
pub fn quantity() -> RefOr<Schema> {
    integer(1, 100_000, false)
}

/// Opening stock of a new product.
pub fn opening_stock() -> RefOr<Schema> {
    integer(0, 1_000_000_000, true)
}

pub fn low_stock_threshold() -> RefOr<Schema> {
    integer(0, 1_000_000, true)
}

/// A stock change: non-zero, at most a billion units either way.
pub fn stock_change() -> RefOr<Schema> {
    use utoipa::openapi::schema::OneOfBuilder;
    OneOfBuilder::new()
        .item(integer(1, 1_000_000_000, false))
        .item(integer(-1_000_000_000, -1, false))
        .description(Some(
            "Units to add (positive) or remove (negative); never zero. A restock must be positive",
        ))
        .into()
}

/// ISO 4217: three letters (upper-cased by the server).
pub fn currency() -> RefOr<Schema> {
    string(true)
        .pattern(Some(format!("^[{BLANK}]*[A-Za-z]{{3}}[{BLANK}]*$")))
        .description(Some("ISO 4217 code, e.g. IDR"))
        .into()
}

/// An IANA timezone name the server knows.
pub fn timezone() -> RefOr<Schema> {
    let mut names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    names.sort_unstable();
    let mut values: Vec<serde_json::Value> = names.into_iter().map(Into::into).collect();
    values.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .description(Some("IANA timezone name, e.g. Asia/Jakarta"))
        .into()
}
