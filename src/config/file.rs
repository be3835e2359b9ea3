//! The config file (`$XDG_CONFIG_HOME/pagerpilot/config.toml` or `--config FILE`) as written:
//! a serde model that refuses unknown keys, and the errors of reading and resolving it.
//! `assets/config.example.toml` documents every key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::values::{CapacityValue, DurationValue, HttpUrl, Pattern, SensitivityValue, SloValue};

/// How often the sources are polled when the file does not say.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(15);

/// Everything that can go wrong reading or resolving the configuration. Messages name the file,
/// the key and the bad value, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML, has an unknown key, or a value of the wrong shape.
    #[error("{}:{line}:{column}: {message}{}", file.display(), excerpt_suffix(excerpt))]
    Parse {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
        /// The offending line of the file, as written.
        excerpt: String,
    },
    #[error("config file {} (from --config or PAGERPILOT_CONFIG) does not exist", file.display())]
    NotFound { file: PathBuf },
    #[error("cannot read config file {}: {error}", file.display())]
    Read {
        file: PathBuf,
        error: std::io::Error,
    },
    /// A value that is well-formed but wrong: a missing secret, a bad flag URL, a conflict.
    #[error("{}{key}: {message}", file_prefix(file))]
    Invalid {
        file: Option<PathBuf>,
        key: String,
        message: String,
    },
    #[error("unknown context {name:?} (from {from}); {}", known_list(known))]
    UnknownContext {
        name: String,
        from: String,
        known: Vec<String>,
    },
    #[error(
        "{}several contexts are defined and none is chosen: pass --context NAME (or set \
         PAGERPILOT_CONTEXT, or current_context in the file); {}",
        file_prefix(file),
        known_list(known)
    )]
    NoContextChosen {
        file: Option<PathBuf>,
        known: Vec<String>,
    },
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.trim().is_empty() {
        String::new()
    } else {
        format!("\n  | {excerpt}")
    }
}

fn file_prefix(file: &Option<PathBuf>) -> String {
    file.as_ref()
        .map(|f| format!("{}: ", f.display()))
        .unwrap_or_default()
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "no contexts are defined".to_owned()
    } else {
        format!("known contexts: {}", known.join(", "))
    }
}

/// The whole file. Every key is optional; an empty file is [`ConfigFile::default`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigFile {
    /// The context used when `--context` is not given.
    pub current_context: Option<String>,
    /// Global default for read-only mode (runbook steps are shown, never run).
    pub readonly: bool,
    /// Display name of the operator in the remediation log; default: the OS user.
    pub operator: Option<String>,
    /// Extra runbook directories, read after `$XDG_CONFIG_HOME/pagerpilot/runbooks`.
    pub runbook_dirs: Vec<String>,
    /// Extra regexes whose matches are redacted before storage and export.
    pub redact: Vec<Pattern>,
    pub poll_interval: DurationValue,
    /// Anomaly sensitivity of every watch that does not set its own (0..1, 0.5 = as scored).
    pub sensitivity: SensitivityValue,
    pub contexts: BTreeMap<String, ContextFile>,
}

impl Default for ConfigFile {
    fn default() -> ConfigFile {
        ConfigFile {
            current_context: None,
            readonly: false,
            operator: None,
            runbook_dirs: Vec::new(),
            redact: Vec::new(),
            poll_interval: DurationValue(DEFAULT_POLL_INTERVAL),
            sensitivity: SensitivityValue(crate::analysis::anomaly::DEFAULT_SENSITIVITY),
            contexts: BTreeMap::new(),
        }
    }
}

/// One environment (prod, staging, ...): its sources, watched queries and service topology.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContextFile {
    /// Overrides the global `readonly` for this context.
    pub readonly: Option<bool>,
    pub prometheus: Option<SourceFile>,
    pub alertmanager: Option<SourceFile>,
    pub loki: Option<LokiFile>,
    pub watch: Vec<WatchFile>,
    pub topology: Vec<TopologyFile>,
}

/// `basic = { user = "u", password_file = "..." }` (or `password_env`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicFile {
    pub user: String,
    #[serde(default)]
    pub password_file: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
}

