//! Redacts obvious secrets before they reach the remediation log.
//!
//! Covered: `Authorization:` headers and bare `Bearer` tokens, `password=` / `token=` /
//! `secret=` / `api_key=` style assignments (also `KEY: value`), `--password x` style flags,
//! credentials in URLs (`scheme://user:pass@`), AWS access key ids (`AKIA...`, `ASIA...`) and
//! PEM private key blocks. The secret becomes `[REDACTED]`; the rest of the text stays.

use std::sync::LazyLock;

use regex::Regex;

pub const REDACTED: &str = "[REDACTED]";

/// A secret value: a quoted string or a run of non-separator characters.
const VALUE: &str = r#"(?:"[^"\n]*"|'[^'\n]*'|[^\s"'&;,]+)"#;

/// Names whose value is a secret (also inside longer names: `PGPASSWORD`, `aws_secret_access_key`).
const NAMES: &str = r"password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?";

struct Rule {
    re: Regex,
    /// Replacement; `$pre` is the kept prefix.
    with: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rules = [
        // PEM private keys, whole block.
        (
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
                .to_string(),
            REDACTED,
        ),
        // Authorization / Proxy-Authorization headers, with or without a scheme.
        (
            r#"(?i)(?P<pre>\b(?:proxy-)?authorization\s*[:=]\s*(?:(?:bearer|basic|token|digest|negotiate)\s+)?)[^\s'"]+"#
                .to_string(),
            "${pre}[REDACTED]",
        ),
        // Bearer tokens anywhere else.
        (
            r"(?i)(?P<pre>\bbearer\s+)[A-Za-z0-9\-._~+/]+=*".to_string(),
            "${pre}[REDACTED]",
        ),
        // Flags: --password x, --token=x, --api-key x, --client-secret x ...
        (
            format!(r"(?i)(?P<pre>(?:^|\s)--?[a-z0-9-]*(?:{NAMES})[a-z0-9-]*(?:=|\s+)){VALUE}"),
            "${pre}[REDACTED]",
        ),
        // Assignments: password=x, PGPASSWORD=x, "token": "x", api_key: x ...
        (
            format!(r#"(?i)(?P<pre>\b[a-z0-9_.-]*(?:{NAMES})[a-z0-9_.-]*"?\s*[=:]\s*){VALUE}"#),
            "${pre}[REDACTED]",
        ),
        // user:password@ in URLs.
        (
            r"(?i)(?P<pre>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@".to_string(),
            "${pre}[REDACTED]@",
        ),
        // AWS access key ids.
        (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b".to_string(), REDACTED),
    ];
    rules
        .into_iter()
        .map(|(pattern, with)| Rule {
            // The patterns are constants and the unit tests compile every one of them.
            re: Regex::new(&pattern).unwrap_or_else(|e| panic!("redaction pattern {pattern}: {e}")),
            with,
        })
        .collect()
});

/// `text` with every recognised secret replaced by `[REDACTED]`.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    for rule in RULES.iter() {
        if rule.re.is_match(&out) {
            out = rule.re.replace_all(&out, rule.with).into_owned();
        }
    }
    out
}

/// The built-in rules plus the deployment's own: exact secret values (tokens and passwords read
/// from the configuration) and extra patterns (`redact = [...]` in the config file; the whole
/// match becomes `[REDACTED]`).
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    values: Vec<String>,
    patterns: Vec<Regex>,
}

impl Redactor {
    pub fn new(values: impl IntoIterator<Item = String>, patterns: Vec<Regex>) -> Redactor {
        let mut values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactor { values, patterns }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), REDACTED);
            }
        }
        for re in &self.patterns {
            if re.is_match(&out) {
                out = re.replace_all(&out, REDACTED).into_owned();
            }
        }
        redact(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_values_and_patterns_are_redacted_too() {
        let r = Redactor::new(
            [
                "s3cr3t-token".to_string(),
                "s3cr3t".to_string(),
                String::new(),
            ],
            vec![Regex::new(r"ticket-\d+").expect("valid")],
        );
        assert_eq!(
            r.redact("curl -d s3cr3t-token x; echo s3cr3t ticket-42 ok"),
            "curl -d [REDACTED] x; echo [REDACTED] [REDACTED] ok"
        );
        // The built-in rules still apply.
        assert_eq!(r.redact("password=hunter2"), "password=[REDACTED]");
        assert_eq!(Redactor::default().redact("plain text"), "plain text");
    }

    #[test]
    fn common_secrets_are_redacted() {
        for (input, want) in [
            (
                "curl -H 'Authorization: Bearer abc.def-ghi' https://x",
                "curl -H 'Authorization: Bearer [REDACTED]' https://x",
            ),
            (
                "Authorization: Basic dXNlcjpwYXNz",
                "Authorization: Basic [REDACTED]",
            ),
            (
                "psql password=hunter2 host=db",
                "psql password=[REDACTED] host=db",
            ),
            ("PGPASSWORD='s3 cret' psql", "PGPASSWORD=[REDACTED] psql"),
            (
                "curl 'https://x/?token=abc&q=1'",
                "curl 'https://x/?token=[REDACTED]&q=1'",
            ),
            (
                "mysql --password hunter2 -h db",
                "mysql --password [REDACTED] -h db",
            ),
            (
                "vault login --token=s.abc",
                "vault login --token=[REDACTED]",
            ),
            ("{\"api_key\": \"k-123\"}", "{\"api_key\": [REDACTED]}"),
            ("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED] used"),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG",
                "aws_secret_access_key = [REDACTED]",
            ),
            (
                "postgres://app:pw@db:5432/x",
                "postgres://app:[REDACTED]@db:5432/x",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
                "[REDACTED]",
            ),
        ] {
            assert_eq!(redact(input), want, "{input}");
        }
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for text in [
            "kubectl -n 'shop' rollout undo deployment/checkout-api",
            "select count(*) from pg_stat_activity",
            "disk usage 93% on /var",
            "https://example.com/runbooks/web.md",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}
