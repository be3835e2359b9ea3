//! Command templates: `{{ labels.NAME }}` placeholders, replaced by the label value quoted for a
//! POSIX shell.
//!
//! Every value is wrapped in single quotes (`'` becomes `'\''`), so a value can never be read
//! by the shell as code. Quoting only protects a value in a plain shell word, so a placeholder
//! is refused where the shell would re-read the quotes as text: inside single or double quotes,
//! backticks, `${...}`, `$'...'`, or after a heredoc (`<<`). Inside `$(...)` it is allowed.
//!
//! Values the operator could misread are refused rather than quoted: control characters
//! (newline, carriage return, escape, DEL, NUL, ...), which can rewrite what the terminal shows
//! in the confirm overlay, and invisible or text-direction characters (U+200B to U+200F,
//! U+202A to U+202E, U+2066 to U+2069, U+FEFF), which make the shown command differ from what
//! runs. Everything else, look-alikes such as a full-width `；` or curly quotes included, is
//! inert data inside the single quotes.

use crate::domain::Labels;

/// Why a command template cannot be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("label {0:?} is not set on the alert")]
    MissingLabel(String),
    #[error("label {0:?} contains a NUL byte, which no shell argument can hold")]
    NulInLabel(String),
    #[error(
        "label {0:?} contains a control character (newline, carriage return, escape, ...); \
         refusing to put it in a command"
    )]
    ControlCharInLabel(String),
    #[error(
        "label {0:?} contains {1}, an invisible or text-direction character that would make \
         the command look different from what runs; refusing to put it in a command"
    )]
    InvisibleCharInLabel(String, String),
    #[error("unknown placeholder {0:?}: only {{{{ labels.NAME }}}} is supported")]
    UnknownPlaceholder(String),
    #[error("placeholder {0:?} is never closed with }}}}")]
    Unclosed(String),
    #[error("placeholder {text:?} is {context}; write it bare, the renderer quotes the value")]
    QuotedPlaceholder { text: String, context: &'static str },
}

/// A placeholder found in a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// Byte range of `{{ ... }}` in the template.
    pub start: usize,
    pub end: usize,
    /// The label name.
    pub name: String,
}

/// A template problem with the byte offset where it starts (for line numbers in runbooks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub error: RenderError,
}

/// Wraps `value` in POSIX single quotes.
pub fn shell_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Replaces every `{{ labels.NAME }}` in `template` with the shell-quoted label value.
pub fn render_command(template: &str, labels: &Labels) -> Result<String, RenderError> {
    let placeholders = scan(template).map_err(|e| e.error)?;
    let mut out = String::with_capacity(template.len());
    let mut at = 0;
    for p in placeholders {
        let value = labels
            .get(&p.name)
            .ok_or_else(|| RenderError::MissingLabel(p.name.clone()))?;
        check_value(&p.name, value)?;
        out.push_str(&template[at..p.start]);
        out.push_str(&shell_quote(value));
        at = p.end;
    }
    out.push_str(&template[at..]);
    Ok(out)
}

/// Refuses a label value that could not be shown to the operator as it will run.
fn check_value(name: &str, value: &str) -> Result<(), RenderError> {
    if value.contains('\0') {
        return Err(RenderError::NulInLabel(name.to_string()));
    }
    if value.chars().any(char::is_control) {
        return Err(RenderError::ControlCharInLabel(name.to_string()));
    }
    if let Some(c) = value.chars().find(|c| is_invisible(*c)) {
        return Err(RenderError::InvisibleCharInLabel(
            name.to_string(),
            format!("U+{:04X}", u32::from(c)),
        ));
    }
    Ok(())
}

/// Zero-width characters, bidirectional embeddings, overrides and isolates, and the BOM.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Shell contexts the scanner tracks, innermost last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    /// `'...'`
    Single,
    /// `$'...'`
    AnsiC,
    /// `"..."`
    Double,
    /// `` `...` ``
    Backtick,
    /// `$(...)`: a fresh quoting context.
    Subst,
    /// `(...)` inside plain words or `$(...)`.
    Paren,
    /// `${...}`
    Brace,
}

impl Ctx {
    fn describe(self) -> &'static str {
        match self {
            Ctx::Single => "inside single quotes",
            Ctx::AnsiC => "inside $'...' quotes",
            Ctx::Double => "inside double quotes",
            Ctx::Backtick => "inside backticks",
            Ctx::Brace => "inside ${...}",
            Ctx::Subst | Ctx::Paren => "in a plain word",
        }
    }

    /// True where single quotes are honoured (plain words at any `$(...)` depth).
    fn is_plain(self) -> bool {
        matches!(self, Ctx::Subst | Ctx::Paren)
    }
}

