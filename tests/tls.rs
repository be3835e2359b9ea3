//! TLS per source against a loopback HTTPS server whose CA, server and client certificates are
//! made at test time (rcgen): the CA file is trusted, a server the client cannot verify is
//! refused, `insecure_skip_verify` accepts it (and doctor says so), a server that requires a
//! client certificate gets one, and bad files are named in the error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use pagerpilot::sources::http::{HttpClient, HttpConfig, TlsConfig};
use pagerpilot::sources::{SourceError, SourceKind};

mod common;
use common::Env;

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all written as PEM files.
struct Pki {
    dir: tempfile::TempDir,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivatePkcs8KeyDer<'static>,
    ca_der: CertificateDer<'static>,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "pagerpilot test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().unwrap();
        let server_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "pagerpilot");
        let client_cert = client_params.signed_by(&client_key, &issuer).unwrap();

        let write = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
        write("ca.pem", ca_cert.pem());
        write("client.pem", client_cert.pem());
        write("client-key.pem", client_key.serialize_pem());
        Pki {
            server_chain: vec![server_cert.der().clone()],
            server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
            ca_der: ca_cert.der().clone(),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Serves HTTPS on a loopback port until the test ends; with `require_client_cert`, only
    /// clients with a certificate from the CA get past the handshake.
    async fn serve(&self, require_client_cert: bool) -> String {
        self.serve_counted(require_client_cert).await.0
    }

    /// Like [`Pki::serve`], also counting the connections accepted.
    async fn serve_counted(
        &self,
        require_client_cert: bool,
    ) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca_der.clone()).unwrap();
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let config = builder
            .with_single_cert(
                self.server_chain.clone(),
                PrivateKeyDer::Pkcs8(self.server_key.clone_key()),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = connections.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A refused handshake is the point of some tests: just drop it.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    answer(&mut tls).await;
                });
            }
        });
        (format!("https://127.0.0.1:{port}"), connections)
    }
}

/// Reads one request and answers like a tiny Prometheus (build info and an empty vector).
async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: &mut S) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&request);
    let body = if head.starts_with("GET /api/v1/status/buildinfo") {
        r#"{"status":"success","data":{"version":"tls-test-1.0"}}"#
    } else {
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn client(base: &str, tls: TlsConfig) -> Result<HttpClient, SourceError> {
    let mut config = HttpConfig::new(base);
    config.tls = tls;
    config.retry.max_attempts = 1;
    HttpClient::new(SourceKind::Prometheus, config)
}

async fn build_info(base: &str, tls: TlsConfig) -> Result<String, SourceError> {
    let (_, body) = client(base, tls)?
        .get("/api/v1/status/buildinfo", &[])
        .await?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn server_certificate_is_checked_against_the_ca_file() {
    let pki = Pki::new();
    let base = pki.serve(false).await;

    let with_ca = TlsConfig {
        ca_file: Some(pki.path("ca.pem")),
        ..TlsConfig::default()
    };
    let body = build_info(&base, with_ca).await.unwrap();
    assert!(body.contains("tls-test-1.0"), "{body}");

    let err = build_info(&base, TlsConfig::default()).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Unreachable { .. }),
        "an unknown issuer must be refused: {err}"
    );
    assert!(err.to_string().contains("certificate"), "{err}");
    assert!(err.to_string().contains("set ca_file"), "a hint: {err}");

    let insecure = TlsConfig {
        insecure_skip_verify: true,
        ..TlsConfig::default()
    };
    let body = build_info(&base, insecure).await.unwrap();
    assert!(body.contains("tls-test-1.0"), "{body}");
}

#[tokio::test]
async fn a_refused_certificate_is_not_retried() {
    let pki = Pki::new();
    let (base, connections) = pki.serve_counted(false).await;
    // The default policy retries connect errors, but not this one.
    let client = HttpClient::new(SourceKind::Prometheus, HttpConfig::new(&base)).unwrap();
    let err = client
        .get("/api/v1/status/buildinfo", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Unreachable { .. }), "{err}");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_client_certificate_is_sent_when_the_server_requires_one() {
    let pki = Pki::new();
    let base = pki.serve(true).await;
    let ca_only = TlsConfig {
        ca_file: Some(pki.path("ca.pem")),
        ..TlsConfig::default()
    };
    let err = build_info(&base, ca_only.clone()).await.unwrap_err();
    assert!(
        matches!(
            err,
            SourceError::Unreachable { .. } | SourceError::Decode { .. }
        ),
        "no client certificate must be refused: {err}"
    );
    let with_identity = TlsConfig {
        client_cert: Some(pki.path("client.pem")),
        client_key: Some(pki.path("client-key.pem")),
        ..ca_only
    };
    let body = build_info(&base, with_identity).await.unwrap();
    assert!(body.contains("tls-test-1.0"), "{body}");
}

