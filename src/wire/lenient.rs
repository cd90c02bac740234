//! Serde helpers for the leniency real traffic needs: numbers that arrive as numbers or as
//! decimal strings, and `null` where a list or object is expected.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Decodes a finite f64 from a JSON number or a decimal string.
pub(crate) struct NumberOrString;

impl Visitor<'_> for NumberOrString {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number or a decimal string")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// A number that may arrive as a JSON number or a decimal string (real traffic sends both);
/// `null` or a missing value is `None`.
pub(crate) fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<super::catalog::Price>::deserialize(d)?.map(|p| p.per_token()))
}

/// A charged amount in USD: as [`lenient_f64`], but an impossible figure (negative, not finite,
/// or over a million dollars for one answer) is unknown, never shown as a cost.
/// Anything unreadable there is unknown too: a bad cost must not cost the usage with it.
pub(crate) fn lenient_cost<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    let c = match v {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    Ok(c.filter(|c| c.is_finite() && (0.0..=1_000_000.0).contains(c)))
}

/// `null` read as the type's default (empty list, empty object).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
