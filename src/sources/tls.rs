//! TLS options of a source applied to the reqwest client builder: a CA file trusted in addition
//! to the system's roots, a client certificate and key, and `insecure_skip_verify`. Every error
//! names the file and what is wrong with it.

use std::path::{Path, PathBuf};

use super::http::causes;

/// TLS options of one source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM file of CA certificates trusted in addition to the system's.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (chain), sent when the server asks for one; needs `client_key`.
    pub client_cert: Option<PathBuf>,
    /// PEM private key of `client_cert`.
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate. Dangerous; a warning is shown wherever it is used.
    pub insecure_skip_verify: bool,
}

/// Reads a PEM file named by `key` (`ca_file`, `client_cert`, ...) that must hold a `want`
/// block (`CERTIFICATE`, `PRIVATE KEY`), naming the file on failure.
fn read_pem(key: &str, path: &Path, want: &str) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{key} {}: cannot read it: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    if !text.contains("-----BEGIN ") {
        return Err(format!(
            "{key} {}: not a PEM file (no \"-----BEGIN\" line)",
            path.display()
        ));
    }
    let found = text
        .lines()
        .any(|l| l.starts_with("-----BEGIN ") && l.contains(want));
    if !found {
        return Err(format!("{key} {}: holds no {want} block", path.display()));
    }
    Ok(bytes)
}

/// Adds the CA file, the client identity and `insecure_skip_verify` to the client builder.
/// Errors name the file and what is wrong with it.
pub(super) fn apply_tls(
    mut builder: reqwest::ClientBuilder,
    tls: &TlsConfig,
) -> Result<reqwest::ClientBuilder, String> {
    if let Some(path) = &tls.ca_file {
        let pem = read_pem("ca_file", path, "CERTIFICATE")?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            format!(
                "ca_file {}: not a PEM certificate bundle: {}",
                path.display(),
                causes(&e)
            )
        })?;
        if certs.is_empty() {
            return Err(format!(
                "ca_file {}: holds no CERTIFICATE block",
                path.display()
            ));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let mut pem = read_pem("client_cert", cert, "CERTIFICATE")?;
            pem.push(b'\n');
            pem.extend(read_pem("client_key", key, "PRIVATE KEY")?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                format!(
                    "client_cert {} with client_key {}: not a usable certificate and key: {}",
                    cert.display(),
                    key.display(),
                    causes(&e)
                )
            })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => return Err("client_cert and client_key must be set together".to_owned()),
    }
    if tls.insecure_skip_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    Ok(builder)
}
