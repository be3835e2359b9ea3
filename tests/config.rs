//! The config file, contexts, flags and environment: parsing errors point at the file, line and
//! column; resolution picks a context, reads secrets without ever printing them, and lets flags
//! win. Environment look-ups are injected, so no test touches the process environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{CommandFactory, Parser};
use pagerpilot::cli::Cli;
use pagerpilot::config::{
    parse_config, resolve_config, resolve_with_env, BasicFile, ConfigError, ConfigFile,
    ContextFile, LokiFile, Origin, Overrides, Paths, Settings, SourceFile, WatchFile,
};

const EXAMPLE: &str = include_str!("../assets/config.example.toml");

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn paths_in(dir: &Path) -> Paths {
    Paths {
        config_dir: dir.join("config"),
        data_dir: dir.join("data"),
        state_dir: dir.join("state"),
    }
}

fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
    parse_config(text, Path::new("/etc/pp/config.toml"))
}

fn parse_err(text: &str) -> String {
    match parse(text) {
        Ok(file) => panic!("expected a parse error, got {file:#?}"),
        Err(e) => e.to_string(),
    }
}

/// Writes `text` as `config.toml` in `dir` and resolves it with `overrides` and `env`.
fn resolve_text(
    dir: &Path,
    text: &str,
    overrides: Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("write the config file");
    let overrides = Overrides {
        config: Some(path),
        ..overrides
    };
    resolve_with_env(&overrides, &paths_in(dir), env)
}

fn resolve_err(dir: &Path, text: &str, overrides: Overrides) -> String {
    match resolve_text(dir, text, overrides, &no_env) {
        Ok(s) => panic!("expected a resolve error, got {s:#?}"),
        Err(e) => e.to_string(),
    }
}

fn context(name: &str) -> Overrides {
    Overrides {
        context: Some(name.to_owned()),
        ..Overrides::default()
    }
}

/// The example's convention: a `#: ` line is un-commented; when it sets the same key as the
/// active line right above it, it replaces that line.
fn uncomment_examples(text: &str) -> String {
    let key_of = |line: &str| -> Option<String> {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with('[') {
            return None;
        }
        line.split_once('=').map(|(k, _)| k.trim().to_owned())
    };
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("#: ") {
            Some(sample) => {
                let replaces = match (out.last(), key_of(sample)) {
                    (Some(prev), Some(key)) => key_of(prev) == Some(key),
                    _ => false,
                };
                if replaces {
                    out.pop();
                }
                out.push(sample);
            }
            None => out.push(line),
        }
    }
    out.join("\n")
}

