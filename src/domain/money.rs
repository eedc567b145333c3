//! Exact money: integer minor units (cents). Read from JSON as a number or a decimal
//! string, written as a string with two decimals.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount we accept: ten trillion in major units, far below i64 overflow
/// even when multiplied by a large quantity.
const MAX_CENTS: i64 = 1_000_000_000_000_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not a decimal amount: {0:?}")]
    NotANumber(String),
    #[error("at most 2 decimal places are allowed: {0:?}")]
    TooPrecise(String),
    #[error("amount out of range: {0:?}")]
    OutOfRange(String),
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0
            .checked_add(other.0)
            .filter(|c| c.abs() <= MAX_CENTS)
            .map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Money> {
        self.0
            .checked_mul(quantity)
            .filter(|c| c.abs() <= MAX_CENTS)
            .map(Money)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let value = Decimal::from_str_exact(trimmed)
            .or_else(|_| Decimal::from_scientific(trimmed))
            .map_err(|_| MoneyError::NotANumber(text.to_owned()))?
            .normalize();
        if value.scale() > 2 {
            return Err(MoneyError::TooPrecise(text.to_owned()));
        }
        let cents = value
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|c| i64::try_from(c).ok())
            .filter(|c| c.abs() <= MAX_CENTS)
            .ok_or_else(|| MoneyError::OutOfRange(text.to_owned()))?;
        Ok(Money(cents))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MoneyVisitor;

        impl Visitor<'_> for MoneyVisitor {
            type Value = Money;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a number or a decimal string, e.g. 12.50 or \"12.50\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                // Rust prints the shortest text that reads back as the same double, which is
                // the text the client wrote for any amount with few enough digits.
                if !v.is_finite() {
                    return Err(E::custom("amount must be finite"));
                }
                self.visit_str(&v.to_string())
            }
        }

        deserializer.deserialize_any(MoneyVisitor)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^-?[0-9]+\.[0-9]{2}$"))
            .description(Some(
                "Exact amount as a decimal string with two decimals. (Request fields that take money say so in their own schema: a decimal string or a JSON number.)",
            ))
            .examples([serde_json::json!("12500.00")])
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Money, String> {
        serde_json::from_str::<Money>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_and_strings_read_exactly() {
        assert_eq!(parse("19.99").unwrap().cents(), 1999);
        assert_eq!(parse("\"19.99\"").unwrap().cents(), 1999);
        assert_eq!(parse("0.1").unwrap().cents(), 10);
        assert_eq!(parse("15000").unwrap().cents(), 1_500_000);
        assert_eq!(parse("\"1e2\"").unwrap().cents(), 10_000);
        assert_eq!(parse("\"2.50\"").unwrap().cents(), 250);
    }

    #[test]
    fn too_precise_or_silly_amounts_are_refused() {
        assert!(parse("1.234").unwrap_err().contains("2 decimal places"));
        assert!(parse("\"abc\"").is_err());
        assert!(parse("\"'; DROP TABLE products; --\"").is_err());
        assert!(parse("1e30").is_err());
        assert!(parse("true").is_err());
    }

    #[test]
    fn written_with_two_decimals() {
        assert_eq!(
            serde_json::to_string(&Money::from_cents(1999)).unwrap(),
            "\"19.99\""
        );
        assert_eq!(Money::from_cents(5).to_string(), "0.05");
        assert_eq!(Money::from_cents(-250).to_string(), "-2.50");
    }

    #[test]
    fn arithmetic_refuses_overflow() {
        assert!(Money::from_cents(MAX_CENTS).checked_mul(2).is_none());
        assert_eq!(
            Money::from_cents(250).checked_mul(3),
            Some(Money::from_cents(750))
        );
    }
}
