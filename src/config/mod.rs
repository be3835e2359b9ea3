//! Where things live: XDG config, data and state directories, and the operator's identity;
//! the config file ([`mod@file`]) and its resolution with flags and environment ([`resolve()`]).

pub mod file;
pub mod resolve;
pub mod settings;
pub mod values;

use std::path::{Path, PathBuf};

pub use file::{
    parse_config, BasicFile, ConfigError, ConfigFile, ContextFile, LokiFile, SourceFile,
    TopologyFile, WatchFile, DEFAULT_POLL_INTERVAL,
};
pub use resolve::{
    resolve, resolve_config, resolve_with_env, DEFAULT_SERVICE_LABELS, DEFAULT_WATCH_SERVICE_LABEL,
    DEFAULT_WATCH_STEP,
};
pub use settings::{LokiSettings, Origin, Overrides, Settings, SourceSettings, TlsSettings, Watch};
pub use values::{check_slo, parse_duration, DurationValue, HttpUrl, Pattern};

/// Resolved locations. Each honours the XDG environment variables on Linux.
#[derive(Clone, Debug)]
pub struct Paths {
    /// `$XDG_CONFIG_HOME/pagerpilot`: keymap.toml, themes/*.toml, runbooks/*.md.
    pub config_dir: PathBuf,
    /// `$XDG_DATA_HOME/pagerpilot`: the SQLite database and exports.
    pub data_dir: PathBuf,
    /// `$XDG_STATE_HOME/pagerpilot`: pagerpilot's own log file.
    pub state_dir: PathBuf,
}

impl Paths {
    pub fn resolve() -> Paths {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let xdg = |var: &str, fallback: &str| -> PathBuf {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(fallback))
                .join("pagerpilot")
        };
        Paths {
            config_dir: xdg("XDG_CONFIG_HOME", ".config"),
            data_dir: xdg("XDG_DATA_HOME", ".local/share"),
            state_dir: xdg("XDG_STATE_HOME", ".local/state"),
        }
    }

    pub fn default_db(&self) -> PathBuf {
        self.data_dir.join("pagerpilot.db")
    }

    pub fn default_log_file(&self) -> PathBuf {
        self.state_dir.join("pagerpilot.log")
    }

    /// `$XDG_CONFIG_HOME/pagerpilot/config.toml`, read when `--config` is not given.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn user_keymap(&self) -> PathBuf {
        self.config_dir.join("keymap.toml")
    }

    /// Local Markdown runbooks, matched by labels alongside the built-in ones.
    pub fn runbooks_dir(&self) -> PathBuf {
        self.config_dir.join("runbooks")
    }

    pub fn exports_dir(&self) -> PathBuf {
        self.data_dir.join("exports")
    }
}

/// The OS user running pagerpilot, for the remediation log.
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// This machine's host name, for the remediation log.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Reads an optional user file: `Ok(None)` when it does not exist, an error naming it otherwise.
pub fn read_optional(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}
