//! From the config file, the flags and the environment to the [`Settings`] of one run: the
//! context is chosen, flag URLs override the file's, secrets are read from their files or
//! environment variables, paths are expanded, and everything is checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use super::file::{parse_config, ConfigError, ConfigFile, ContextFile, SourceFile};
use super::settings::{
    LokiSettings, Origin, Overrides, Settings, SourceSettings, TlsSettings, Watch,
};
use super::values::{check_http_url, expand_tilde, mask_url_password};
use super::Paths;
use crate::sources::http::{HttpConfig, Secret};

/// Loki stream labels that name a service, when the file does not say.
pub const DEFAULT_SERVICE_LABELS: [&str; 4] = ["service", "app", "job", "namespace"];
/// Query step of a watch when the file does not say.
pub const DEFAULT_WATCH_STEP: Duration = Duration::from_secs(30);
/// Result label of a watch that names the service, when the file does not say.
pub const DEFAULT_WATCH_SERVICE_LABEL: &str = "service";
/// Header names whose values look like credentials (a warning when written in the file).
const CREDENTIAL_HEADER_HINTS: [&str; 6] = ["auth", "token", "key", "secret", "cookie", "password"];

/// Resolves with the process environment (for `*_env` keys and `~`).
pub fn resolve(overrides: &Overrides, paths: &Paths) -> Result<Settings, ConfigError> {
    resolve_with_env(overrides, paths, &|name| std::env::var(name).ok())
}

/// Reads the config file (`--config`, else the XDG one when present, else none) and resolves
/// it; `env` answers environment variable look-ups.
pub fn resolve_with_env(
    overrides: &Overrides,
    paths: &Paths,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let (path, text) = match &overrides.config {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => (path.clone(), Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::NotFound { file: path.clone() })
            }
            Err(error) => {
                return Err(ConfigError::Read {
                    file: path.clone(),
                    error,
                })
            }
        },
        None => {
            let path = paths.config_file();
            match std::fs::read_to_string(&path) {
                Ok(text) => (path, Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (path, None),
                Err(error) => return Err(ConfigError::Read { file: path, error }),
            }
        }
    };
    match text {
        Some(text) => {
            let file = parse_config(&text, &path)?;
            resolve_config(&file, Some(&path), overrides, env)
        }
        None => resolve_config(&ConfigFile::default(), None, overrides, env),
    }
}

/// Resolves an already parsed file. `origin` is the file it came from (`None`: no file);
/// relative paths in it are taken from that file's directory.
pub fn resolve_config(
    file: &ConfigFile,
    origin: Option<&Path>,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let mut r = Resolver {
        file: origin.map(Path::to_path_buf),
        base_dir: origin.and_then(Path::parent).map(Path::to_path_buf),
        env,
        warnings: Vec::new(),
    };
    let chosen = r.choose_context(file, flag(&overrides.context))?;
    let no_context = ContextFile::default();
    let (name, ctx) = match &chosen {
        Some((name, ctx)) => (Some(name.as_str()), *ctx),
        None => (None, &no_context),
    };
    let flag_keys = [
        ("--prometheus / PAGERPILOT_PROMETHEUS_URL", "prometheus"),
        (
            "--alertmanager / PAGERPILOT_ALERTMANAGER_URL",
            "alertmanager",
        ),
        ("--loki / PAGERPILOT_LOKI_URL", "loki"),
    ];
    let prometheus = r.source(
        name,
        flag_keys[0],
        ctx.prometheus.as_ref(),
        flag(&overrides.prometheus),
    )?;
    let alertmanager = r.source(
        name,
        flag_keys[1],
        ctx.alertmanager.as_ref(),
        flag(&overrides.alertmanager),
    )?;
    let loki_common = ctx.loki.as_ref().map(|l| l.common());
    let loki = match r.source(
        name,
        flag_keys[2],
        loki_common.as_ref(),
        flag(&overrides.loki),
    )? {
        Some(source) => {
            let labels = ctx.loki.as_ref().and_then(|l| l.service_labels.clone());
            let service_labels = r.service_labels(name, labels)?;
            Some(LokiSettings {
                source,
                service_labels,
            })
        }
        None => None,
    };
    let watch = r.watches(name, ctx, prometheus.is_some())?;
    let topology = r.topology(name, ctx)?;
    let mut runbook_dirs = Vec::new();
    for (i, raw) in file.runbook_dirs.iter().enumerate() {
        runbook_dirs.push(r.path(&format!("runbook_dirs[{i}]"), raw)?);
    }
    let mut redact = Vec::new();
    for (i, pattern) in file.redact.iter().enumerate() {
        let regex = pattern
            .compile()
            .map_err(|message| r.invalid(format!("redact[{i}]"), message))?;
        redact.push(regex);
    }
    let origin = match (
        origin,
        prometheus.is_some() || alertmanager.is_some() || loki.is_some(),
    ) {
        (Some(path), _) => Origin::File(path.to_path_buf()),
        (None, true) => Origin::Flags,
        (None, false) => Origin::Demo,
    };
    Ok(Settings {
        origin,
        context: name.map(str::to_owned),
        prometheus,
        alertmanager,
        loki,
        readonly: overrides.readonly || ctx.readonly.unwrap_or(file.readonly),
        operator: file
            .operator
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        runbook_dirs,
        redact,
        poll_interval: file.poll_interval.0,
        sensitivity: file.sensitivity.0,
        watch_sensitivity: ctx
            .watch
            .iter()
            .map(|w| {
                let s = w.sensitivity.map_or(file.sensitivity.0, |s| s.0);
                (w.name.trim().to_owned(), s)
            })
            .collect(),
        watch,
        topology,
        warnings: r.warnings,
    })
}

