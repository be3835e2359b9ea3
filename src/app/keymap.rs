//! Keys are data: a closed `Action` enum bound per layer from TOML entries `{ on, run, desc }`.
//! The embedded `assets/keymap.toml` is the default; a user file can add or override entries.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// Everything a key can do. Closed: a keymap entry naming anything else is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    NextView,
    PrevView,
    Down,
    Up,
    Top,
    Bottom,
    Back,
    Open,
    Filter,
    OpenRunbook,
    NextSeries,
    PrevSeries,
    Approve,
    Skip,
    Reject,
    Note,
    Rollback,
    ToggleWrite,
    Silence,
    ExpireSilence,
    Export,
    /// Acknowledge the incident's alerts until each resolves.
    Ack,
    ToggleFollow,
    /// Propose a higher anomaly sensitivity for the charted series (shows a backtest).
    MoreSensitive,
    /// Propose a lower anomaly sensitivity for the charted series (shows a backtest).
    LessSensitive,
    /// Mark an incident, then merge it with another (stored as a rule).
    Merge,
    /// Split an alert out of the open incident (stored as a rule).
    Split,
}

/// Where a binding applies. `Global` bindings apply everywhere unless a layer overrides the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Global,
    Incidents,
    Detail,
    Stepper,
    Log,
    Patterns,
}

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::Global,
        Layer::Incidents,
        Layer::Detail,
        Layer::Stepper,
        Layer::Log,
        Layer::Patterns,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Layer::Global => "Everywhere",
            Layer::Incidents => "Incident list",
            Layer::Detail => "Incident detail",
            Layer::Stepper => "Runbook stepper",
            Layer::Log => "Remediation log",
            Layer::Patterns => "Log patterns",
        }
    }
}

/// A key as written in the keymap file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeySpec {
    pub code: KeyCodeSpec,
    pub ctrl: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeSpec {
    Char(char),
    Up,
    Down,
    Left,
    Right,
    Enter,
    Esc,
    Tab,
    BackTab,
    Home,
    End,
    PageUp,
    PageDown,
    Backspace,
}