/// A Prometheus query watched for anomalies and forecasts.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchFile {
    pub name: String,
    pub query: String,
    #[serde(default)]
    pub step: Option<DurationValue>,
    /// The label of the query's result that names the service (default `service`).
    #[serde(default)]
    pub service_label: Option<String>,
    /// This watch's anomaly sensitivity; default: the global `sensitivity`.
    #[serde(default)]
    pub sensitivity: Option<SensitivityValue>,
    /// A limit the value can reach (100 for a percentage of a disk): enables capacity forecasts.
    #[serde(default)]
    pub capacity: Option<CapacityValue>,
    /// The query is an error ratio (bad / all events, 0..1) per service and this is the
    /// service's SLO objective (0.999 for 99.9 %): ranking scores its burn rate.
    #[serde(default)]
    pub slo: Option<SloValue>,
}

/// `from` depends on `to` (a call or a connection from `from` to `to`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyFile {
    pub from: String,
    pub to: String,
}

/// Defines a source table: the keys every source shares, plus the extra ones given.
/// (serde's `flatten` cannot be combined with `deny_unknown_fields`, hence the macro.)
macro_rules! source_table {
    ($(#[$meta:meta])* $name:ident { $($(#[$xmeta:meta])* $xfield:ident : $xty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Base URL, http or https; a path prefix is kept.
            pub url: HttpUrl,
            #[serde(default)]
            pub timeout: Option<DurationValue>,
            /// A file holding the bearer token (read at start; surrounding whitespace dropped).
            #[serde(default)]
            pub bearer_token_file: Option<String>,
            /// An environment variable holding the bearer token.
            #[serde(default)]
            pub bearer_token_env: Option<String>,
            #[serde(default)]
            pub basic: Option<BasicFile>,
            #[serde(default)]
            pub headers: BTreeMap<String, String>,
            /// Multi-tenant Loki/Mimir: sent as `X-Scope-OrgID`, several joined with `|`.
            #[serde(default)]
            pub tenants: Vec<String>,
            #[serde(default)]
            pub ca_file: Option<String>,
            #[serde(default)]
            pub client_cert: Option<String>,
            #[serde(default)]
            pub client_key: Option<String>,
            #[serde(default)]
            pub insecure_skip_verify: bool,
            $($(#[$xmeta])* pub $xfield: $xty,)*
        }

        impl $name {
            /// The keys shared by every source.
            pub fn common(&self) -> SourceFile {
                SourceFile {
                    url: self.url.clone(),
                    timeout: self.timeout,
                    bearer_token_file: self.bearer_token_file.clone(),
                    bearer_token_env: self.bearer_token_env.clone(),
                    basic: self.basic.clone(),
                    headers: self.headers.clone(),
                    tenants: self.tenants.clone(),
                    ca_file: self.ca_file.clone(),
                    client_cert: self.client_cert.clone(),
                    client_key: self.client_key.clone(),
                    insecure_skip_verify: self.insecure_skip_verify,
                }
            }
        }
    };
}

source_table! {
    /// `[contexts.NAME.prometheus]` or `[contexts.NAME.alertmanager]`.
    SourceFile {}
}

source_table! {
    /// `[contexts.NAME.loki]`: the source keys plus the label mapping.
    LokiFile {
        /// Stream labels that name a service, first match wins.
        #[serde(default)]
        service_labels: Option<Vec<String>>,
    }
}

/// Parses a config file. `origin` is only used in error messages. Errors carry the file, line
/// and column, and toml's message, which quotes the unknown key or the bad value.
pub fn parse_config(text: &str, origin: &Path) -> Result<ConfigFile, ConfigError> {
    toml::from_str::<ConfigFile>(text).map_err(|e| {
        let start = e.span().map(|s| s.start).unwrap_or(0);
        let (line, column, excerpt) = locate(text, start);
        let excerpt = mask_userinfo(&excerpt);
        let message = e.message().trim();
        match inline_secret_hint(message) {
            // The line would show the secret: leave it out.
            Some(message) => ConfigError::Parse {
                file: origin.to_path_buf(),
                line,
                column,
                message,
                excerpt: String::new(),
            },
            None => ConfigError::Parse {
                file: origin.to_path_buf(),
                line,
                column,
                message: message.to_owned(),
                excerpt,
            },
        }
    })
}

/// 1-based line and column (in characters) of byte offset `at`, and that line's text.
fn locate(text: &str, at: usize) -> (usize, usize, String) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..at].chars().count() + 1;
    let excerpt = text[line_start..]
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_owned();
    (line, column, excerpt)
}

