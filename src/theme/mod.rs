//! Named styles: the one `Theme` value every draw reads. Colours live in the theme files of
//! `themes/` (embedded, and overridable from the config directory) and nowhere in `ui` or
//! `markdown`. A theme's `id` is part of every rendered-line cache key.

pub mod color;
pub mod file;

pub use color::ColorDepth;
pub use file::{ThemeError, ThemeSet};

use ratatui::style::Style;
use std::sync::{Arc, LazyLock};

/// A struct of styles by role, with the roles' names (for theme files) generated from it.
macro_rules! roles {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[doc = $doc:literal])* $field:ident, )*
        }
        $(extra { $( $(#[doc = $xdoc:literal])* $xfield:ident : $xty:ty, )* })?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: Style, )*
            $($( $(#[doc = $xdoc])* pub $xfield: $xty, )*)?
        }

        impl $name {
            /// Every role, as theme files name it.
            pub const ROLES: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The style of a role named in a theme file.
            pub fn role_mut(&mut self, role: &str) -> Option<&mut Style> {
                match role {
                    $( stringify!($field) => Some(&mut self.$field), )*
                    _ => None,
                }
            }

            /// Every style changed by `f`.
            pub fn map(&mut self, f: impl Fn(Style) -> Style) {
                $( self.$field = f(self.$field); )*
            }
        }

        impl Roles for $name {
            const ROLES: &'static [&'static str] = $name::ROLES;
            fn role_mut(&mut self, role: &str) -> Option<&mut Style> {
                $name::role_mut(self, role)
            }
        }
    };
}

/// A struct of styles by role, as theme files name them.
pub trait Roles {
    /// Every role.
    const ROLES: &'static [&'static str];
    /// The style of a role.
    fn role_mut(&mut self, role: &str) -> Option<&mut Style>;
}

roles! {
    /// Styles of the workbench's chrome, by role.
    pub struct UiStyles {
        /// Plain text.
        text,
        /// Secondary text: hints, placeholders, separators.
        dim,
        /// Titles and borders of the composer, overlays and panels; the prompt marker.
        accent,
        /// The focused pane's border and title.
        focus,
        /// An unfocused pane's border.
        border,
        /// Success: done, healthy, valid, a toggle that is on.
        ok,
        /// Attention: waiting, retries, notes, partial answers.
        warn,
        /// Failure: errors, invalid fields, open breakers.
        error,
        /// Field labels and key names in help.
        label,
        /// Privacy and format badges in pane titles.
        badge,
        /// The selected row of a list.
        selection,
        /// Emphasised chips: the composer's target, the "more below" marker.
        chip,
        /// The source's name in the status bar.
        source,
        /// Request bodies and other quoted machine text.
        code,
        /// JSON keys in editors.
        json_key,
        /// JSON strings.
        json_string,
        /// JSON numbers.
        json_number,
        /// JSON `true`, `false`, `null`.
        json_literal,
    }
}

roles! {
    /// Styles of rendered markdown.
    pub struct MarkdownStyles {
        /// `#` headings.
        heading1,
        /// `##` headings.
        heading2,
        /// `###` headings.
        heading3,
        /// `####` headings and deeper.
        heading4,
        /// `*emphasis*`.
        emphasis,
        /// `**strong**`.
        strong,
        /// `~~strikethrough~~`.
        strike,
        /// `` `inline code` ``.
        inline_code,
        /// Link text.
        link,
        /// The ` (url)` after link text.
        link_url,
        /// `[image: alt]` placeholders.
        image,
        /// The bar in front of block quotes.
        quote_bar,
        /// Bullets and numbers of list items.
        list_marker,
        /// `[x]` of a done task.
        task_done,
        /// `[ ]` of an open task.
        task_open,
        /// Horizontal rules.
        rule,
        /// Table borders and separators.
        table_border,
        /// Table header cells (patched over their inline styles).
        table_header,
        /// The `── lang [n] ──` line above a code block.
        code_header,
        /// The language name in the code header.
        code_lang,
        /// Code without a known language.
        code_plain,
        /// Raw HTML, shown as is.
        html,
    }
    extra {
        /// The syntect theme code is highlighted with.
        syntax: String,
        /// The colours code highlighting is brought down to (the terminal's depth, or 16 for a
        /// theme that keeps to the terminal's own palette).
        depth: ColorDepth,
        /// Identity of these styles (set by `Theme::new`): part of every rendered-line cache key.
        id: u64,
    }
}

impl MarkdownStyles {
    /// The style of a heading of `level` (1-based; deeper levels use the fourth).
    pub fn heading(&self, level: usize) -> Style {
        match level {
            0 | 1 => self.heading1,
            2 => self.heading2,
            3 => self.heading3,
            _ => self.heading4,
        }
    }
}

/// Which background a theme is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// Dark terminal backgrounds.
    Dark,
    /// Light ones.
    Light,
}

/// Every named style.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Its name (the file's stem).
    pub name: String,
    /// The background it is made for.
    pub background: Background,
    /// Identity of all its styles: part of every cache of styled lines.
    pub id: u64,
    /// The chrome.
    pub ui: UiStyles,
    /// Rendered answers.
    pub md: Arc<MarkdownStyles>,
    /// The styles for 16 colours (and none), where the file gives some (`"#9aa0aa | dim"`):
    /// a grey that reads well in 24-bit may have no good 16-colour neighbour.
    pub low: Option<Arc<(UiStyles, MarkdownStyles)>>,
}

