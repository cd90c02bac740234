//! Theme files: one TOML file per theme naming every role's style. The shipped ones are
//! `themes/*.toml`, embedded; a file of the same name in the config directory's `themes/`
//! replaces one, a new name adds one. A broken file is reported with line and field and left
//! out (the embedded theme of that name, or the default, is used instead).

use super::{Background, ColorDepth, MarkdownStyles, Roles, Theme, UiStyles};
use ratatui::style::{Color, Modifier, Style};
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

/// The themes shipped in the binary, by name, in the order F12 cycles through them.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("terminal", include_str!("../../themes/terminal.toml")),
];

/// Most theme files read from the config directory.
const MAX_USER_THEMES: usize = 64;

/// A theme file that could not be used, or one of its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeError {
    /// The file (or `themes/NAME.toml (built in)`).
    pub origin: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The field at fault (`ui.dim`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ThemeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "theme error in {}", self.origin)?;
        if let Some(l) = self.line {
            write!(f, ", line {l}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl ThemeError {
    /// The error with the file's name only (for the status bar).
    pub fn short(&self) -> String {
        let file = std::path::Path::new(&self.origin)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.origin.clone());
        let mut out = file;
        if let Some(l) = self.line {
            out.push_str(&format!(" line {l}"));
        }
        if let Some(f) = &self.field {
            out.push_str(&format!(" {f}"));
        }
        format!("{out}: {}", self.message)
    }
}

/// An embedded theme by name.
pub fn builtin(name: &str) -> Result<Theme, Vec<ThemeError>> {
    let (n, text) = BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| vec![error(name, None, None, "no such built-in theme".into())])?;
    parse(n, text, &format!("themes/{n}.toml (built in)"))
}

fn error(origin: &str, line: Option<usize>, field: Option<String>, message: String) -> ThemeError {
    ThemeError {
        origin: origin.to_string(),
        line,
        field,
        message,
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses one theme file's text. Every role must be given, and nothing else: every problem is
/// reported, each with its line and field.
pub fn parse(name: &str, text: &str, origin: &str) -> Result<Theme, Vec<ThemeError>> {
    let doc = DeTable::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        vec![error(origin, line, None, e.message().trim().to_string())]
    })?;
    let mut errors = Vec::new();
    let mut syntax = None;
    let mut background = None;
    let mut palette16 = false;
    let mut ui: Option<(UiStyles, UiStyles)> = None;
    let mut md: Option<(MarkdownStyles, MarkdownStyles)> = None;
    let mut any_low = false;
    const TOP: &[&str] = &["name", "syntax", "background", "palette", "ui", "markdown"];
    for (key, value) in doc.get_ref() {
        let k: &str = key.get_ref();
        let line = Some(line_of(text, key.span().start));
        // An error at this key.
        let bad = |m: String| error(origin, line, Some(k.into()), m);
        let string = || match value.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            other => Err(bad(format!("must be a string, not a {}", other.type_str()))),
        };
        match k {
            "name" => {
                if let Err(e) = string() {
                    errors.push(e);
                }
            }
            "syntax" => match string() {
                Ok(s) if crate::markdown::syntax_themes().contains(&s.as_str()) => syntax = Some(s),
                Ok(s) => errors.push(bad(format!(
                    "`{s}` is not a syntax theme; there are {}",
                    crate::markdown::syntax_themes().join(", ")
                ))),
                Err(e) => errors.push(e),
            },
            "background" => match string().as_deref() {
                Ok("dark") => background = Some(Background::Dark),
                Ok("light") => background = Some(Background::Light),
                Ok(other) => errors.push(bad(format!("`{other}` is not `dark` or `light`"))),
                Err(e) => errors.push(e.clone()),
            },
            "palette" => match string().as_deref() {
                Ok("16") => palette16 = true,
                Ok("full") => {}
                Ok(other) => errors.push(bad(format!(
                    "`{other}` is not `16` (the terminal's own colours) or `full`"
                ))),
                Err(e) => errors.push(e.clone()),
            },
            "ui" | "markdown" => {
                let DeValue::Table(t) = value.get_ref() else {
                    errors.push(bad(format!("must be a table ([{k}])")));
                    continue;
                };
                let at = || Ctx {
                    text,
                    origin,
                    table: k,
                    t,
                    line,
                };
                if k == "ui" {
                    let (s, l, low) = read_table(blank_ui(), at(), &mut errors);
                    ui = Some((s, l));
                    any_low |= low;
                } else {
                    let (s, l, low) = read_table(blank_markdown(), at(), &mut errors);
                    md = Some((s, l));
                    any_low |= low;
                }
            }
            other => errors.push(bad(format!(
                "unknown key{}",
                crate::spelling::suggestion(other, TOP.iter().copied())
            ))),
        }
    }
    for (key, missing) in [
        ("syntax", syntax.is_none()),
        ("background", background.is_none()),
        ("ui", ui.is_none()),
        ("markdown", md.is_none()),
    ] {
        if missing && !errors.iter().any(|e| e.field.as_deref() == Some(key)) {
            errors.push(error(origin, None, Some(key.into()), "is missing".into()));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some((ui, ui_low)), Some((mut md, md_low)), Some(syntax), Some(background)) =
        (ui, md, syntax, background)
    else {
        unreachable!("every missing part is an error above")
    };
    md.syntax = syntax;
    if palette16 {
        md.depth = ColorDepth::Ansi16;
    }
    let mut theme = Theme::with_background(name, background, ui, md);
    if any_low {
        theme.low = Some(std::sync::Arc::new((ui_low, md_low)));
    }
    Ok(theme)
}