/// Masks `user:password@` in any URL of a line quoted in an error.
fn mask_userinfo(line: &str) -> String {
    match regex::Regex::new(r#"://[^/\s"'@]+@"#) {
        Ok(re) => re.replace_all(line, "://***@").into_owned(),
        // Unreachable for this constant pattern; quote nothing rather than risk a secret.
        Err(_) => String::new(),
    }
}

/// Advice for someone who wrote a secret inline; `None` for any other error.
fn inline_secret_hint(message: &str) -> Option<String> {
    let inline_secret = ["`bearer_token`", "`password`", "`token`"]
        .iter()
        .any(|k| message.contains(&format!("unknown field {k}")));
    inline_secret.then(|| {
        format!(
            "{message}; secrets are never written in the config file: use bearer_token_file / \
             bearer_token_env, or basic.password_file / basic.password_env"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_lines_and_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(locate(text, 0), (1, 1, "a = 1".to_owned()));
        let at = text.rfind('=').unwrap();
        assert_eq!(locate(text, at), (2, 4, "bé = 2".to_owned()));
        assert_eq!(locate(text, 999).0, 3);
    }

    #[test]
    fn quoted_lines_mask_url_credentials() {
        assert_eq!(
            mask_userinfo(r#"url = "https://u:pw@h/x" # http://a@b"#),
            r#"url = "https://***@h/x" # http://***@b"#
        );
    }

    #[test]
    fn empty_file_is_default() {
        let parsed = parse_config("", Path::new("c.toml"));
        assert_eq!(parsed.ok(), Some(ConfigFile::default()));
    }

    #[test]
    fn inline_secret_gets_a_hint() {
        let text = "[contexts.p.prometheus]\nurl = \"http://h\"\nbearer_token = \"abc\"\n";
        let err = parse_config(text, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("c.toml:3:1: unknown field `bearer_token`"),
            "{err}"
        );
        assert!(err.contains("bearer_token_file"), "{err}");
        assert!(
            !err.contains("abc"),
            "the inline secret must not be quoted: {err}"
        );
    }

    #[test]
    fn sensitivity_is_checked_with_file_and_line() {
        let text = "readonly = false\nsensitivity = 1.5\n";
        let err = parse_config(text, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:2:"), "{err}");
        assert!(err.contains("between 0 and 1"), "{err}");
        let text = "[contexts.p]\n[[contexts.p.watch]]\nname = \"a\"\nquery = \"up\"\n\
                    sensitivity = -0.1\n";
        let err = parse_config(text, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:5:"), "{err}");
        assert!(err.contains("invalid sensitivity -0.1"), "{err}");
        let err = parse_config("sensitivity = \"high\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("between 0 and 1"), "{err}");
    }

    #[test]
    fn watch_slo_and_capacity_are_checked_with_file_and_line() {
        let watch = |extra: &str| {
            format!("[contexts.p]\n[[contexts.p.watch]]\nname = \"a\"\nquery = \"up\"\n{extra}\n")
        };
        for (bad, needle) in [
            ("slo = 99.9", "invalid slo 99.9"),
            ("slo = 1", "invalid slo 1"),
            ("slo = 0", "invalid slo 0"),
            ("capacity = -5", "invalid capacity -5"),
            ("capacity = 0", "invalid capacity 0"),
        ] {
            let err = parse_config(&watch(bad), Path::new("c.toml"))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("c.toml:5:"), "{bad}: {err}");
            assert!(err.contains(needle), "{bad}: {err}");
        }
        let ok = parse_config(&watch("slo = 0.995\ncapacity = 100"), Path::new("c.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let w = &ok.contexts["p"].watch[0];
        assert_eq!(
            (w.slo.map(|s| s.0), w.capacity.map(|c| c.0)),
            (Some(0.995), Some(100.0))
        );
    }

    #[test]
    fn sensitivity_accepts_integers_and_watch_overrides() {
        let text = "sensitivity = 1\n[contexts.p]\n[[contexts.p.watch]]\nname = \"a\"\n\
                    query = \"up\"\nsensitivity = 0.3\n";
        let parsed = parse_config(text, Path::new("c.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.sensitivity.0, 1.0);
        let watch = &parsed.contexts["p"].watch[0];
        assert_eq!(watch.sensitivity.map(|s| s.0), Some(0.3));
    }
}
