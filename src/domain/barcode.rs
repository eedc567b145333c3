//! A product's barcode as a till scanner reads it: EAN-13, or UPC-A (12 digits), with its
//! check digit verified, so that a mistyped code is refused where it enters instead of
//! never matching a scan.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::DomainError;

/// Kept in its 13-digit form: a UPC-A code is an EAN-13 code with a leading zero, and
/// scanners send either form for the same product depending on their settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

const RULE: &str =
    "barcode must be an EAN-13 (13 digits) or UPC-A (12 digits) code with a valid check digit";

impl Barcode {
    pub fn parse(text: &str) -> Result<Barcode, DomainError> {
        let text = text.trim();
        let digits = text.len() == 12 || text.len() == 13;
        if !digits || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::validation(RULE));
        }
        let code = if text.len() == 12 {
            format!("0{text}")
        } else {
            text.to_owned()
        };
        if check_digit(&code[..12]) != code.as_bytes()[12] - b'0' {
            return Err(DomainError::validation(RULE));
        }
        Ok(Barcode(code))
    }

    /// What a scan or a search term is as a barcode, if it is one.
    pub fn recognise(text: &str) -> Option<Barcode> {
        Barcode::parse(text).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The GS1 check digit of the first 12 digits: weights 1 and 3 alternating from the left.
fn check_digit(first_twelve: &str) -> u8 {
    let sum: u32 = first_twelve
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// The demo shop's and tests' way to make a valid code from a 12-digit stem.
pub fn with_check_digit(first_twelve: &str) -> Barcode {
    debug_assert!(first_twelve.len() == 12 && first_twelve.bytes().all(|b| b.is_ascii_digit()));
    Barcode(format!("{first_twelve}{}", check_digit(first_twelve)))
}

impl TryFrom<String> for Barcode {
    type Error = InvalidBarcode;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Barcode::parse(&text).map_err(|_| InvalidBarcode)
    }
}

/// What serde reports for a malformed barcode in a body or a query.
#[derive(Debug, thiserror::Error)]
#[error("{RULE}")]
pub struct InvalidBarcode;

impl From<Barcode> for String {
    fn from(code: Barcode) -> String {
        code.0
    }
}

impl fmt::Display for Barcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl utoipa::PartialSchema for Barcode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "EAN-13 or UPC-A with a valid check digit; answered in its 13-digit form",
            ))
            .pattern(Some("^[0-9]{12,13}$"))
            .examples([serde_json::json!("8991234500010")])
            .into()
    }
}

impl utoipa::ToSchema for Barcode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_pass_and_keep_their_thirteen_digit_form() {
        // A real EAN-13 (an Indonesian 899 prefix) and a real UPC-A.
        assert_eq!(
            Barcode::parse("8992761111120").unwrap().as_str(),
            "8992761111120"
        );
        assert_eq!(
            Barcode::parse(" 036000291452 ").unwrap().as_str(),
            "0036000291452"
        );
        assert_eq!(
            Barcode::parse("0036000291452").unwrap().as_str(),
            "0036000291452"
        );
    }

    #[test]
    fn a_wrong_check_digit_or_length_is_refused() {
        assert!(Barcode::parse("8992761111121").is_err());
        assert!(Barcode::parse("036000291453").is_err());
        assert!(Barcode::parse("89927611111").is_err());
        assert!(Barcode::parse("89927611111200").is_err());
        assert!(Barcode::parse("899276111112a").is_err());
        assert!(Barcode::parse("").is_err());
        assert!(serde_json::from_str::<Barcode>("\"12345\"").is_err());
    }

    #[test]
    fn generated_codes_are_valid() {
        let code = with_check_digit("899123450001");
        assert_eq!(Barcode::parse(code.as_str()).unwrap(), code);
    }
}