/// Where a table of roles is in its file.
struct Ctx<'a, 't> {
    text: &'a str,
    origin: &'a str,
    table: &'a str,
    t: &'a DeTable<'t>,
    line: Option<usize>,
}

/// One table of roles read into a full and a 16-colour set of styles (starting from `blank`),
/// and whether any role gave a 16-colour form.
fn read_table<T: Roles + Clone>(
    blank: T,
    c: Ctx<'_, '_>,
    errors: &mut Vec<ThemeError>,
) -> (T, T, bool) {
    let (mut full, mut low) = (blank.clone(), blank);
    let mut any = false;
    read_roles(
        c.text,
        c.origin,
        c.table,
        c.t,
        c.line,
        T::ROLES,
        errors,
        |r, st, lo| {
            if let (Some(x), Some(y)) = (full.role_mut(r), low.role_mut(r)) {
                (*x, *y) = (st, lo.unwrap_or(st));
                any |= lo.is_some();
            }
        },
    );
    (full, low, any)
}

/// Reads the roles of one table into the styles `slot` gives; every role is required.
#[allow(clippy::too_many_arguments)]
fn read_roles(
    text: &str,
    origin: &str,
    table: &str,
    t: &DeTable<'_>,
    header_line: Option<usize>,
    roles: &[&str],
    errors: &mut Vec<ThemeError>,
    mut set: impl FnMut(&str, Style, Option<Style>),
) {
    let mut seen = Vec::new();
    for (key, value) in t {
        let k: &str = key.get_ref();
        let line = Some(line_of(text, key.span().start));
        let field = Some(format!("{table}.{k}"));
        if !roles.contains(&k) {
            errors.push(error(
                origin,
                line,
                field,
                format!(
                    "unknown role{}; the roles of [{table}] are {}",
                    crate::spelling::suggestion(k, roles.iter().copied()),
                    roles.join(", ")
                ),
            ));
            continue;
        }
        seen.push(k.to_string());
        match value.get_ref() {
            DeValue::String(s) => {
                // `style | style for 16 colours`.
                let (full, low) = match s.split_once('|') {
                    Some((a, b)) => (a, Some(b)),
                    None => (s.as_ref(), None),
                };
                match (parse_style(full), low.map(parse_style).transpose()) {
                    (Ok(st), Ok(lo)) => set(k, st, lo),
                    (Err(m), _) | (_, Err(m)) => errors.push(error(origin, line, field, m)),
                }
            }
            other => errors.push(error(
                origin,
                line,
                field,
                format!(
                    "must be a style string such as \"cyan bold\", not a {}",
                    other.type_str()
                ),
            )),
        }
    }
    for role in roles {
        if !seen.iter().any(|s| s == role) {
            errors.push(error(
                origin,
                header_line,
                Some(format!("{table}.{role}")),
                "is not defined (every role needs a style)".into(),
            ));
        }
    }
}

