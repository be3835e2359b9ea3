//! Semantic colour roles. Views ask for `theme.style(Role::Critical)`, never for raw colours.
//! Built-in themes are TOML files embedded from `themes/`; a user file `DIR/NAME.toml` overrides
//! some or all roles of the built-in theme of the same name (or of `dark` for a new name).

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

macro_rules! roles {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// A semantic style. The TOML key is the snake_case name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Role { $($variant),+ }

        impl Role {
            pub const ALL: &'static [Role] = &[$(Role::$variant),+];

            /// The key used in theme files.
            pub fn name(self) -> &'static str {
                match self { $(Role::$variant => $name),+ }
            }
        }
    };
}

roles! {
    Text => "text",
    Muted => "muted",
    Border => "border",
    Title => "title",
    Header => "header",
    Selected => "selected",
    TabActive => "tab_active",
    Critical => "critical",
    Warning => "warning",
    Info => "info",
    Ok => "ok",
    Stale => "stale",
    Error => "error",
    Demo => "demo",
    Banner => "banner",
    Destructive => "destructive",
    Command => "command",
    Fact => "fact",
    Guess => "guess",
    BadgeNew => "badge_new",
    BadgeSurge => "badge_surge",
    Link => "link",
    KeyHint => "key_hint",
    ChartAxis => "chart_axis",
    ChartSeries => "chart_series",
    ChartBand => "chart_band",
    ChartAnomaly => "chart_anomaly",
    ChartForecast => "chart_forecast",
}

impl Role {
    fn index(self) -> usize {
        self as usize
    }

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme {name:?}; available themes: {}", available.join(", "))]
    Unknown {
        name: String,
        available: Vec<String>,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: {key}: {message}")]
    BadValue {
        file: String,
        key: String,
        message: String,
    },
    #[error("cannot read theme file {file}: {message}")]
    Io { file: String, message: String },
}

const BUILTIN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

const BUILTIN_NAMES: [&str; 3] = ["dark", "light", "high-contrast"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    /// Free text for people reading the file.
    #[serde(default, rename = "description")]
    _description: Option<String>,
    #[serde(default)]
    roles: BTreeMap<String, RoleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default, alias = "underlined")]
    underline: bool,
    #[serde(default, alias = "reversed")]
    reverse: bool,
}

/// A complete set of role styles.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    name: String,
    styles: Vec<Style>,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::load("dark", None).unwrap_or_else(|_| Theme::monochrome())
    }
}