#[test]
fn example_as_shipped_equals_the_defaults() {
    let parsed = parse_config(EXAMPLE, Path::new("assets/config.example.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed, ConfigFile::default());
    // The active lines are there (the comparison above is not against an empty file).
    for key in [
        "readonly = false",
        "runbook_dirs = []",
        "redact = []",
        "poll_interval = \"15s\"",
        "sensitivity = 0.5",
    ] {
        assert!(
            EXAMPLE.lines().any(|l| l == key),
            "active default line {key:?} missing"
        );
    }
}

#[test]
fn example_with_every_sample_uncommented_parses_and_resolves() {
    let full = uncomment_examples(EXAMPLE);
    assert!(
        !full.lines().any(|l| l.starts_with("#:")),
        "every sample line is un-commented"
    );
    assert!(
        EXAMPLE.matches("\n#: ").count() >= 40,
        "the convention matched"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    for (file, content) in [
        ("secrets/prom-token", "prom-secret-token\n"),
        ("secrets/am-staging-password", "staging-pw"),
        ("tls/internal-ca.pem", "ca"),
        ("tls/client.pem", "cert"),
        ("tls/client-key.pem", "key"),
    ] {
        let path = d.join(file);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }

    // Every key of the model is set by some sample: the destructuring has no `..`, so a new
    // field does not compile here until the example shows it.
    let parsed = parse_config(&full, Path::new("full.toml")).unwrap_or_else(|e| panic!("{e}"));
    let ConfigFile {
        current_context,
        readonly,
        operator,
        runbook_dirs,
        redact,
        poll_interval,
        sensitivity,
        contexts,
    } = &parsed;
    assert_eq!(current_context.as_deref(), Some("prod"));
    assert!(!readonly && operator.is_some() && runbook_dirs.len() == 2 && redact.len() == 2);
    assert_eq!(poll_interval.0, Duration::from_secs(30));
    assert_eq!(sensitivity.0, 0.6);
    let prod = &contexts["prod"];
    let ContextFile {
        readonly,
        prometheus,
        alertmanager,
        loki,
        watch,
        topology,
    } = prod;
    assert_eq!(*readonly, Some(true));
    assert!(alertmanager.is_some() && topology.len() == 2);
    let prom = prometheus.as_ref().expect("prod.prometheus");
    let SourceFile {
        url: _,
        timeout,
        bearer_token_file,
        bearer_token_env: _,
        basic: _,
        headers,
        tenants,
        ca_file,
        client_cert,
        client_key,
        insecure_skip_verify: _,
    } = prom;
    assert!(timeout.is_some() && bearer_token_file.is_some() && !headers.is_empty());
    assert!(!tenants.is_empty() && ca_file.is_some() && client_cert.is_some());
    assert!(client_key.is_some());
    let LokiFile {
        bearer_token_env,
        service_labels,
        ..
    } = loki.as_ref().expect("prod.loki");
    assert!(bearer_token_env.is_some() && service_labels.is_some());
    let WatchFile {
        name: _,
        query: _,
        step,
        service_label,
        sensitivity,
        capacity,
        slo,
    } = &watch[0];
    assert!(step.is_some() && service_label.is_some());
    assert_eq!(sensitivity.map(|s| s.0), Some(0.4));
    assert!(capacity.is_none() && slo.is_none());
    assert_eq!(watch.len(), 3);
    assert_eq!(watch[1].capacity.map(|c| c.0), Some(100.0));
    assert_eq!(watch[2].slo.map(|s| s.0), Some(0.999));
    let staging = &contexts["staging"];
    assert!(staging
        .prometheus
        .as_ref()
        .is_some_and(|p| p.insecure_skip_verify));
    let basic = staging.alertmanager.as_ref().and_then(|a| a.basic.clone());
    let Some(BasicFile {
        user: _,
        password_file,
        password_env: _,
    }) = basic
    else {
        panic!("staging.alertmanager.basic")
    };
    assert!(password_file.is_some());

    let env = env_of(&[
        ("HOME", "/home/ada"),
        ("AM_PASSWORD", "am-pw"),
        ("LOKI_TOKEN", "loki-token"),
    ]);
    let s = resolve_text(d, &full, Overrides::default(), &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.origin, Origin::File(d.join("config.toml")));
    assert_eq!(s.context.as_deref(), Some("prod"));
    assert!(s.readonly && s.is_live());
    assert_eq!(s.operator.as_deref(), Some("Ada (SRE)"));
    assert_eq!(
        s.runbook_dirs,
        vec![PathBuf::from("/home/ada/runbooks"), d.join("team-runbooks")]
    );
    assert!(s.redact[0].is_match("API_KEY=abc"));
    assert_eq!(s.poll_interval, Duration::from_secs(30));
    assert_eq!(s.sensitivity, 0.6);
    assert_eq!(s.watch_sensitivity.get("checkout p99"), Some(&0.4));
    let prom = s.prometheus.as_ref().expect("prometheus");
    assert_eq!(prom.http.base_url, "https://mimir.example.com/prometheus");
    assert_eq!(prom.http.timeout, Duration::from_secs(10));
    assert_eq!(
        prom.http.bearer_token.as_ref().map(|t| t.expose()),
        Some("prom-secret-token")
    );
    assert_eq!(prom.http.headers, vec![("X-Team".into(), "sre".into())]);
    assert_eq!(prom.http.tenant.as_deref(), Some("sre"));
    assert_eq!(prom.tls.ca_file, Some(d.join("tls/internal-ca.pem")));
    assert_eq!(prom.tls.client_key, Some(d.join("tls/client-key.pem")));
    let am = s.alertmanager.as_ref().expect("alertmanager");
    let (user, password) = am.http.basic.as_ref().expect("basic auth");
    assert_eq!((user.as_str(), password.expose()), ("pagerpilot", "am-pw"));
    let loki = s.loki.as_ref().expect("loki");
    assert_eq!(
        loki.source.http.tenant.as_deref(),
        Some("checkout|payments")
    );
    assert_eq!(loki.service_labels, ["service", "app", "job", "namespace"]);
    assert_eq!(s.watch.len(), 3);
    assert_eq!(s.watch[0].name, "checkout p99");
    assert_eq!(s.watch[0].step, Duration::from_secs(30));
    assert_eq!((s.watch[1].capacity, s.watch[1].slo), (Some(100.0), None));
    assert_eq!(s.watch[1].service_label, "instance");
    assert_eq!((s.watch[2].capacity, s.watch[2].slo), (None, Some(0.999)));
    assert_eq!(
        s.topology,
        vec![
            ("checkout-api".into(), "payments-db".into()),
            ("web".into(), "checkout-api".into())
        ]
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    let staging =
        resolve_text(d, &full, context("staging"), &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(staging.warnings.len(), 1, "{:?}", staging.warnings);
    let am = staging
        .alertmanager
        .as_ref()
        .and_then(|a| a.http.basic.clone());
    assert_eq!(
        am.map(|(_, p)| p.expose().to_owned()).as_deref(),
        Some("staging-pw")
    );
}

#[test]
fn unknown_key_names_file_line_column_and_key() {
    let err = parse_err("poll_interval = \"15s\"\n[contexts.prod]\n  colour = \"red\"\n");
    assert!(
        err.starts_with("/etc/pp/config.toml:3:3: unknown field `colour`"),
        "{err}"
    );
    assert!(
        err.contains("colour = \"red\""),
        "the line is quoted: {err}"
    );
    let err = parse_err("[contexts.p.loki]\nurl = \"http://l\"\ntenant = \"a\"\n");
    assert!(err.contains(":3:1: unknown field `tenant`"), "{err}");
}

#[test]
fn bad_duration_names_line_and_value() {
    let err = parse_err("readonly = true\npoll_interval = \"15 sec\"\n");
    assert!(err.starts_with("/etc/pp/config.toml:2:17:"), "{err}");
    assert!(err.contains("\"15 sec\""), "{err}");
    let err = parse_err("[contexts.p.prometheus]\nurl = \"http://h\"\ntimeout = 10\n");
    assert!(err.contains(":3:11:") && err.contains("duration"), "{err}");
}

#[test]
fn bad_urls_are_refused_with_their_position_or_flag() {
    let err = parse_err("[contexts.p.prometheus]\nurl = \"localhost:9090\"\n");
    assert!(
        err.contains(":2:7:") && err.contains("\"localhost:9090\""),
        "{err}"
    );
    let err = parse_err("[contexts.p.alertmanager]\nurl = \"ftp://h\"\n");
    assert!(err.contains("http or https"), "{err}");
    let err = parse_err("[contexts.p.loki]\nurl = \"https://u:hunter2@loki\"\n");
    assert!(
        !err.contains("hunter2") && err.contains("password"),
        "{err}"
    );
    assert!(err.contains("https://u:***@loki"), "{err}");

    let dir = tempfile::tempdir().expect("temp dir");
    let flags = Overrides {
        loki: Some("loki:3100".into()),
        ..Overrides::default()
    };
    let err = resolve_with_env(&flags, &paths_in(dir.path()), &no_env)
        .map(|_| ())
        .map_err(|e| e.to_string());
    let err = err.expect_err("a bad flag URL is an error");
    assert!(
        err.contains("--loki") && err.contains("\"loki:3100\""),
        "{err}"
    );
}

#[test]
fn missing_token_file_names_key_and_context_never_the_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[contexts.prod.prometheus]\nurl = \"https://p\"\nbearer_token_file = \"/nonexistent/tok\"\n";
    let err = resolve_err(dir.path(), text, Overrides::default());
    assert!(
        err.contains("contexts.prod.prometheus.bearer_token_file")
            && err.contains("/nonexistent/tok"),
        "{err}"
    );

    let text = "[contexts.prod.loki]\nurl = \"https://l\"\nbearer_token_env = \"LOKI_TOKEN\"\n";
    let err = resolve_err(dir.path(), text, Overrides::default());
    assert!(
        err.contains("contexts.prod.loki.bearer_token_env")
            && err.contains("LOKI_TOKEN is not set"),
        "{err}"
    );

    // A secret that is present never shows in another error of the same source.
    let text = "[contexts.prod.alertmanager]\nurl = \"https://a\"\n\
                basic = { user = \"u\", password_env = \"PW\" }\nca_file = \"missing.pem\"\n";
    let env = env_of(&[("PW", "s3cr3t-value")]);
    let err = resolve_text(dir.path(), text, Overrides::default(), &env)
        .map(|_| ())
        .map_err(|e| format!("{e} {e:?}"));
    let err = err.expect_err("the CA file is missing");
    assert!(err.contains("contexts.prod.alertmanager.ca_file"), "{err}");
    assert!(!err.contains("s3cr3t-value"), "{err}");
}

#[test]
fn token_file_is_read_and_the_secret_prints_stars() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tok"), "  tok-123\n").expect("write");
    let text =
        "[contexts.prod.prometheus]\nurl = \"https://p/prefix\"\nbearer_token_file = \"tok\"\n";
    let s = resolve_text(dir.path(), text, Overrides::default(), &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    let http = &s.prometheus.as_ref().expect("prometheus").http;
    let token = http.bearer_token.as_ref().expect("token");
    assert_eq!(token.expose(), "tok-123");
    assert_eq!(format!("{token:?} {token}"), "*** ***");
    let debug = format!("{s:?}");
    assert!(
        !debug.contains("tok-123") && debug.contains("***"),
        "{debug}"
    );
    assert_eq!(http.base_url, "https://p/prefix");
}

#[test]
fn a_token_file_and_env_together_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[contexts.c.prometheus]\nurl = \"https://p\"\n\
                bearer_token_file = \"t\"\nbearer_token_env = \"T\"\n";
    let err = resolve_err(dir.path(), text, Overrides::default());
    assert!(
        err.contains("bearer_token_file and bearer_token_env are both set"),
        "{err}"
    );
}

#[test]
fn flag_urls_override_the_file_and_keep_its_auth() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[contexts.prod.prometheus]\nurl = \"https://file\"\nbearer_token_env = \"T\"\n";
    let flags = Overrides {
        prometheus: Some("http://flag:9090".into()),
        alertmanager: Some("http://am:9093".into()),
        ..Overrides::default()
    };
    let s = resolve_text(dir.path(), text, flags, &env_of(&[("T", "t")]))
        .unwrap_or_else(|e| panic!("{e}"));
    let prom = s.prometheus.as_ref().expect("prometheus");
    assert_eq!(prom.http.base_url, "http://flag:9090");
    assert!(prom.http.bearer_token.is_some());
    assert_eq!(
        s.alertmanager.as_ref().map(|a| a.http.base_url.as_str()),
        Some("http://am:9093")
    );
    assert!(s.loki.is_none());
    assert!(
        s.warnings.iter().any(|w| w.contains("plain http")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn without_a_file_flags_make_it_live_and_nothing_is_the_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = paths_in(dir.path());
    let s =
        resolve_with_env(&Overrides::default(), &paths, &no_env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.origin, Origin::Demo);
    assert!(!s.is_live() && !s.readonly && s.context.is_none());
    assert_eq!(s.poll_interval, Duration::from_secs(15));

    let flags = Overrides {
        loki: Some("http://localhost:3100".into()),
        readonly: true,
        ..Overrides::default()
    };
    let s = resolve_with_env(&flags, &paths, &no_env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.origin, Origin::Flags);
    assert!(s.is_live() && s.readonly);
    let loki = s.loki.as_ref().expect("loki");
    assert_eq!(loki.service_labels, ["service", "app", "job", "namespace"]);

    // The XDG file is read when present.
    std::fs::create_dir_all(&paths.config_dir).expect("mkdir");
    std::fs::write(paths.config_file(), "readonly = true\n").expect("write");
    let s =
        resolve_with_env(&Overrides::default(), &paths, &no_env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.origin, Origin::File(paths.config_file()));
    assert!(s.readonly);
}

#[test]
fn a_missing_config_flag_file_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flags = Overrides {
        config: Some(dir.path().join("nope.toml")),
        ..Overrides::default()
    };
    let err = resolve_with_env(&flags, &paths_in(dir.path()), &no_env).map(|_| ());
    let err = err.map_err(|e| e.to_string()).expect_err("missing file");
    assert!(
        err.contains("nope.toml") && err.contains("does not exist"),
        "{err}"
    );
}

const TWO_CONTEXTS: &str = "\
[contexts.prod.prometheus]
url = \"https://prod\"
[contexts.staging]
readonly = true
[contexts.staging.prometheus]
url = \"https://staging\"
";

#[test]
fn several_contexts_need_a_choice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = resolve_err(dir.path(), TWO_CONTEXTS, Overrides::default());
    assert!(
        err.contains("--context") && err.contains("known contexts: prod, staging"),
        "{err}"
    );

    let chosen = format!("current_context = \"staging\"\n{TWO_CONTEXTS}");
    let s = resolve_text(dir.path(), &chosen, Overrides::default(), &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.context.as_deref(), Some("staging"));
    assert!(s.readonly);
    let url = |s: &Settings| s.prometheus.as_ref().map(|p| p.http.base_url.clone());
    assert_eq!(url(&s).as_deref(), Some("https://staging"));

    // --context wins over current_context.
    let s = resolve_text(dir.path(), &chosen, context("prod"), &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.context.as_deref(), Some("prod"));
    assert!(!s.readonly);
    assert_eq!(url(&s).as_deref(), Some("https://prod"));

    // A lone context is chosen without asking.
    let one = "[contexts.only.loki]\nurl = \"http://l\"\n";
    let s = resolve_text(dir.path(), one, Overrides::default(), &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.context.as_deref(), Some("only"));
}

#[test]
fn unknown_context_lists_the_known_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = resolve_err(dir.path(), TWO_CONTEXTS, context("nope"));
    assert!(
        err.contains("\"nope\"") && err.contains("known contexts: prod, staging"),
        "{err}"
    );
    let bad_current = format!("current_context = \"prd\"\n{TWO_CONTEXTS}");
    let err = resolve_err(dir.path(), &bad_current, Overrides::default());
    assert!(
        err.contains("\"prd\"") && err.contains("current_context"),
        "{err}"
    );
}

#[test]
fn tenants_are_joined_with_a_pipe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[contexts.c.loki]\nurl = \"http://l\"\ntenants = [\"a\", \"b\"]\n\
                service_labels = [\"app\"]\n";
    let s = resolve_text(dir.path(), text, Overrides::default(), &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    let loki = s.loki.as_ref().expect("loki");
    assert_eq!(loki.source.http.tenant.as_deref(), Some("a|b"));
    assert_eq!(loki.service_labels, ["app"]);
    let text = "[contexts.c.loki]\nurl = \"http://l\"\ntenants = [\"a|b\"]\n";
    let err = resolve_err(dir.path(), text, Overrides::default());
    assert!(err.contains("contexts.c.loki.tenants[0]"), "{err}");
}

#[test]
fn insecure_skip_verify_warns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[contexts.prod.prometheus]\nurl = \"https://p\"\ninsecure_skip_verify = true\n";
    let s = resolve_text(dir.path(), text, Overrides::default(), &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.warnings,
        vec!["insecure_skip_verify is on for prod.prometheus: TLS certificates are NOT checked"]
    );
    assert!(s
        .prometheus
        .as_ref()
        .is_some_and(|p| p.tls.insecure_skip_verify));
}