impl KeySpec {
    /// Parses `j`, `G`, `?`, `enter`, `ctrl-c`, `space` ...
    pub fn parse(text: &str) -> Result<KeySpec, String> {
        let (ctrl, rest) = match text.strip_prefix("ctrl-") {
            Some(rest) if !rest.is_empty() => (true, rest),
            _ => (false, text),
        };
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeSpec::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "up" => KeyCodeSpec::Up,
                "down" => KeyCodeSpec::Down,
                "left" => KeyCodeSpec::Left,
                "right" => KeyCodeSpec::Right,
                "enter" => KeyCodeSpec::Enter,
                "esc" => KeyCodeSpec::Esc,
                "tab" => KeyCodeSpec::Tab,
                "backtab" => KeyCodeSpec::BackTab,
                "home" => KeyCodeSpec::Home,
                "end" => KeyCodeSpec::End,
                "pageup" => KeyCodeSpec::PageUp,
                "pagedown" => KeyCodeSpec::PageDown,
                "backspace" => KeyCodeSpec::Backspace,
                "space" => KeyCodeSpec::Char(' '),
                _ => return Err(format!("unknown key {text:?}")),
            },
        };
        Ok(KeySpec { code, ctrl })
    }

    /// The key as a terminal event would deliver it, if it maps to one.
    pub fn from_event(event: &KeyEvent) -> Option<KeySpec> {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let code = match event.code {
            KeyCode::Char(c) => KeyCodeSpec::Char(c),
            KeyCode::Up => KeyCodeSpec::Up,
            KeyCode::Down => KeyCodeSpec::Down,
            KeyCode::Left => KeyCodeSpec::Left,
            KeyCode::Right => KeyCodeSpec::Right,
            KeyCode::Enter => KeyCodeSpec::Enter,
            KeyCode::Esc => KeyCodeSpec::Esc,
            KeyCode::Tab => KeyCodeSpec::Tab,
            KeyCode::BackTab => KeyCodeSpec::BackTab,
            KeyCode::Home => KeyCodeSpec::Home,
            KeyCode::End => KeyCodeSpec::End,
            KeyCode::PageUp => KeyCodeSpec::PageUp,
            KeyCode::PageDown => KeyCodeSpec::PageDown,
            KeyCode::Backspace => KeyCodeSpec::Backspace,
            _ => return None,
        };
        Some(KeySpec { code, ctrl })
    }

    /// How the help overlay shows the key.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCodeSpec::Char(' ') => "space".to_string(),
            KeyCodeSpec::Char(c) => c.to_string(),
            KeyCodeSpec::Up => "↑".into(),
            KeyCodeSpec::Down => "↓".into(),
            KeyCodeSpec::Left => "←".into(),
            KeyCodeSpec::Right => "→".into(),
            KeyCodeSpec::Enter => "Enter".into(),
            KeyCodeSpec::Esc => "Esc".into(),
            KeyCodeSpec::Tab => "Tab".into(),
            KeyCodeSpec::BackTab => "S-Tab".into(),
            KeyCodeSpec::Home => "Home".into(),
            KeyCodeSpec::End => "End".into(),
            KeyCodeSpec::PageUp => "PgUp".into(),
            KeyCodeSpec::PageDown => "PgDn".into(),
            KeyCodeSpec::Backspace => "Bksp".into(),
        };
        if self.ctrl {
            format!("C-{base}")
        } else {
            base
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub key: KeySpec,
    pub action: Action,
    pub desc: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    on: String,
    run: Action,
    #[serde(default)]
    desc: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Keymap {
    layers: BTreeMap<Layer, Vec<Binding>>,
}

/// The embedded default keymap text.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

impl Keymap {
    /// The embedded default. A unit test proves it parses.
    pub fn embedded() -> Keymap {
        Keymap::parse(DEFAULT_KEYMAP, "embedded keymap.toml")
            .expect("the embedded keymap is checked by a unit test")
    }

    /// Parses a keymap file; errors name the origin, the line where possible and the bad value.
    pub fn parse(text: &str, origin: &str) -> Result<Keymap, String> {
        let raw: BTreeMap<Layer, Vec<RawEntry>> =
            toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        let mut layers: BTreeMap<Layer, Vec<Binding>> = BTreeMap::new();
        for (layer, entries) in raw {
            for entry in entries {
                let key = KeySpec::parse(&entry.on)
                    .map_err(|e| format!("{origin}: in [[{layer:?}]]: {e}"))?;
                layers.entry(layer).or_default().push(Binding {
                    key,
                    action: entry.run,
                    desc: entry.desc,
                });
            }
        }
        Ok(Keymap { layers })
    }

    /// Adds the overlay's bindings; a key bound again in the same layer takes the new action.
    pub fn overlay(&mut self, other: Keymap) {
        for (layer, bindings) in other.layers {
            let list = self.layers.entry(layer).or_default();
            for b in bindings {
                list.retain(|old| old.key != b.key);
                list.push(b);
            }
        }
    }

    /// The action for `key` in `layer`, falling back to the global layer.
    pub fn lookup(&self, layer: Layer, key: &KeySpec) -> Option<Action> {
        let find = |l: Layer| {
            self.layers
                .get(&l)
                .and_then(|bs| bs.iter().find(|b| b.key == *key))
                .map(|b| b.action)
        };
        find(layer).or_else(|| find(Layer::Global))
    }

    pub fn bindings(&self, layer: Layer) -> &[Binding] {
        self.layers.get(&layer).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The first key bound to `action` in `layer` or globally, for hints.
    pub fn key_for(&self, layer: Layer, action: Action) -> Option<String> {
        [layer, Layer::Global].iter().find_map(|l| {
            self.bindings(*l)
                .iter()
                .find(|b| b.action == action)
                .map(|b| b.key.label())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_keymap_parses_and_binds_the_documented_keys() {
        let km = Keymap::embedded();
        let k = |s: &str| KeySpec::parse(s).expect("valid key");
        assert_eq!(km.lookup(Layer::Incidents, &k("j")), Some(Action::Down));
        assert_eq!(km.lookup(Layer::Incidents, &k("down")), Some(Action::Down));
        assert_eq!(km.lookup(Layer::Incidents, &k("G")), Some(Action::Bottom));
        assert_eq!(km.lookup(Layer::Incidents, &k("enter")), Some(Action::Open));
        assert_eq!(km.lookup(Layer::Stepper, &k("y")), Some(Action::Approve));
        assert_eq!(km.lookup(Layer::Incidents, &k("y")), None);
        assert_eq!(km.lookup(Layer::Log, &k("q")), Some(Action::Quit));
    }

    #[test]
    fn user_overlay_overrides_and_bad_files_name_the_problem() {
        let mut km = Keymap::embedded();
        let user = Keymap::parse(
            "[[global]]\non = \"x\"\nrun = \"quit\"\ndesc = \"Quit\"\n",
            "user.toml",
        )
        .expect("valid");
        km.overlay(user);
        let x = KeySpec::parse("x").expect("valid key");
        assert_eq!(km.lookup(Layer::Detail, &x), Some(Action::Quit));
        let err = Keymap::parse("[[global]]\non = \"x\"\nrun = \"explode\"\n", "user.toml")
            .expect_err("unknown action");
        assert!(
            err.contains("user.toml") && err.contains("explode"),
            "{err}"
        );
        let err = Keymap::parse("[[global]]\non = \"hyper-x\"\nrun = \"quit\"\n", "k.toml")
            .expect_err("unknown key");
        assert!(err.contains("hyper-x"), "{err}");
    }
}