impl Theme {
    /// A theme of these styles; the markdown styles get their identity from what they hold.
    pub fn new(name: &str, ui: UiStyles, md: MarkdownStyles) -> Self {
        Self::with_background(name, Background::Dark, ui, md)
    }

    /// A theme for `background`.
    pub fn with_background(
        name: &str,
        background: Background,
        ui: UiStyles,
        mut md: MarkdownStyles,
    ) -> Self {
        md.id = 0;
        md.id = fnv(format!("{md:?}").as_bytes());
        let id = fnv(format!("{name}{ui:?}{}", md.id).as_bytes());
        Theme {
            name: name.to_string(),
            background,
            id,
            ui,
            md: Arc::new(md),
            low: None,
        }
    }

    /// The built-in dark theme (for dark terminal backgrounds): `themes/dark.toml`.
    pub fn dark() -> Self {
        DEFAULT.clone()
    }

    /// This theme as a terminal of `depth` can show it (a new identity when anything changed).
    pub fn at_depth(&self, depth: ColorDepth) -> Self {
        let (mut ui, mut md) = match (&self.low, depth) {
            (Some(low), ColorDepth::Ansi16 | ColorDepth::None) => {
                let (ui, md) = &**low;
                let mut md = md.clone();
                md.syntax = self.md.syntax.clone();
                md.depth = self.md.depth;
                (ui.clone(), md)
            }
            _ => (self.ui.clone(), (*self.md).clone()),
        };
        ui.map(|s| depth.style(s));
        md.map(|s| depth.style(s));
        // Code is brought down too; a theme already kept to 16 colours stays there.
        md.depth = match (md.depth, depth) {
            (_, ColorDepth::None) => ColorDepth::None,
            (ColorDepth::Ansi16, _) => ColorDepth::Ansi16,
            (_, d) => d,
        };
        let mut t = Theme::with_background(&self.name, self.background, ui, md);
        if t.ui == self.ui && t.md.id == self.md.id {
            return self.clone();
        }
        t.low = self.low.clone();
        t
    }
}

/// The themes on offer and how the one shown is chosen: what `App` holds to draw and to switch.
#[derive(Debug, Clone)]
pub struct Look {
    /// Every theme (embedded and the user's).
    pub set: ThemeSet,
    /// The name asked for (`auto`: dark or light by the terminal's background).
    pub asked: String,
    /// The colours the terminal shows.
    pub depth: ColorDepth,
    /// The terminal's background, once known (`COLORFGBG`, or its answer to OSC 11).
    pub background: Option<Background>,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            set: ThemeSet::builtin(),
            asked: "dark".into(),
            depth: ColorDepth::TrueColor,
            background: None,
        }
    }
}

