//! A product's stock-keeping unit, checked once where it enters (a JSON body, a path, a
//! CSV row, a command-line flag) and trusted from then on.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::DomainError;

/// 1 to 64 ASCII letters, digits, `-`, `_` or `.`; surrounding blanks are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

const MAX_LEN: usize = 64;
const RULE: &str = "sku must be 1-64 characters of letters, digits, '-', '_' or '.'";

impl Sku {
    pub fn parse(text: &str) -> Result<Sku, DomainError> {
        let text = text.trim();
        let valid = !text.is_empty()
            && text.len() <= MAX_LEN
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(Sku(text.to_owned()))
        } else {
            Err(DomainError::validation(RULE))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = InvalidSku;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Sku::parse(&text).map_err(|_| InvalidSku)
    }
}

/// What serde reports for a malformed SKU in a body or a path.
#[derive(Debug, thiserror::Error)]
#[error("{RULE}")]
pub struct InvalidSku;

impl From<Sku> for String {
    fn from(sku: Sku) -> String {
        sku.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Sku {
    type Err = DomainError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Sku::parse(text)
    }
}

impl utoipa::PartialSchema for Sku {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_LEN))
            .pattern(Some("^[A-Za-z0-9._-]{1,64}$"))
            .examples([serde_json::json!("BRD-001")])
            .into()
    }
}

impl utoipa::ToSchema for Sku {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_trimmed_and_checked() {
        assert_eq!(Sku::parse(" BRD-001 ").unwrap().as_str(), "BRD-001");
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("BRD 001").is_err());
        assert!(Sku::parse("roti'--").is_err());
        assert!(Sku::parse(&"A".repeat(65)).is_err());
        assert!(serde_json::from_str::<Sku>("\"a/b\"").is_err());
        assert_eq!(
            serde_json::to_string(&serde_json::from_str::<Sku>("\"A.1\"").unwrap()).unwrap(),
            "\"A.1\""
        );
    }
}