/// Finds every placeholder in `template` and checks it sits in a plain shell word.
pub fn scan(template: &str) -> Result<Vec<Placeholder>, TemplateError> {
    let bytes = template.as_bytes();
    let mut stack: Vec<Ctx> = Vec::new();
    let mut heredoc = false;
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{{") {
            let p = placeholder_at(template, i)?;
            let context = if heredoc {
                Some("after a heredoc (<<)")
            } else {
                stack
                    .iter()
                    .rev()
                    .find(|c| !c.is_plain())
                    .map(|c| c.describe())
            };
            if let Some(context) = context {
                return Err(TemplateError {
                    offset: i,
                    error: RenderError::QuotedPlaceholder {
                        text: template[p.start..p.end].to_string(),
                        context,
                    },
                });
            }
            i = p.end;
            found.push(p);
            continue;
        }
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        let top = stack.last().copied();
        match top {
            Some(Ctx::Single) => {
                if b == b'\'' {
                    stack.pop();
                }
            }
            Some(Ctx::AnsiC) => match b {
                b'\\' => i += 1,
                b'\'' => {
                    stack.pop();
                }
                _ => {}
            },
            Some(Ctx::Backtick) => match b {
                b'\\' => i += 1,
                b'`' => {
                    stack.pop();
                }
                _ => {}
            },
            Some(Ctx::Double) => match (b, next) {
                (b'\\', _) => i += 1,
                (b'"', _) => {
                    stack.pop();
                }
                (b'`', _) => stack.push(Ctx::Backtick),
                (b'$', Some(b'(')) => {
                    stack.push(Ctx::Subst);
                    i += 1;
                }
                (b'$', Some(b'{')) => {
                    stack.push(Ctx::Brace);
                    i += 1;
                }
                _ => {}
            },
            // Plain words: top level, `$(...)`, `(...)`, and `${...}` (which closes on `}`).
            _ => match (b, next) {
                (b'\\', _) => i += 1,
                (b'\'', _) => stack.push(Ctx::Single),
                (b'"', _) => stack.push(Ctx::Double),
                (b'`', _) => stack.push(Ctx::Backtick),
                (b'$', Some(b'\'')) => {
                    stack.push(Ctx::AnsiC);
                    i += 1;
                }
                (b'$', Some(b'(')) => {
                    stack.push(Ctx::Subst);
                    i += 1;
                }
                (b'$', Some(b'{')) => {
                    stack.push(Ctx::Brace);
                    i += 1;
                }
                (b'(', _) => stack.push(Ctx::Paren),
                (b')', _) if matches!(top, Some(Ctx::Subst | Ctx::Paren)) => {
                    stack.pop();
                }
                (b'}', _) if top == Some(Ctx::Brace) => {
                    stack.pop();
                }
                (b'<', Some(b'<')) => {
                    if bytes.get(i + 2) == Some(&b'<') {
                        i += 2; // a here-string: the word after it is quoted normally
                    } else {
                        heredoc = true;
                        i += 1;
                    }
                }
                (b'#', _) if i == 0 || bytes[i - 1].is_ascii_whitespace() => {
                    // A comment: skip to the end of the line.
                    while i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                        i += 1;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    Ok(found)
}

/// Parses the placeholder starting at byte `start` (which begins with `{{`).
fn placeholder_at(template: &str, start: usize) -> Result<Placeholder, TemplateError> {
    let rest = &template[start + 2..];
    let Some(close) = rest.find("}}") else {
        let line_end = rest.find('\n').unwrap_or(rest.len());
        return Err(TemplateError {
            offset: start,
            error: RenderError::Unclosed(template[start..start + 2 + line_end].to_string()),
        });
    };
    let end = start + 2 + close + 2;
    let text = &template[start..end];
    let inner = rest[..close].trim();
    let name = inner.strip_prefix("labels.").unwrap_or("");
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(TemplateError {
            offset: start,
            error: RenderError::UnknownPlaceholder(text.to_string()),
        });
    }
    Ok(Placeholder {
        start,
        end,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values_are_always_single_quoted() {
        let l = labels(&[("namespace", "shop"), ("x", "it's; rm -rf /")]);
        assert_eq!(
            render_command("kubectl -n {{ labels.namespace }} get pods", &l),
            Ok("kubectl -n 'shop' get pods".to_string())
        );
        assert_eq!(
            render_command("echo {{labels.x}}", &l),
            Ok("echo 'it'\\''s; rm -rf /'".to_string())
        );
        assert_eq!(
            render_command("deploy/{{ labels.namespace }}-api", &l),
            Ok("deploy/'shop'-api".to_string())
        );
    }

    #[test]
    fn missing_label_and_bad_placeholders_are_errors() {
        let l = labels(&[("a", "1")]);
        assert_eq!(
            render_command("echo {{ labels.b }}", &l),
            Err(RenderError::MissingLabel("b".into()))
        );
        for bad in [
            "{{ env.HOME }}",
            "{{ labels. }}",
            "{{ labels.a b }}",
            "{{}}",
        ] {
            assert!(
                matches!(
                    render_command(bad, &l),
                    Err(RenderError::UnknownPlaceholder(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            render_command("echo {{ labels.a", &l),
            Err(RenderError::Unclosed(_))
        ));
        assert_eq!(
            render_command("echo {{ labels.a }}", &labels(&[("a", "x\0y")])),
            Err(RenderError::NulInLabel("a".into()))
        );
    }

    #[test]
    fn control_and_invisible_characters_are_refused() {
        for value in ["a\nb", "a\rb", "\u{1b}[2J", "x\u{7f}", "\t", "\u{85}"] {
            assert_eq!(
                render_command("echo {{ labels.a }}", &labels(&[("a", value)])),
                Err(RenderError::ControlCharInLabel("a".into())),
                "{value:?}"
            );
        }
        for (value, code) in [
            ("abc\u{202E}txt.hs", "U+202E"),
            ("a\u{200B}b", "U+200B"),
            ("\u{FEFF}x", "U+FEFF"),
            ("\u{2066}x\u{2069}", "U+2066"),
            ("a\u{202A}", "U+202A"),
        ] {
            assert_eq!(
                render_command("echo {{ labels.a }}", &labels(&[("a", value)])),
                Err(RenderError::InvisibleCharInLabel("a".into(), code.into())),
                "{value:?}"
            );
        }
        // Look-alikes are plain data.
        for value in ["ｒｍ -rf", "；id", "\u{2018}x\u{2019}", "\u{2010}"] {
            assert_eq!(
                render_command("echo {{ labels.a }}", &labels(&[("a", value)])),
                Ok(format!("echo '{value}'"))
            );
        }
    }

    #[test]
    fn placeholders_where_quotes_would_not_protect_are_refused() {
        let l = labels(&[("a", "1")]);
        for (template, context) in [
            ("echo \"{{ labels.a }}\"", "inside double quotes"),
            ("echo '{{ labels.a }}'", "inside single quotes"),
            ("echo `echo {{ labels.a }}`", "inside backticks"),
            ("echo ${X:-{{ labels.a }}}", "inside ${...}"),
            ("echo $'x\\'{{ labels.a }}'", "inside $'...' quotes"),
            (
                "echo \"$(echo \"{{ labels.a }}\")\"",
                "inside double quotes",
            ),
            ("cat <<EOF\n{{ labels.a }}\nEOF", "after a heredoc (<<)"),
        ] {
            match render_command(template, &l) {
                Err(RenderError::QuotedPlaceholder { context: c, .. }) => {
                    assert_eq!(c, context, "{template}")
                }
                other => panic!("{template}: {other:?}"),
            }
        }
    }

    #[test]
    fn plain_words_inside_substitutions_and_after_quotes_are_fine() {
        let l = labels(&[("a", "v")]);
        for (template, want) in [
            ("echo $(echo {{ labels.a }})", "echo $(echo 'v')"),
            ("echo 'x' \"y\" {{ labels.a }}", "echo 'x' \"y\" 'v'"),
            ("echo \\' {{ labels.a }}", "echo \\' 'v'"),
            ("cat <<< {{ labels.a }}", "cat <<< 'v'"),
            ("# don't\necho {{ labels.a }}", "# don't\necho 'v'"),
            ("echo $((1 + 2)) {{ labels.a }}", "echo $((1 + 2)) 'v'"),
            ("awk '{print $1}' {{ labels.a }}", "awk '{print $1}' 'v'"),
        ] {
            assert_eq!(render_command(template, &l), Ok(want.to_string()));
        }
    }
}