/// A flag's value, trimmed; empty counts as not given.
fn flag(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

struct Resolver<'a> {
    file: Option<PathBuf>,
    base_dir: Option<PathBuf>,
    env: &'a dyn Fn(&str) -> Option<String>,
    warnings: Vec<String>,
}

type Chosen<'f> = Option<(String, &'f ContextFile)>;

impl Resolver<'_> {
    fn invalid(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.clone(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// `--context`, else `current_context`, else the only context, else none when there are none.
    fn choose_context<'f>(
        &mut self,
        file: &'f ConfigFile,
        flag: Option<&str>,
    ) -> Result<Chosen<'f>, ConfigError> {
        let known: Vec<String> = file.contexts.keys().cloned().collect();
        let unknown = |name: &str, from: &str| ConfigError::UnknownContext {
            name: name.to_owned(),
            from: from.to_owned(),
            known: known.clone(),
        };
        let current = file.current_context.as_deref();
        if let Some(name) = flag {
            if let Some(current) = current.filter(|c| !file.contexts.contains_key(*c)) {
                self.warnings.push(format!(
                    "current_context {current:?} names no context (overridden by --context)"
                ));
            }
            let ctx = file
                .contexts
                .get(name)
                .ok_or_else(|| unknown(name, "--context / PAGERPILOT_CONTEXT"))?;
            return Ok(Some((name.to_owned(), ctx)));
        }
        if let Some(name) = current {
            let ctx = file
                .contexts
                .get(name)
                .ok_or_else(|| unknown(name, "current_context in the config file"))?;
            return Ok(Some((name.to_owned(), ctx)));
        }
        let mut all = file.contexts.iter();
        match (all.next(), all.next(), &self.file) {
            (None, _, _) => Ok(None),
            (Some((name, ctx)), None, _) => Ok(Some((name.clone(), ctx))),
            (Some(_), Some(_), file) => Err(ConfigError::NoContextChosen {
                file: file.clone(),
                known,
            }),
        }
    }

    /// `~` expanded; a relative path is taken from the config file's directory.
    fn path(&self, key: &str, raw: &str) -> Result<PathBuf, ConfigError> {
        let home = (self.env)("HOME");
        let path = expand_tilde(raw.trim(), home.as_deref()).map_err(|m| self.invalid(key, m))?;
        if path.as_os_str().is_empty() {
            return Err(self.invalid(key, "the path is empty"));
        }
        Ok(match &self.base_dir {
            Some(base) if path.is_relative() => base.join(path),
            _ => path,
        })
    }

    /// A path that must name an existing file (TLS material).
    fn existing_file(
        &self,
        key: &str,
        raw: &Option<String>,
    ) -> Result<Option<PathBuf>, ConfigError> {
        let Some(raw) = raw else { return Ok(None) };
        let path = self.path(key, raw)?;
        if !path.is_file() {
            return Err(self.invalid(key, format!("file {} does not exist", path.display())));
        }
        Ok(Some(path))
    }

    /// A secret from `<file_key>` (a file) or `<env_key>` (an environment variable).
    fn secret(
        &self,
        prefix: &str,
        (file_key, file): (&str, &Option<String>),
        (env_key, var): (&str, &Option<String>),
    ) -> Result<Option<Secret>, ConfigError> {
        match (file, var) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(self.invalid(
                format!("{prefix}.{file_key}"),
                format!("{file_key} and {env_key} are both set; keep one"),
            )),
            (Some(raw), None) => {
                let key = format!("{prefix}.{file_key}");
                let path = self.path(&key, raw)?;
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.invalid(&key, format!("cannot read {}: {e}", path.display()))
                })?;
                let value = text.trim();
                if value.is_empty() {
                    return Err(self.invalid(&key, format!("file {} is empty", path.display())));
                }
                Ok(Some(Secret::new(value)))
            }
            (None, Some(name)) => {
                let key = format!("{prefix}.{env_key}");
                let name = name.trim();
                if name.is_empty() {
                    return Err(self.invalid(&key, "the variable name is empty"));
                }
                match (self.env)(name) {
                    None => {
                        Err(self.invalid(&key, format!("environment variable {name} is not set")))
                    }
                    Some(v) if v.trim().is_empty() => {
                        Err(self.invalid(&key, format!("environment variable {name} is empty")))
                    }
                    Some(v) => Ok(Some(Secret::new(v.trim()))),
                }
            }
        }
    }

    /// One source from the file's table and/or a flag URL (the flag wins).
    fn source(
        &mut self,
        context: Option<&str>,
        (flag_key, kind): (&str, &str),
        file: Option<&SourceFile>,
        flag_url: Option<&str>,
    ) -> Result<Option<SourceSettings>, ConfigError> {
        if let Some(url) = flag_url {
            check_http_url(url).map_err(|m| ConfigError::Invalid {
                file: None,
                key: flag_key.to_owned(),
                message: m,
            })?;
        }
        let label = match context {
            Some(c) => format!("{c}.{kind}"),
            None => kind.to_owned(),
        };
        let prefix = format!("contexts.{label}");
        let Some(src) = file else {
            return Ok(flag_url.map(|url| SourceSettings {
                http: HttpConfig::new(url.trim()),
                tls: TlsSettings::default(),
            }));
        };
        let mut http = HttpConfig::new(flag_url.unwrap_or(&src.url.0).trim());
        if let Some(timeout) = src.timeout {
            http.timeout = timeout.0;
        }
        http.bearer_token = self.secret(
            &prefix,
            ("bearer_token_file", &src.bearer_token_file),
            ("bearer_token_env", &src.bearer_token_env),
        )?;
        if let Some(basic) = &src.basic {
            let prefix = format!("{prefix}.basic");
            if basic.user.trim().is_empty() {
                return Err(self.invalid(format!("{prefix}.user"), "the user name is empty"));
            }
            let password = self
                .secret(
                    &prefix,
                    ("password_file", &basic.password_file),
                    ("password_env", &basic.password_env),
                )?
                .ok_or_else(|| {
                    self.invalid(&prefix, "set password_file or password_env for the user")
                })?;
            if http.bearer_token.is_some() {
                return Err(self.invalid(
                    &prefix,
                    "a bearer token and basic auth are both set; keep one",
                ));
            }
            http.basic = Some((basic.user.clone(), password));
        }
        for (name, value) in &src.headers {
            let key = format!("{prefix}.headers.{name}");
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| self.invalid(&key, format!("{name:?} is not a valid header name")))?;
            HeaderValue::from_str(value)
                .map_err(|_| self.invalid(&key, "the value is not a valid header value"))?;
            let lower = name.to_ascii_lowercase();
            if CREDENTIAL_HEADER_HINTS.iter().any(|h| lower.contains(h)) {
                self.warnings.push(format!(
                    "header {name} of {label} looks like a credential written in the config file; \
                     prefer bearer_token_file or bearer_token_env"
                ));
            }
            http.headers.push((name.clone(), value.clone()));
        }
        http.tenant = self.tenants(&prefix, &src.tenants)?;
        let tls = TlsSettings {
            ca_file: self.existing_file(&format!("{prefix}.ca_file"), &src.ca_file)?,
            client_cert: self.existing_file(&format!("{prefix}.client_cert"), &src.client_cert)?,
            client_key: self.existing_file(&format!("{prefix}.client_key"), &src.client_key)?,
            insecure_skip_verify: src.insecure_skip_verify,
        };
        if tls.client_cert.is_some() != tls.client_key.is_some() {
            return Err(self.invalid(
                format!("{prefix}.client_cert"),
                "client_cert and client_key must be set together",
            ));
        }
        if tls.insecure_skip_verify {
            self.warnings.push(format!(
                "insecure_skip_verify is on for {label}: TLS certificates are NOT checked"
            ));
        }
        let has_credentials = http.bearer_token.is_some() || http.basic.is_some();
        if has_credentials && http.base_url.to_ascii_lowercase().starts_with("http://") {
            self.warnings.push(format!(
                "{label} sends credentials over plain http ({})",
                mask_url_password(&http.base_url)
            ));
        }
        http.tls = tls.clone();
        Ok(Some(SourceSettings { http, tls }))
    }

    fn tenants(&self, prefix: &str, tenants: &[String]) -> Result<Option<String>, ConfigError> {
        for (i, tenant) in tenants.iter().enumerate() {
            if tenant.trim().is_empty() || tenant.contains('|') {
                return Err(self.invalid(
                    format!("{prefix}.tenants[{i}]"),
                    format!("tenant {tenant:?} must be non-empty and contain no '|'"),
                ));
            }
        }
        Ok((!tenants.is_empty()).then(|| {
            tenants
                .iter()
                .map(|t| t.trim())
                .collect::<Vec<_>>()
                .join("|")
        }))
    }

    fn service_labels(
        &self,
        context: Option<&str>,
        labels: Option<Vec<String>>,
    ) -> Result<Vec<String>, ConfigError> {
        let Some(labels) = labels else {
            return Ok(DEFAULT_SERVICE_LABELS.map(str::to_owned).to_vec());
        };
        let key = format!("contexts.{}.loki.service_labels", context.unwrap_or("?"));
        if labels.is_empty() {
            return Err(self.invalid(key, "name at least one label"));
        }
        if let Some(bad) = labels.iter().find(|l| l.trim().is_empty()) {
            return Err(self.invalid(key, format!("label {bad:?} is empty")));
        }
        Ok(labels)
    }

    fn watches(
        &mut self,
        context: Option<&str>,
        ctx: &ContextFile,
        has_prometheus: bool,
    ) -> Result<Vec<Watch>, ConfigError> {
        let context = context.unwrap_or("?");
        let mut names = BTreeSet::new();
        let mut out = Vec::new();
        for (i, w) in ctx.watch.iter().enumerate() {
            let key = format!("contexts.{context}.watch[{i}]");
            let name = w.name.trim();
            if name.is_empty() {
                return Err(self.invalid(format!("{key}.name"), "the name is empty"));
            }
            if !names.insert(name.to_owned()) {
                return Err(self.invalid(
                    format!("{key}.name"),
                    format!("{name:?} is used by another watch"),
                ));
            }
            if w.query.trim().is_empty() {
                return Err(self.invalid(format!("{key}.query"), "the query is empty"));
            }
            out.push(Watch {
                name: name.to_owned(),
                query: w.query.trim().to_owned(),
                step: w.step.map(|s| s.0).unwrap_or(DEFAULT_WATCH_STEP),
                service_label: w
                    .service_label
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .unwrap_or(DEFAULT_WATCH_SERVICE_LABEL)
                    .to_owned(),
                capacity: w.capacity.map(|c| c.0),
                slo: w.slo.map(|s| s.0),
            });
        }
        if !out.is_empty() && !has_prometheus {
            self.warnings.push(format!(
                "context {context} has {} watch queries but no prometheus source; they are ignored",
                out.len()
            ));
        }
        Ok(out)
    }

    fn topology(
        &self,
        context: Option<&str>,
        ctx: &ContextFile,
    ) -> Result<Vec<(String, String)>, ConfigError> {
        let context = context.unwrap_or("?");
        let mut out = Vec::new();
        for (i, edge) in ctx.topology.iter().enumerate() {
            let key = format!("contexts.{context}.topology[{i}]");
            let (from, to) = (edge.from.trim(), edge.to.trim());
            if from.is_empty() || to.is_empty() {
                return Err(self.invalid(key, "from and to must both name a service"));
            }
            if from == to {
                return Err(self.invalid(key, format!("{from:?} cannot depend on itself")));
            }
            let pair = (from.to_owned(), to.to_owned());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
        Ok(out)
    }
}