impl Theme {
    pub fn builtin_names() -> &'static [&'static str] {
        &BUILTIN_NAMES
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Built-in names, then the stems of `*.toml` files in `user_dir` (sorted, no duplicates).
    pub fn available(user_dir: Option<&Path>) -> Vec<String> {
        let mut names: Vec<String> = BUILTIN_NAMES.iter().map(|s| s.to_string()).collect();
        if let Some(entries) = user_dir.and_then(|d| std::fs::read_dir(d).ok()) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "toml") {
                    continue;
                }
                let stem = path.file_stem().and_then(|s| s.to_str());
                if let Some(stem) = stem.filter(|s| valid_name(s)) {
                    if !names.iter().any(|n| n == stem) {
                        names.push(stem.to_string());
                    }
                }
            }
        }
        names[BUILTIN_NAMES.len()..].sort();
        names
    }

    /// Loads a theme by name: `dark` as the base, then the built-in theme of that name, then
    /// `user_dir/NAME.toml` if it exists. Roles a file leaves out keep the earlier style.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
        let mut theme = Theme {
            name: name.to_string(),
            styles: vec![Style::default(); Role::ALL.len()],
        };
        theme.apply(BUILTIN[0].1, "embedded themes/dark.toml")?;
        let builtin = BUILTIN.iter().find(|(n, _)| *n == name);
        if let Some((n, text)) = builtin.filter(|(n, _)| *n != "dark") {
            theme.apply(text, &format!("embedded themes/{n}.toml"))?;
        }
        let user_file = user_dir
            .filter(|_| valid_name(name))
            .map(|d| d.join(format!("{name}.toml")))
            .filter(|p| p.is_file());
        match (user_file, builtin) {
            (Some(path), _) => {
                let file = path.display().to_string();
                let text = std::fs::read_to_string(&path).map_err(|e| ThemeError::Io {
                    file: file.clone(),
                    message: e.to_string(),
                })?;
                theme.apply(&text, &file)?;
            }
            (None, Some(_)) => {}
            (None, None) => {
                return Err(ThemeError::Unknown {
                    name: name.to_string(),
                    available: Theme::available(user_dir),
                })
            }
        }
        Ok(theme)
    }

    /// No colours at all, only modifiers: for `NO_COLOR` and monochrome terminals.
    pub fn monochrome() -> Theme {
        let mut styles = vec![Style::default(); Role::ALL.len()];
        let bold = Modifier::BOLD;
        let rev = Modifier::REVERSED;
        let under = Modifier::UNDERLINED;
        for (role, m) in [
            (Role::Title, bold),
            (Role::Header, bold | under),
            (Role::Selected, rev),
            (Role::TabActive, rev | bold),
            (Role::Critical, bold),
            (Role::Stale, bold | under),
            (Role::Error, bold),
            (Role::Demo, rev | bold),
            (Role::Banner, rev | bold),
            (Role::Destructive, rev | bold),
            (Role::Command, bold),
            (Role::Fact, bold),
            (Role::BadgeNew, rev),
            (Role::BadgeSurge, rev),
            (Role::Link, under),
            (Role::KeyHint, bold),
            (Role::ChartAnomaly, bold),
        ] {
            if let Some(slot) = styles.get_mut(role.index()) {
                *slot = Style::default().add_modifier(m);
            }
        }
        Theme {
            name: "monochrome".to_string(),
            styles,
        }
    }

    pub fn style(&self, role: Role) -> Style {
        self.styles.get(role.index()).copied().unwrap_or_default()
    }

    /// Parses one theme file and applies the roles it sets.
    fn apply(&mut self, text: &str, file: &str) -> Result<(), ThemeError> {
        let parsed: ThemeFile = toml::from_str(text).map_err(|e| ThemeError::Invalid {
            file: file.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        for (key, spec) in parsed.roles {
            let Some(role) = Role::from_name(&key) else {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
                return Err(ThemeError::BadValue {
                    file: file.to_string(),
                    key: format!("roles.{key}"),
                    message: format!("unknown role; known roles: {}", known.join(", ")),
                });
            };
            let style = spec.to_style(&key, file)?;
            if let Some(slot) = self.styles.get_mut(role.index()) {
                *slot = style;
            }
        }
        Ok(())
    }
}

impl RoleSpec {
    fn to_style(&self, key: &str, file: &str) -> Result<Style, ThemeError> {
        let colour = |field: &str, value: &Option<String>| -> Result<Option<Color>, ThemeError> {
            match value {
                None => Ok(None),
                Some(v) => parse_colour(v)
                    .map(Some)
                    .ok_or_else(|| ThemeError::BadValue {
                        file: file.to_string(),
                        key: format!("roles.{key}.{field}"),
                        message: format!(
                        "invalid colour {v:?} (use \"#rrggbb\", a name such as \"red\", or 0-255)"
                    ),
                    }),
            }
        };
        let mut style = Style::default();
        if let Some(c) = colour("fg", &self.fg)? {
            style = style.fg(c);
        }
        if let Some(c) = colour("bg", &self.bg)? {
            style = style.bg(c);
        }
        for (on, m) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reverse, Modifier::REVERSED),
        ] {
            if on {
                style = style.add_modifier(m);
            }
        }
        Ok(style)
    }
}

fn parse_colour(value: &str) -> Option<Color> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if let Some(hex) = v.strip_prefix('#') {
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
    }
    Color::from_str(v).ok()
}

/// A theme name that is safe to turn into a file name.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_set_every_role() {
        for (name, text) in BUILTIN {
            let parsed: ThemeFile = toml::from_str(text).expect("builtin parses");
            for role in Role::ALL {
                assert!(parsed.roles.contains_key(role.name()), "{name}: {role:?}");
            }
            Theme::load(name, None).expect("builtin loads");
        }
        assert_eq!(Role::ALL.len(), Role::ChartForecast as usize + 1);
    }

    #[test]
    fn colours_and_keys_are_checked() {
        assert_eq!(parse_colour("#ff0000"), Some(Color::Rgb(255, 0, 0)));
        assert_eq!(parse_colour("red"), Some(Color::Red));
        assert_eq!(parse_colour("#ff00"), None);
        assert_eq!(parse_colour("reddish"), None);
        let mut t = Theme::monochrome();
        let err = t.apply("[roles.ok]\nfg = \"reddish\"\n", "x.toml");
        let err = err.expect_err("bad colour").to_string();
        assert!(
            err.contains("x.toml") && err.contains("roles.ok.fg"),
            "{err}"
        );
        let err = t.apply("[roles.nope]\nfg = \"red\"\n", "x.toml");
        assert!(err
            .expect_err("bad role")
            .to_string()
            .contains("roles.nope"));
        let err = t.apply("[roles.ok]\nblink = true\n", "x.toml");
        assert!(err.expect_err("bad field").to_string().contains("blink"));
    }
}