impl Look {
    /// The look asked for: `name` (`--theme`, else the config's) among the embedded themes and
    /// those of `dir`, at `depth` (`--colors` or the config's, else what the environment
    /// says). An unknown name is an error; broken theme files are warnings.
    pub fn choose(
        name: &str,
        depth: Option<ColorDepth>,
        dir: Option<&std::path::Path>,
    ) -> Result<(Look, Vec<ThemeError>), String> {
        let (set, warnings) = ThemeSet::load(dir);
        let background = std::env::var("COLORFGBG")
            .ok()
            .and_then(|v| file::background_of_colorfgbg(&v));
        let mut name = name.to_string();
        if set.choose(&name, background).is_err() {
            // A theme file that exists but is broken: its errors are said, and the default is
            // drawn instead.
            let broken = warnings.iter().any(|w| is_file_of(&w.origin, &name));
            if !broken {
                set.choose(&name, background)?;
            }
            name = "auto".into();
        }
        Ok((
            Look {
                set,
                asked: name,
                depth: depth.unwrap_or_else(ColorDepth::from_env),
                background,
            },
            warnings,
        ))
    }

    /// The theme to draw with.
    pub fn theme(&self) -> Theme {
        self.set
            .choose(&self.asked, self.background)
            .cloned()
            .unwrap_or_default()
            .at_depth(self.depth)
    }

    /// Whether the theme follows the terminal's background.
    pub fn auto(&self) -> bool {
        self.asked == "auto"
    }
}

/// Whether `origin` (a path) is the theme file of `name`.
pub fn is_file_of(origin: &str, name: &str) -> bool {
    std::path::Path::new(origin)
        .file_stem()
        .is_some_and(|s| s.to_string_lossy() == name)
}

impl Default for Theme {
    fn default() -> Self {
        DEFAULT.clone()
    }
}

static DEFAULT: LazyLock<Theme> =
    LazyLock::new(|| file::builtin("dark").expect("themes/dark.toml is embedded and tested"));

/// The default theme's markdown styles, shared.
pub fn default_markdown() -> Arc<MarkdownStyles> {
    DEFAULT.md.clone()
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Color;

    #[test]
    fn the_markdown_identity_follows_the_styles() {
        let a = Theme::dark();
        assert_eq!(a.md.id, Theme::dark().md.id, "stable");
        let mut md = (*a.md).clone();
        md.inline_code = Style::new().fg(Color::Red);
        let b = Theme::new("other", a.ui.clone(), md);
        assert_ne!(a.md.id, b.md.id);
    }

    #[test]
    fn a_broken_theme_asked_for_is_reported_and_the_default_drawn() {
        let dir = std::env::temp_dir().join(format!("sy-look-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (_, dark) = file::BUILTIN[0];
        std::fs::write(
            dir.join("mine.toml"),
            dark.replace("accent = \"#5fd7d7\"", "accent = \"#zz\""),
        )
        .unwrap();
        let (look, warnings) =
            Look::choose("mine", Some(ColorDepth::TrueColor), Some(&dir)).unwrap();
        assert_eq!(look.asked, "auto");
        assert_eq!(look.theme().name, "dark");
        assert!(
            warnings
                .iter()
                .any(|w| w.field.as_deref() == Some("ui.accent") && w.line.is_some()),
            "{warnings:?}"
        );
        // A name with no file at all is refused.
        assert!(
            Look::choose("nothing", None, Some(&dir))
                .unwrap_err()
                .contains("no theme named")
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_lower_depth_is_a_new_identity_and_code_follows_it() {
        let a = Theme::dark();
        let b = a.at_depth(ColorDepth::Ansi16);
        assert_ne!(a.id, b.id);
        assert_eq!(b.md.depth, ColorDepth::Ansi16);
        let none = a.at_depth(ColorDepth::None);
        assert_eq!(none.ui.accent.fg, None);
        assert_eq!(a.at_depth(ColorDepth::TrueColor), a, "nothing to change");
    }
}