#[test]
fn an_invalid_redact_regex_is_an_error_naming_it() {
    let err = parse_err("redact = [\"ok\", \"(unclosed\"]\n");
    assert!(
        err.contains(":1:17:") && err.contains("invalid regex \"(unclosed\""),
        "{err}"
    );
}

#[test]
fn tilde_expands_with_home_from_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "runbook_dirs = [\"~/rb\", \"/abs\"]\n";
    let env = env_of(&[("HOME", "/home/test-user")]);
    let s = resolve_text(dir.path(), text, Overrides::default(), &env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.runbook_dirs,
        [PathBuf::from("/home/test-user/rb"), PathBuf::from("/abs")]
    );
    let err = resolve_err(dir.path(), text, Overrides::default());
    assert!(
        err.contains("runbook_dirs[0]") && err.contains("HOME"),
        "{err}"
    );
}

#[test]
fn resolving_a_parsed_file_checks_watches_and_topology() {
    let file = parse(
        "[contexts.c]\n[[contexts.c.watch]]\nname = \"w\"\nquery = \"up\"\n\
         [[contexts.c.watch]]\nname = \"w\"\nquery = \"up\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let err = resolve_config(&file, None, &Overrides::default(), &no_env).map(|_| ());
    let err = err.map_err(|e| e.to_string()).expect_err("duplicate watch");
    assert!(err.contains("contexts.c.watch[1].name"), "{err}");

    let file = parse("[[contexts.c.topology]]\nfrom = \"a\"\nto = \"a\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let err = resolve_config(&file, None, &Overrides::default(), &no_env).map(|_| ());
    let err = err.map_err(|e| e.to_string()).expect_err("self edge");
    assert!(err.contains("contexts.c.topology[0]"), "{err}");

    let file = parse("[[contexts.c.watch]]\nname = \"w\"\nquery = \"up\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let s = resolve_config(&file, None, &Overrides::default(), &no_env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.watch[0].service_label, "service");
    assert!(
        s.warnings[0].contains("no prometheus source"),
        "{:?}",
        s.warnings
    );
}

#[test]
fn cli_flags_become_overrides() {
    let cli = Cli::try_parse_from([
        "pagerpilot",
        "--config",
        "/c.toml",
        "--context",
        "prod",
        "--prometheus",
        "http://p",
        "--alertmanager",
        "http://a",
        "--loki",
        "http://l",
        "--readonly",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        cli.common.overrides(),
        Overrides {
            config: Some(PathBuf::from("/c.toml")),
            context: Some("prod".into()),
            prometheus: Some("http://p".into()),
            alertmanager: Some("http://a".into()),
            loki: Some("http://l".into()),
            readonly: true,
        }
    );
    // Global: accepted after a subcommand too.
    let cli = Cli::try_parse_from(["pagerpilot", "themes", "--context", "x"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cli.common.overrides().context.as_deref(), Some("x"));

    let command = Cli::command();
    let env_of_flag = |id: &str| {
        command
            .get_arguments()
            .find(|a| a.get_id() == id)
            .and_then(|a| a.get_env())
            .and_then(|e| e.to_str())
            .map(str::to_owned)
    };
    for (id, var) in [
        ("config", "PAGERPILOT_CONFIG"),
        ("context", "PAGERPILOT_CONTEXT"),
        ("prometheus", "PAGERPILOT_PROMETHEUS_URL"),
        ("alertmanager", "PAGERPILOT_ALERTMANAGER_URL"),
        ("loki", "PAGERPILOT_LOKI_URL"),
        ("readonly", "PAGERPILOT_READONLY"),
    ] {
        assert_eq!(env_of_flag(id).as_deref(), Some(var), "--{id}");
    }
}
