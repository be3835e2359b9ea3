//! The part of PromQL and LogQL that a replay can answer: series and stream selectors
//! (`metric{k="v", k2=~"re", k3!="x", k4!~"re"}`) and LogQL line filters (`|= != |~ !~`).
//! Anything else is refused with a message that says what was not understood and where.

use regex::Regex;

use crate::domain::Labels;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    Eq,
    Ne,
    Re,
    NotRe,
}

/// One label matcher. A missing label matches as the empty string, as in Prometheus.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    /// The anchored regex for `=~` and `!~`.
    re: Option<Regex>,
}

impl Matcher {
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        let re = match op {
            MatchOp::Re | MatchOp::NotRe => Some(anchored(value)?),
            MatchOp::Eq | MatchOp::Ne => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    pub fn matches_value(&self, v: &str) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Eq, _) => v == self.value,
            (MatchOp::Ne, _) => v != self.value,
            (MatchOp::Re, Some(re)) => re.is_match(v),
            (MatchOp::NotRe, Some(re)) => !re.is_match(v),
            (MatchOp::Re | MatchOp::NotRe, None) => false,
        }
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_value(labels.get(&self.name).map(String::as_str).unwrap_or(""))
    }
}

/// A conjunction of matchers; the metric name is a matcher on `__name__`.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    pub matchers: Vec<Matcher>,
}

impl Selector {
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matchers.iter().all(|m| m.matches(labels))
    }
}

/// A LogQL line filter.
#[derive(Clone, Debug)]
pub enum LineFilter {
    Contains(String),
    NotContains(String),
    Matches(Regex),
    NotMatches(Regex),
}

impl LineFilter {
    pub fn keeps(&self, line: &str) -> bool {
        match self {
            LineFilter::Contains(s) => line.contains(s.as_str()),
            LineFilter::NotContains(s) => !line.contains(s.as_str()),
            LineFilter::Matches(re) => re.is_match(line),
            LineFilter::NotMatches(re) => !re.is_match(line),
        }
    }
}

/// A LogQL log query: a stream selector and line filters, applied in order.
#[derive(Clone, Debug)]
pub struct LogQuery {
    pub selector: Selector,
    pub filters: Vec<LineFilter>,
}

impl LogQuery {
    pub fn keeps_line(&self, line: &str) -> bool {
        self.filters.iter().all(|f| f.keeps(line))
    }
}

fn anchored(re: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{re})$")).map_err(|e| format!("invalid regex {re:?}: {e}"))
}

/// Parses a PromQL instant-vector selector such as `http_requests{service="web"}`.
pub fn parse_promql(query: &str) -> Result<Selector, String> {
    let mut c = Cursor::new(query);
    c.skip_ws();
    let mut matchers = Vec::new();
    let name = c.ident(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':');
    if !name.is_empty() {
        if name.starts_with(|ch: char| ch.is_ascii_digit()) {
            return Err(c.unexpected_at(0, "a metric name or `{`"));
        }
        matchers.push(Matcher::new("__name__", MatchOp::Eq, &name)?);
    }
    c.skip_ws();
    if c.peek() == Some('{') {
        matchers.extend(c.matcher_list()?);
    } else if name.is_empty() {
        return Err(c.unexpected("a metric name or `{`"));
    }
    c.skip_ws();
    if !c.at_end() {
        return Err(c.unexpected("the end of the query (only series selectors are supported)"));
    }
    if name.is_empty() && matchers.iter().all(|m| m.matches_value("")) {
        return Err(
            "a selector needs a metric name or a matcher that does not match the empty string"
                .into(),
        );
    }
    Ok(Selector { matchers })
}