fn blank_ui() -> UiStyles {
    let s = Style::new();
    UiStyles {
        text: s,
        dim: s,
        accent: s,
        focus: s,
        border: s,
        ok: s,
        warn: s,
        error: s,
        label: s,
        badge: s,
        selection: s,
        chip: s,
        source: s,
        code: s,
        json_key: s,
        json_string: s,
        json_number: s,
        json_literal: s,
    }
}

fn blank_markdown() -> MarkdownStyles {
    let s = Style::new();
    MarkdownStyles {
        heading1: s,
        heading2: s,
        heading3: s,
        heading4: s,
        emphasis: s,
        strong: s,
        strike: s,
        inline_code: s,
        link: s,
        link_url: s,
        image: s,
        quote_bar: s,
        list_marker: s,
        task_done: s,
        task_open: s,
        rule: s,
        table_border: s,
        table_header: s,
        code_header: s,
        code_lang: s,
        code_plain: s,
        html: s,
        syntax: String::new(),
        depth: ColorDepth::TrueColor,
        id: 0,
    }
}

/// The colour names a style string takes (`gray` is the terminal's colour 7, `darkgray` 8).
const COLORS: &[(&str, Color)] = &[
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
    ("default", Color::Reset),
];

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed", Modifier::CROSSED_OUT),
];

