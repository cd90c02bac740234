//! How many colours the terminal shows, and every style brought down to that (pure: the
//! environment is passed in, so the rules are testable alone).

use ratatui::style::{Color, Modifier, Style};

/// The colours a terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ColorDepth {
    /// 24-bit colour (`COLORTERM=truecolor`).
    #[default]
    TrueColor,
    /// The xterm 256-colour palette.
    Ansi256,
    /// The terminal's own 16 colours.
    Ansi16,
    /// No colour at all (`NO_COLOR`, `TERM=dumb`): modifiers only.
    None,
}

impl ColorDepth {
    /// The depth from the environment: `NO_COLOR` (any non-empty value) wins, then
    /// `COLORTERM` (truecolor / 24bit), then `TERM` (`dumb`, `*-256color`, `*-direct`); an
    /// unknown terminal gets 16 colours, which every colour terminal has.
    pub fn detect(no_color: Option<&str>, colorterm: Option<&str>, term: Option<&str>) -> Self {
        if no_color.is_some_and(|v| !v.is_empty()) {
            return ColorDepth::None;
        }
        let colorterm = colorterm.unwrap_or("").to_ascii_lowercase();
        let term = term.unwrap_or("").to_ascii_lowercase();
        if term == "dumb" {
            return ColorDepth::None;
        }
        if colorterm == "truecolor" || colorterm == "24bit" || term.ends_with("-direct") {
            return ColorDepth::TrueColor;
        }
        if term.contains("256color") || colorterm.contains("256") {
            return ColorDepth::Ansi256;
        }
        ColorDepth::Ansi16
    }

    /// The depth this process's environment asks for.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        Self::detect(
            var("NO_COLOR").as_deref(),
            var("COLORTERM").as_deref(),
            var("TERM").as_deref(),
        )
    }

    /// A depth as the config and `--colors` spell it (`auto` is `None` here: detect).
    pub fn parse(s: &str) -> Result<Option<Self>, String> {
        Ok(Some(match s.trim().to_ascii_lowercase().as_str() {
            "auto" => return Ok(None),
            "truecolor" | "24bit" | "true" => ColorDepth::TrueColor,
            "256" | "ansi256" => ColorDepth::Ansi256,
            "16" | "ansi16" | "ansi" => ColorDepth::Ansi16,
            "none" | "no" | "mono" => ColorDepth::None,
            other => {
                return Err(format!(
                    "`{other}` is not a colour depth: auto, truecolor, 256, 16 or none"
                ));
            }
        }))
    }

    /// The colour as this depth can show it (`None`: no colour).
    pub fn color(self, c: Color) -> Option<Color> {
        match (self, c) {
            (ColorDepth::None, _) => None,
            (_, Color::Reset) => Some(Color::Reset),
            (ColorDepth::TrueColor, c) => Some(c),
            (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(to_256(r, g, b))),
            (ColorDepth::Ansi256, c) => Some(c),
            (ColorDepth::Ansi16, c) => Some(to_16(c)),
        }
    }

    /// The style as this depth can show it. Without colour, a style that marked something by
    /// its background (a selection, a chip) is reversed instead, so it still stands out.
    pub fn style(self, s: Style) -> Style {
        if self == ColorDepth::None {
            let had_bg = matches!(s.bg, Some(c) if c != Color::Reset);
            let mut out = Style {
                fg: None,
                bg: None,
                underline_color: None,
                ..s
            };
            if had_bg {
                out = out.add_modifier(Modifier::REVERSED);
            }
            return out;
        }
        Style {
            fg: s.fg.and_then(|c| self.color(c)),
            bg: s.bg.and_then(|c| self.color(c)),
            underline_color: s.underline_color.and_then(|c| self.color(c)),
            ..s
        }
    }
}

/// The xterm palette's first 16 colours (the values xterm ships; terminals vary, which is the
/// point of the 16-colour depth: the terminal's own palette is used).
const ANSI16: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

const NAMED: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

/// The RGB value of a 256-palette index.
fn rgb_of_index(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI16[i as usize],
        16..=231 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}

fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    // Weighted towards green, where the eye is most sensitive ("redmean" lite).
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2) as u32;
    2 * d(a.0, b.0) + 4 * d(a.1, b.1) + 3 * d(a.2, b.2)
}

/// The nearest colour of the 6×6×6 cube or the grey ramp.
fn to_256(r: u8, g: u8, b: u8) -> u8 {
    (16..=255u8)
        .min_by_key(|&i| distance((r, g, b), rgb_of_index(i)))
        .unwrap_or(16)
}

