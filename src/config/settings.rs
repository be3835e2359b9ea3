//! The resolved configuration of one run ([`Settings`]) and what the flags ask for
//! ([`Overrides`]). [`super::resolve()`] builds the one from the config file and the other.

use std::path::PathBuf;
use std::time::Duration;

use crate::sources::http::HttpConfig;

/// What the flags and their environment variables ask for (see [`crate::cli::Common`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--config FILE`: must exist. Without it the XDG file is read when present.
    pub config: Option<PathBuf>,
    pub context: Option<String>,
    pub prometheus: Option<String>,
    pub alertmanager: Option<String>,
    pub loki: Option<String>,
    /// `--readonly`: forces read-only mode whatever the file says.
    pub readonly: bool,
}

/// Where the settings came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// No file and no source flags: the embedded demo.
    Demo,
    /// This config file (flags may have overridden some of it).
    File(PathBuf),
    /// No file; sources given by flags or environment variables only.
    Flags,
}

/// TLS options of one source (the paths were checked to exist). The same value is in
/// `SourceSettings::http.tls`, where the client reads it.
pub type TlsSettings = crate::sources::http::TlsConfig;

/// One resolved source: ready for [`crate::sources::http::HttpClient::new`] plus its TLS options.
#[derive(Clone, Debug)]
pub struct SourceSettings {
    pub http: HttpConfig,
    pub tls: TlsSettings,
}

/// The resolved Loki source: `tenants` are folded into `source.http.tenant` (joined with `|`).
#[derive(Clone, Debug)]
pub struct LokiSettings {
    pub source: SourceSettings,
    /// Stream labels that name a service, first match wins.
    pub service_labels: Vec<String>,
}

/// A watched Prometheus query.
#[derive(Clone, Debug, PartialEq)]
pub struct Watch {
    pub name: String,
    pub query: String,
    pub step: Duration,
    pub service_label: String,
    /// A limit the value can reach, for capacity forecasts.
    pub capacity: Option<f64>,
    /// The SLO objective when the query is a per-service error ratio.
    pub slo: Option<f64>,
}

/// The resolved choice for one run.
#[derive(Clone, Debug)]
pub struct Settings {
    pub origin: Origin,
    /// The chosen context, when the file has any.
    pub context: Option<String>,
    pub prometheus: Option<SourceSettings>,
    pub alertmanager: Option<SourceSettings>,
    pub loki: Option<LokiSettings>,
    pub readonly: bool,
    /// `None`: use the OS user.
    pub operator: Option<String>,
    /// Extra runbook directories (`~` expanded; relative ones taken from the config file's
    /// directory), read in addition to [`super::Paths::runbooks_dir`].
    pub runbook_dirs: Vec<PathBuf>,
    /// Extra redaction patterns.
    pub redact: Vec<regex::Regex>,
    pub poll_interval: Duration,
    pub watch: Vec<Watch>,
    /// Global anomaly sensitivity (0..1; 0.5 leaves scores unchanged).
    pub sensitivity: f64,
    /// Per-watch sensitivities by watch name (the global one when the watch sets none).
    pub watch_sensitivity: std::collections::BTreeMap<String, f64>,
    /// `(from, to)`: `from` depends on `to`.
    pub topology: Vec<(String, String)>,
    /// Things that work but deserve a look, for the status bar or the log.
    pub warnings: Vec<String>,
}

impl Settings {
    /// True when at least one live source is configured; otherwise the demo runs.
    pub fn is_live(&self) -> bool {
        self.prometheus.is_some() || self.alertmanager.is_some() || self.loki.is_some()
    }
}