/// One colour: a name, `#rrggbb`, or a palette index 0–255.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let lower = s.to_ascii_lowercase();
    if let Some((_, c)) = COLORS.iter().find(|(n, _)| *n == lower) {
        return Ok(*c);
    }
    if let Some(hex) = lower.strip_prefix('#') {
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let v = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
            return Ok(Color::Rgb(v(0), v(2), v(4)));
        }
        return Err(format!("`{s}` is not a #rrggbb colour"));
    }
    if let Ok(i) = lower.parse::<u16>() {
        return u8::try_from(i)
            .map(Color::Indexed)
            .map_err(|_| format!("`{s}` is not a colour: a palette index is 0 to 255"));
    }
    Err(format!(
        "`{s}` is not a colour{}: use a name ({}), #rrggbb or 0–255",
        crate::spelling::suggestion(&lower, COLORS.iter().map(|(n, _)| *n)),
        COLORS
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// A style: `FG`, `FG on BG` or `on BG`, and any modifiers (`bold`, `dim`, `italic`,
/// `underlined`, `reversed`, `crossed`), in any order; `default` is the terminal's colour. (In
/// a theme file, `STYLE | STYLE16` gives the style to use at 16 colours or none.)
pub fn parse_style(s: &str) -> Result<Style, String> {
    let mut style = Style::new();
    let mut words = s.split_whitespace().peekable();
    let mut fg_set = false;
    while let Some(w) = words.next() {
        let lower = w.to_ascii_lowercase();
        if let Some((_, m)) = MODIFIERS.iter().find(|(n, _)| *n == lower) {
            style = style.add_modifier(*m);
        } else if lower == "on" {
            let Some(bg) = words.next() else {
                return Err(format!("`{s}`: `on` needs a background colour after it"));
            };
            style = style.bg(parse_color(bg)?);
        } else if !fg_set {
            let c = parse_color(w).map_err(|e| {
                if MODIFIERS
                    .iter()
                    .all(|(n, _)| crate::spelling::nearest(&lower, [*n]).is_none())
                {
                    e
                } else {
                    format!(
                        "`{w}` is neither a colour nor a modifier{}",
                        crate::spelling::suggestion(&lower, MODIFIERS.iter().map(|(n, _)| *n))
                    )
                }
            })?;
            if c != Color::Reset {
                style = style.fg(c);
            }
            fg_set = true;
        } else {
            return Err(format!(
                "`{s}`: `{w}` is a second foreground colour (a background follows `on`)"
            ));
        }
    }
    Ok(style)
}

/// The themes there are: the embedded ones, then the user's, by name.
#[derive(Debug, Clone)]
pub struct ThemeSet {
    themes: Vec<Theme>,
}

impl ThemeSet {
    /// The embedded themes only.
    pub fn builtin() -> Self {
        ThemeSet {
            themes: BUILTIN
                .iter()
                .filter_map(|(n, _)| builtin(n).ok())
                .collect(),
        }
    }

    /// The embedded themes with the `*.toml` files of `dir` over them (a file named like an
    /// embedded theme replaces it); broken files are reported and left out.
    pub fn load(dir: Option<&Path>) -> (Self, Vec<ThemeError>) {
        let mut set = Self::builtin();
        let mut errors = Vec::new();
        let Some(dir) = dir else {
            return (set, errors);
        };
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (set, errors),
            Err(e) => {
                errors.push(error(
                    &dir.display().to_string(),
                    None,
                    None,
                    format!("cannot list the themes: {e}"),
                ));
                return (set, errors);
            }
        };
        files.sort();
        if files.len() > MAX_USER_THEMES {
            errors.push(error(
                &dir.display().to_string(),
                None,
                None,
                format!(
                    "{} theme files; only the first {MAX_USER_THEMES} are read",
                    files.len()
                ),
            ));
            files.truncate(MAX_USER_THEMES);
        }
        for path in files {
            let origin = path.display().to_string();
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = match crate::small_file::read(&path, crate::small_file::MAX_BYTES) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(error(&origin, None, None, e.to_string()));
                    continue;
                }
            };
            match parse(&name, &text, &origin) {
                Ok(t) => match set.themes.iter_mut().find(|x| x.name == name) {
                    Some(slot) => *slot = t,
                    None => set.themes.push(t),
                },
                Err(e) => errors.extend(e),
            }
        }
        (set, errors)
    }

    /// The theme of this name.
    pub fn get(&self, name: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.name == name)
    }

    /// Every theme's name, in cycling order.
    pub fn names(&self) -> Vec<&str> {
        self.themes.iter().map(|t| t.name.as_str()).collect()
    }

    /// The theme after `name` (the first after the last).
    pub fn next_after(&self, name: &str) -> &Theme {
        let i = self
            .themes
            .iter()
            .position(|t| t.name == name)
            .map_or(0, |i| i + 1);
        &self.themes[i % self.themes.len()]
    }

    /// The theme a name asks for: `auto` is `dark` or `light` by the terminal's background;
    /// an unknown name is an error naming those there are.
    pub fn choose(&self, name: &str, background: Option<Background>) -> Result<&Theme, String> {
        let name = match name {
            "auto" => match background {
                Some(Background::Light) => "light",
                _ => "dark",
            },
            n => n,
        };
        self.get(name).ok_or_else(|| {
            format!(
                "no theme named `{name}`{}; there are {}",
                crate::spelling::suggestion(name, self.names()),
                self.names().join(", ")
            )
        })
    }
}

/// The terminal's background from its answer to OSC 11 (`rgb:RRRR/GGGG/BBBB`, 1–4 hex digits
/// per channel): light when its luminance is over half.
pub fn background_of_reply(reply: &str) -> Option<Background> {
    let rgb = reply.trim().strip_prefix("rgb:")?;
    let mut parts = rgb.split('/');
    let mut channel = || -> Option<f64> {
        let p = parts
            .next()?
            .trim_end_matches(|c: char| !c.is_ascii_hexdigit());
        if p.is_empty() || p.len() > 4 {
            return None;
        }
        let v = u32::from_str_radix(p, 16).ok()?;
        Some(f64::from(v) / f64::from((1u32 << (4 * p.len())) - 1))
    };
    let (r, g, b) = (channel()?, channel()?, channel()?);
    let luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    Some(if luma > 0.5 {
        Background::Light
    } else {
        Background::Dark
    })
}