/// The 16-colour name for a colour, by hue rather than by distance: a terminal's 16 colours
/// are a palette of its own (Solarized, Gruvbox…), so what carries over is "green" or "light
/// red", not a particular RGB value. Colours with little saturation become the grey of their
/// lightness; pastel or very bright ones the light variant of their hue.
fn to_16(c: Color) -> Color {
    let (r, g, b) = match c {
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) if i < 16 => return NAMED[i as usize],
        Color::Indexed(i) => rgb_of_index(i),
        named => return named,
    };
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let chroma = f64::from(max - min);
    if max == 0 || chroma / f64::from(max) < 0.25 {
        return match max {
            0..=0x2f => Color::Black,
            0x30..=0x9f => Color::DarkGray,
            0xa0..=0xe7 => Color::Gray,
            _ => Color::White,
        };
    }
    let (rf, gf, bf) = (f64::from(r), f64::from(g), f64::from(b));
    let hue = if max == r {
        60.0 * ((gf - bf) / chroma).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((bf - rf) / chroma + 2.0)
    } else {
        60.0 * ((rf - gf) / chroma + 4.0)
    };
    // Sectors of 60° centred on red, yellow, green, cyan, blue, magenta.
    let sector = (((hue + 30.0) / 60.0).floor() as usize) % 6;
    let light = min >= 0x60 || max >= 0xf0;
    let (dark, bright) = [
        (Color::Red, Color::LightRed),
        (Color::Yellow, Color::LightYellow),
        (Color::Green, Color::LightGreen),
        (Color::Cyan, Color::LightCyan),
        (Color::Blue, Color::LightBlue),
        (Color::Magenta, Color::LightMagenta),
    ][sector];
    if light { bright } else { dark }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_decides_the_depth() {
        use ColorDepth::*;
        let d = ColorDepth::detect;
        assert_eq!(
            d(Some("1"), Some("truecolor"), Some("xterm-256color")),
            None
        );
        assert_eq!(
            d(Some(""), Some("truecolor"), Some("xterm")),
            TrueColor,
            "empty NO_COLOR is unset"
        );
        assert_eq!(d(Option::None, Some("24bit"), Some("screen")), TrueColor);
        assert_eq!(
            d(Option::None, Option::None, Some("tmux-256color")),
            Ansi256
        );
        assert_eq!(d(Option::None, Option::None, Some("xterm")), Ansi16);
        assert_eq!(d(Option::None, Option::None, Some("dumb")), None);
        assert_eq!(d(Option::None, Option::None, Option::None), Ansi16);
    }

    #[test]
    fn colours_come_down_to_the_nearest_the_depth_has() {
        let grey = Color::Rgb(0x9a, 0xa0, 0xaa);
        assert_eq!(ColorDepth::TrueColor.color(grey), Some(grey));
        let Some(Color::Indexed(i)) = ColorDepth::Ansi256.color(grey) else {
            panic!("an index")
        };
        assert!((244..=248).contains(&i), "a mid grey of the ramp, got {i}");
        assert_eq!(
            ColorDepth::Ansi16.color(Color::Rgb(250, 10, 10)),
            Some(Color::LightRed)
        );
        assert_eq!(
            ColorDepth::Ansi16.color(Color::Rgb(0xa0, 0x10, 0x10)),
            Some(Color::Red)
        );
        // Pastels keep their hue (a nearest-RGB match would call them grey).
        let pastel = |r, g, b| ColorDepth::Ansi16.color(Color::Rgb(r, g, b));
        assert_eq!(pastel(0x87, 0xd7, 0x87), Some(Color::LightGreen));
        assert_eq!(pastel(0xe5, 0xc0, 0x7b), Some(Color::LightYellow));
        assert_eq!(pastel(0x5f, 0xd7, 0xd7), Some(Color::Cyan));
        assert_eq!(pastel(0x1a, 0x7f, 0x37), Some(Color::Green));
        assert_eq!(pastel(0x9a, 0xa0, 0xaa), Some(Color::Gray));
        assert_eq!(pastel(0x1c, 0x1c, 0x1c), Some(Color::Black));
        assert_eq!(
            ColorDepth::Ansi16.color(Color::Indexed(2)),
            Some(Color::Green)
        );
        assert_eq!(ColorDepth::Ansi16.color(Color::Cyan), Some(Color::Cyan));
        assert_eq!(ColorDepth::None.color(Color::Cyan), Option::None);
    }

    #[test]
    fn without_colour_a_selection_is_reversed() {
        let sel = Style::new()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD);
        let s = ColorDepth::None.style(sel);
        assert_eq!((s.fg, s.bg), (Option::None, Option::None));
        assert!(s.add_modifier.contains(Modifier::REVERSED | Modifier::BOLD));
        let plain = ColorDepth::None.style(Style::new().fg(Color::Red));
        assert!(!plain.add_modifier.contains(Modifier::REVERSED));
    }
}
