//! Validated scalar values of the config file: durations, bounded numbers, http(s) URLs and
//! regexes. Each one checks itself while the file is deserialized, so a bad value is reported
//! with the file's line and column.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A positive duration written as a string: `"500ms"`, `"15s"`, `"1m30s"`, `"2h"`, `"1d"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

/// Parses `"15s"`, `"1m30s"`, `"500ms"`, ...: whole numbers, each followed by one of the units
/// `ms`, `s`, `m`, `h`, `d`. Zero is refused: every duration in the file is an interval or a
/// timeout, where zero makes no sense.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const HINT: &str = "use whole numbers with ms, s, m, h or d, e.g. \"15s\" or \"1m30s\"";
    let bad = |why: &str| format!("invalid duration {text:?}: {why} ({HINT})");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad("it is empty"));
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad("expected a number"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| bad("the number is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let seconds_per_unit = match unit {
            "ms" => None,
            "s" => Some(1),
            "m" => Some(60),
            "h" => Some(3600),
            "d" => Some(86_400),
            "" => return Err(bad("a unit is missing")),
            other => return Err(bad(&format!("unknown unit {other:?}"))),
        };
        let part = match seconds_per_unit {
            None => Duration::from_millis(number),
            Some(per) => number
                .checked_mul(per)
                .map(Duration::from_secs)
                .ok_or_else(|| bad("it is too large"))?,
        };
        total = total
            .checked_add(part)
            .ok_or_else(|| bad("it is too large"))?;
    }
    if total.is_zero() {
        return Err(bad("it must be more than zero"));
    }
    Ok(total)
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"15s\" or \"1m30s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationValue, E> {
                parse_duration(v).map(DurationValue).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// An anomaly sensitivity between 0 and 1 (0.5 leaves scores unchanged; higher fires more).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SensitivityValue(pub f64);

/// Checks a sensitivity: a finite number from 0 to 1.
pub fn check_sensitivity(value: f64) -> Result<f64, String> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "invalid sensitivity {value}: it must be between 0 and 1 (0.5 is the default; \
             higher fires more often)"
        ))
    }
}

/// An SLO objective of an error-ratio watch: the share of good events, strictly between 0 and 1
/// (0.999 for 99.9 %).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SloValue(pub f64);

/// Checks an SLO objective: a finite ratio strictly between 0 and 1.
pub fn check_slo(value: f64) -> Result<f64, String> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(format!(
            "invalid slo {value}: it is the objective as a ratio strictly between 0 and 1, \
             such as 0.999 for 99.9 %"
        ))
    }
}

/// A capacity limit a watched value can reach (100 for a percentage): finite and above zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CapacityValue(pub f64);

/// Checks a capacity: a finite number above zero.
pub fn check_capacity(value: f64) -> Result<f64, String> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "invalid capacity {value}: it must be a number above zero, such as 100 for a \
             percentage"
        ))
    }
}

/// `Deserialize` for a number newtype checked by `$check` (integers are accepted as floats).
macro_rules! checked_number {
    ($ty:ident, $expecting:literal, $check:path) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$ty, E> {
                        $check(v).map($ty).map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                        self.visit_f64(v as f64)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                        self.visit_f64(v as f64)
                    }
                }
                deserializer.deserialize_f64(V)
            }
        }
    };
}

checked_number!(
    SensitivityValue,
    "a sensitivity between 0 and 1, such as 0.5",
    check_sensitivity
);
checked_number!(
    SloValue,
    "an SLO objective between 0 and 1, such as 0.999",
    check_slo
);
checked_number!(
    CapacityValue,
    "a capacity above zero, such as 100",
    check_capacity
);

/// An `http://` or `https://` base URL without inline credentials. A path prefix is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl(pub String);

/// Checks a base URL: it parses, is http or https, and carries no password (secrets are never
/// written inline). Error messages quote the URL with any password masked.
pub fn check_http_url(raw: &str) -> Result<reqwest::Url, String> {
    let shown = mask_url_password(raw);
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| format!("invalid URL {shown:?}: {e} (expected e.g. \"http://host:9090\")"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "invalid URL {shown:?}: the scheme must be http or https, not {:?}",
            url.scheme()
        ));
    }
    if url.password().is_some() {
        return Err(format!(
            "URL {shown:?} has a password in it; secrets are never written inline: \
             use basic = {{ user = ..., password_file = ... }} or password_env"
        ));
    }
    Ok(url)
}

/// `https://u:secret@host` -> `https://u:***@host`; anything after `://` and before `@` is
/// masked when the text does not parse as a URL.
pub fn mask_url_password(raw: &str) -> String {
    if let Ok(mut url) = reqwest::Url::parse(raw.trim()) {
        if url.password().is_some() && url.set_password(Some("***")).is_ok() {
            return url.to_string();
        }
        if url.password().is_none() {
            return raw.to_owned();
        }
    }
    match (raw.find("://"), raw.rfind('@')) {
        (Some(start), Some(at)) if at > start + 3 => {
            format!("{}***{}", &raw[..start + 3], &raw[at..])
        }
        _ => raw.to_owned(),
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HttpUrl;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an http:// or https:// URL string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HttpUrl, E> {
                check_http_url(v)
                    .map(|_| HttpUrl(v.trim().to_owned()))
                    .map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A regular expression (Rust `regex` syntax), checked when the file is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern(pub String);

impl Pattern {
    pub fn compile(&self) -> Result<regex::Regex, String> {
        regex::Regex::new(&self.0)
            .map_err(|e| format!("invalid regex {:?}: {}", self.0, one_line(&e.to_string())))
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Pattern;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a regular expression string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Pattern, E> {
                let pattern = Pattern(v.to_owned());
                pattern.compile().map(|_| pattern).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// The regex crate's multi-line error (pattern, caret, message) folded into one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Expands a leading `~` or `~/` with `home`. `~user` is not expanded (left as written).
pub fn expand_tilde(raw: &str, home: Option<&str>) -> Result<PathBuf, String> {
    let rest = match raw.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => return Ok(PathBuf::from(raw)),
    };
    match home.filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(format!("{home}{rest}"))),
        None => Err(format!("cannot expand {raw:?}: $HOME is not set")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "",
            "15",
            "s",
            "15x",
            "0s",
            "1.5s",
            "-1s",
            "99999999999999999999s",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn urls() {
        assert!(check_http_url("https://mimir.example.com/prometheus").is_ok());
        assert!(check_http_url("ftp://x")
            .unwrap_err()
            .contains("http or https"));
        assert!(check_http_url("not a url")
            .unwrap_err()
            .contains("\"not a url\""));
        let err = check_http_url("https://u:hunter2@h/").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("u:***@h"), "{err}");
        assert_eq!(mask_url_password("ht tp://u:hunter2@h"), "ht tp://***@h");
    }

    #[test]
    fn tilde() {
        assert_eq!(
            expand_tilde("~/rb", Some("/home/ada")),
            Ok(PathBuf::from("/home/ada/rb"))
        );
        assert_eq!(expand_tilde("~", Some("/h")), Ok(PathBuf::from("/h")));
        assert_eq!(expand_tilde("~bob/x", None), Ok(PathBuf::from("~bob/x")));
        assert_eq!(expand_tilde("/a/~", None), Ok(PathBuf::from("/a/~")));
        assert!(expand_tilde("~/x", None).unwrap_err().contains("HOME"));
    }
}