/// The background `COLORFGBG` (`fg;bg`, set by rxvt and Konsole) names, if any.
pub fn background_of_colorfgbg(v: &str) -> Option<Background> {
    let bg: u8 = v.rsplit(';').next()?.trim().parse().ok()?;
    Some(if matches!(bg, 7 | 15) {
        Background::Light
    } else {
        Background::Dark
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_theme_parses_and_defines_every_role() {
        for (name, text) in BUILTIN {
            let t = parse(name, text, name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            // Each role is written out in the file (not left to a default).
            let doc = DeTable::parse(text).unwrap();
            for (table, roles) in [("ui", UiStyles::ROLES), ("markdown", MarkdownStyles::ROLES)] {
                let Some(DeValue::Table(tab)) = doc.get_ref().get(table).map(|v| v.get_ref())
                else {
                    panic!("{name}: no [{table}]")
                };
                for role in roles {
                    assert!(tab.get(*role).is_some(), "{name}: {table}.{role}");
                }
            }
            assert_eq!(t.name, *name);
        }
        assert_eq!(builtin("light").unwrap().background, Background::Light);
        assert_eq!(builtin("terminal").unwrap().md.depth, ColorDepth::Ansi16);
    }

    #[test]
    fn the_terminal_theme_keeps_to_the_sixteen_colours() {
        let t = builtin("terminal").unwrap();
        let mut ui = t.ui.clone();
        let mut md = (*t.md).clone();
        let check = |s: Style| {
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(!matches!(c, Color::Rgb(..) | Color::Indexed(_)), "{c:?}");
            }
            s
        };
        ui.map(check);
        md.map(check);
    }

    #[test]
    fn a_sixteen_colour_fallback_is_used_at_sixteen_colours_only() {
        let dark = builtin("dark").unwrap();
        let dim = dark.ui.dim;
        assert!(matches!(dim.fg, Some(Color::Rgb(..))), "{dim:?}");
        let low = dark.at_depth(ColorDepth::Ansi16);
        assert_ne!(
            low.ui.dim.fg,
            Some(Color::DarkGray),
            "never palette colour 8 for text"
        );
        assert!(
            low.ui.dim.add_modifier.contains(Modifier::DIM),
            "{:?}",
            low.ui.dim
        );
        let mid = dark.at_depth(ColorDepth::Ansi256);
        assert!(matches!(mid.ui.dim.fg, Some(Color::Indexed(_))));
        let (_, text) = BUILTIN[0];
        let bad = text.replacen("dim = \"#9aa0aa | dim\"", "dim = \"#9aa0aa | dimm\"", 1);
        assert_ne!(bad, text);
        assert!(
            parse("x", &bad, "x").unwrap_err()[0]
                .message
                .contains("did you mean `dim`")
        );
    }

    #[test]
    fn styles_read_as_written() {
        let s = parse_style("#1e1e2e on cyan bold").unwrap();
        assert_eq!(s.fg, Some(Color::Rgb(0x1e, 0x1e, 0x2e)));
        assert_eq!(s.bg, Some(Color::Cyan));
        assert!(s.add_modifier.contains(Modifier::BOLD));
        assert_eq!(parse_style("default").unwrap(), Style::new());
        assert_eq!(
            parse_style("italic 244").unwrap().fg,
            Some(Color::Indexed(244))
        );
        assert!(
            parse_style("cyan red")
                .unwrap_err()
                .contains("second foreground")
        );
        assert!(parse_style("#12345").unwrap_err().contains("#rrggbb"));
        assert!(parse_style("300").unwrap_err().contains("0 to 255"));
        assert!(
            parse_style("cyna")
                .unwrap_err()
                .contains("did you mean `cyan`")
        );
        assert!(
            parse_style("bodl")
                .unwrap_err()
                .contains("did you mean `bold`")
        );
        assert!(
            parse_style("red on")
                .unwrap_err()
                .contains("needs a background")
        );
    }

    #[test]
    fn a_broken_theme_names_every_problem_with_line_and_field() {
        let (_, dark) = BUILTIN[0];
        let broken =
            dark.replacen("dim = ", "dimm = ", 1)
                .replacen("accent = \"", "accent = \"#zz0000 ", 1);
        let errs = parse("mine", &broken, "mine.toml").unwrap_err();
        let line_of_text = |needle: &str| {
            broken
                .lines()
                .position(|l| l.starts_with(needle))
                .map(|i| i + 1)
        };
        let unknown = errs
            .iter()
            .find(|e| e.field.as_deref() == Some("ui.dimm"))
            .expect("unknown role");
        assert_eq!(unknown.line, line_of_text("dimm"));
        assert!(unknown.message.contains("did you mean `dim`"), "{unknown}");
        let bad = errs
            .iter()
            .find(|e| e.field.as_deref() == Some("ui.accent"))
            .expect("bad colour");
        assert_eq!(bad.line, line_of_text("accent"));
        assert!(
            errs.iter()
                .any(|e| e.field.as_deref() == Some("ui.dim") && e.message.contains("not defined"))
        );
        assert!(
            errs[0]
                .to_string()
                .starts_with("theme error in mine.toml, line "),
            "{}",
            errs[0]
        );
        let syntax = parse("x", "syntax = [1", "x.toml").unwrap_err();
        assert_eq!(syntax[0].line, Some(1));
    }

    #[test]
    fn user_files_replace_or_add_and_broken_ones_are_left_out() {
        let dir = std::env::temp_dir().join(format!("sy-themes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (_, dark) = BUILTIN[0];
        std::fs::write(
            dir.join("mine.toml"),
            dark.replace("name = \"dark\"", "name = \"mine\""),
        )
        .unwrap();
        std::fs::write(dir.join("light.toml"), "syntax = 1\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "not a theme").unwrap();
        let (set, errs) = ThemeSet::load(Some(&dir));
        assert_eq!(
            set.names(),
            ["dark", "light", "high-contrast", "terminal", "mine"]
        );
        assert_eq!(
            set.get("light").unwrap().background,
            Background::Light,
            "the embedded light stays"
        );
        assert!(
            errs.iter().all(|e| e.origin.ends_with("light.toml")),
            "{errs:?}"
        );
        assert!(!errs.is_empty());
        assert_eq!(set.next_after("mine").name, "dark");
        assert_eq!(
            set.choose("auto", Some(Background::Light)).unwrap().name,
            "light"
        );
        assert_eq!(set.choose("auto", None).unwrap().name, "dark");
        assert!(
            set.choose("ligth", None)
                .unwrap_err()
                .contains("did you mean `light`")
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_background_is_read_from_the_terminals_answers() {
        assert_eq!(
            background_of_reply("rgb:ffff/ffff/ffff"),
            Some(Background::Light)
        );
        assert_eq!(
            background_of_reply("rgb:1e1e/1e1e/2e2e"),
            Some(Background::Dark)
        );
        assert_eq!(
            background_of_reply("rgb:fd/f6/e3"),
            Some(Background::Light),
            "two digits"
        );
        assert_eq!(background_of_reply("rgb:zz/00/00"), None);
        assert_eq!(background_of_reply("cmy:1/2/3"), None);
        assert_eq!(background_of_colorfgbg("0;15"), Some(Background::Light));
        assert_eq!(background_of_colorfgbg("15;0"), Some(Background::Dark));
        assert_eq!(
            background_of_colorfgbg("15;default;0"),
            Some(Background::Dark)
        );
    }
}