fn config_error(tls: TlsConfig) -> String {
    match client("https://127.0.0.1:1", tls) {
        Ok(_) => panic!("a bad TLS file must be refused when the client is built"),
        Err(e) => {
            assert!(matches!(e, SourceError::Query { .. }), "{e}");
            e.to_string()
        }
    }
}

#[test]
fn bad_tls_files_are_named() {
    let pki = Pki::new();
    let missing = pki.path("nope.pem");
    let err = config_error(TlsConfig {
        ca_file: Some(missing.clone()),
        ..TlsConfig::default()
    });
    assert!(
        err.contains(&format!("ca_file {}", missing.display())),
        "{err}"
    );
    assert!(err.contains("cannot read"), "{err}");

    let garbage = pki.path("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").unwrap();
    let err = config_error(TlsConfig {
        ca_file: Some(garbage.clone()),
        ..TlsConfig::default()
    });
    assert!(err.contains(&garbage.display().to_string()), "{err}");
    assert!(err.contains("not a PEM file"), "{err}");

    // A key where the CA should be: PEM, but no certificate in it.
    let err = config_error(TlsConfig {
        ca_file: Some(pki.path("client-key.pem")),
        ..TlsConfig::default()
    });
    assert!(err.contains("client-key.pem"), "{err}");

    // Certificate and key swapped.
    let err = config_error(TlsConfig {
        client_cert: Some(pki.path("client-key.pem")),
        client_key: Some(pki.path("ca.pem")),
        ..TlsConfig::default()
    });
    assert!(
        err.contains("client_cert") && err.contains("client-key.pem"),
        "{err}"
    );

    // A key that does not belong to the certificate.
    let other = pki.path("other-key.pem");
    std::fs::write(&other, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let err = config_error(TlsConfig {
        client_cert: Some(pki.path("client.pem")),
        client_key: Some(other.clone()),
        ..TlsConfig::default()
    });
    assert!(
        err.contains("client.pem") && err.contains(&other.display().to_string()),
        "{err}"
    );
}

fn write_config(dir: &Path, base: &str, extra: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!("[contexts.test.prometheus]\nurl = \"{base}\"\n{extra}"),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_uses_the_configured_ca_and_warns_about_skipped_verification() {
    let pki = Pki::new();
    let base = pki.serve(false).await;
    let env = Env::new();
    let ca = pki.path("ca.pem");
    let config = write_config(env.path(), &base, &format!("ca_file = {:?}\n", ca));
    let out = env.run(&["--config", config.to_str().unwrap(), "doctor"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("tls           verified (system roots + "),
        "{stdout}"
    );
    assert!(stdout.contains("tls-test-1.0"), "{stdout}");

    let config = write_config(env.path(), &base, "");
    let out = env.run(&["--config", config.to_str().unwrap(), "doctor"]);
    assert!(
        !out.status.success(),
        "an unverifiable server must fail doctor"
    );

    let config = write_config(env.path(), &base, "insecure_skip_verify = true\n");
    let out = env.run(&["--config", config.to_str().unwrap(), "doctor"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("certificate NOT verified"), "{stdout}");
    assert!(stderr.contains("insecure_skip_verify"), "{stderr}");
}

/// The TUI shows the insecure_skip_verify warning first among the startup notices, even when
/// another notice (a credential-looking header) comes before it in the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_shows_the_skipped_verification_warning() {
    use common::tmux::{binary_in, quote, Tmux};
    let pki = Pki::new();
    let base = pki.serve(false).await;
    let env = Env::new();
    let config = write_config(
        env.path(),
        &base,
        "insecure_skip_verify = true\nheaders = { \"X-Api-Key\" = \"not-really-a-key\" }\n",
    );
    let shell_cmd = format!(
        "{bin} --config {config} --db {db}; sleep 30",
        bin = binary_in(&env),
        config = quote(&config),
        db = quote(&env.db()),
    );
    let tmux = Tmux::start(&env, "tls", &shell_cmd);
    let screen = tmux.wait_for(&["insecure_skip_verify"]);
    assert!(screen.contains("NOT checked"), "{screen}");
    assert!(!screen.contains("not-really-a-key"), "{screen}");
    tmux.keys(&["q"]);
}