/// Parses a LogQL log query: `{service="web"}` optionally followed by line filters such as
/// `|= "timeout" != "health" |~ "5\\d\\d"`.
pub fn parse_logql(query: &str) -> Result<LogQuery, String> {
    let mut c = Cursor::new(query);
    c.skip_ws();
    if c.peek() != Some('{') {
        return Err(c.unexpected("`{` (a stream selector)"));
    }
    let matchers = c.matcher_list()?;
    if matchers.iter().all(|m| m.matches_value("")) {
        return Err(
            "a stream selector needs at least one matcher that does not match the empty string"
                .into(),
        );
    }
    let mut filters = Vec::new();
    loop {
        c.skip_ws();
        if c.at_end() {
            break;
        }
        let op_pos = c.pos;
        let op: String = c.take(2);
        c.skip_ws();
        let make = |text: String| -> Result<LineFilter, String> {
            Ok(match op.as_str() {
                "|=" => LineFilter::Contains(text),
                "!=" => LineFilter::NotContains(text),
                "|~" => LineFilter::Matches(
                    Regex::new(&text).map_err(|e| format!("invalid regex {text:?}: {e}"))?,
                ),
                _ => LineFilter::NotMatches(
                    Regex::new(&text).map_err(|e| format!("invalid regex {text:?}: {e}"))?,
                ),
            })
        };
        if !["|=", "!=", "|~", "!~"].contains(&op.as_str()) {
            return Err(c.unexpected_at(
                op_pos,
                "a line filter (|=, !=, |~ or !~); parsers and metric queries are not supported",
            ));
        }
        let text = c.string()?;
        filters.push(make(text)?);
    }
    Ok(LogQuery {
        selector: Selector { matchers },
        filters,
    })
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn bump(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.pos += ch.len_utf8();
        Some(ch)
    }

    fn take(&mut self, n: usize) -> String {
        (0..n).filter_map(|_| self.bump()).collect()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn ident(&mut self, ok: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.peek().is_some_and(&ok) {
            self.bump();
        }
        self.text[start..self.pos].to_string()
    }

    fn unexpected(&self, wanted: &str) -> String {
        self.unexpected_at(self.pos, wanted)
    }

    fn unexpected_at(&self, pos: usize, wanted: &str) -> String {
        let found: String = self.text[pos..].chars().take(12).collect();
        if found.is_empty() {
            format!("unexpected end of query, expected {wanted}")
        } else {
            format!(
                "unexpected {found:?} at character {}, expected {wanted}",
                pos + 1
            )
        }
    }

    /// `{ name op "value", ... }` with an optional trailing comma.
    fn matcher_list(&mut self) -> Result<Vec<Matcher>, String> {
        self.bump(); // the `{`
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some('}') {
                self.bump();
                return Ok(out);
            }
            let name = self.ident(|ch| ch.is_ascii_alphanumeric() || ch == '_');
            if name.is_empty() || name.starts_with(|ch: char| ch.is_ascii_digit()) {
                return Err(self.unexpected("a label name or `}`"));
            }
            self.skip_ws();
            let op = match (self.bump(), self.peek()) {
                (Some('='), Some('~')) => MatchOp::Re,
                (Some('='), _) => MatchOp::Eq,
                (Some('!'), Some('=')) => MatchOp::Ne,
                (Some('!'), Some('~')) => MatchOp::NotRe,
                _ => return Err(format!("label {name:?}: expected one of =, !=, =~, !~")),
            };
            if op != MatchOp::Eq {
                self.bump();
            }
            self.skip_ws();
            let value = self.string()?;
            out.push(Matcher::new(&name, op, &value)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {}
                _ => return Err(self.unexpected("`,` or `}`")),
            }
        }
    }

    /// A quoted string: "..." or '...' with Go escapes, or `...` taken raw.
    fn string(&mut self) -> Result<String, String> {
        let quote = match self.peek() {
            Some(q @ ('"' | '\'' | '`')) => q,
            _ => return Err(self.unexpected("a quoted string")),
        };
        let open = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.unexpected_at(open, "a closing quote for this string")),
                Some(ch) if ch == quote => return Ok(out),
                Some('\\') if quote != '`' => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(ch @ ('\\' | '"' | '\'')) => out.push(ch),
                    Some(ch) => {
                        return Err(format!(
                            "unknown escape `\\{ch}` in a string (write `\\\\` for a backslash)"
                        ))
                    }
                    None => return Err(self.unexpected("an escaped character")),
                },
                Some(ch) => out.push(ch),
            }
        }
    }
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
    fn promql_selectors_match_as_prometheus_does() {
        let l = labels(&[
            ("__name__", "http_requests"),
            ("service", "web"),
            ("code", "500"),
        ]);
        for (q, want) in [
            ("http_requests", true),
            ("http_requests{}", true),
            (r#"http_requests{service="web"}"#, true),
            (r#" http_requests { service = "web" , } "#, true),
            (r#"http_requests{service!="web"}"#, false),
            (r#"{__name__=~"http_.*", code=~"5.."}"#, true),
            (r#"http_requests{code=~"5"}"#, false),
            (r#"http_requests{code!~"2..",missing=""}"#, true),
            (r#"http_requests{missing!="x"}"#, true),
            (r#"other{service="web"}"#, false),
            (r#"http_requests{service='web'}"#, true),
        ] {
            let sel = parse_promql(q).unwrap_or_else(|e| panic!("{q}: {e}"));
            assert_eq!(sel.matches(&l), want, "{q}");
        }
    }

    #[test]
    fn anything_but_a_selector_is_refused() {
        for q in [
            "",
            "rate(http_requests[5m])",
            "http_requests[5m]",
            "sum by (service) (x)",
            r#"x{service="web""#,
            r#"x{service=web}"#,
            r#"x{service=~"("}"#,
            r#"{service=""}"#,
            "x + y",
            r#"x{s="\d"}"#,
        ] {
            assert!(parse_promql(q).is_err(), "{q} should be refused");
        }
    }

    #[test]
    fn logql_selectors_and_line_filters() {
        let q = parse_logql(r#"{service="web"} |= "timeout" != "health" |~ "after \\d+ms""#)
            .expect("valid");
        assert!(q
            .selector
            .matches(&labels(&[("service", "web"), ("level", "error")])));
        assert!(q.keeps_line("upstream timeout after 300ms"));
        assert!(!q.keeps_line("healthcheck timeout after 300ms"));
        assert!(!q.keeps_line("upstream timeout"));
        for bad in [
            "web",
            r#"{service="web"} | json"#,
            r#"{service="web"} |= timeout"#,
            r#"{service=~".*"}"#,
            r#"sum(rate({service="web"}[1m]))"#,
        ] {
            assert!(parse_logql(bad).is_err(), "{bad} should be refused");
        }
    }
}
