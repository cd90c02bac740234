//! The user's key table: the config's `[keys]` laid over the built-in `BINDINGS` (pure). Names
//! of actions and keys as the config writes them, the `vim` preset, and every problem — an
//! unknown action or key, two bindings on one key (both named), quit left without a key.

use super::keymap::{Action, Context, Key, Keymap};
use crate::config::KeysConfig;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The modes of `[keys]` by name.
pub const MODES: &[(&str, Context)] = &[
    ("any", Context::Any),
    ("workbench", Context::Workbench),
    ("picker", Context::Picker),
    ("health", Context::Health),
    ("popup", Context::Popup),
    ("panel", Context::Panel),
    ("history", Context::History),
    ("attach", Context::Attach),
    ("catalog", Context::Catalog),
    ("bakeoff", Context::Bakeoff),
];

fn mode_name(ctx: Context) -> &'static str {
    MODES
        .iter()
        .find(|(_, c)| *c == ctx)
        .map_or("any", |(n, _)| n)
}

fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// An action's name in the config: `focus_next`, `delete_word_back`, `fault_outage`.
pub fn action_name(a: Action) -> String {
    match a {
        Action::Edit(e) => snake(&format!("{e:?}")),
        Action::Fault(f) => format!("fault_{}", f.name()),
        Action::NextField(n) if n < 0 => "prev_field".into(),
        Action::Select(n) if n < 0 => "select_page_up".into(),
        Action::Select(n) if n > 0 => "select_page_down".into(),
        other => {
            let d = format!("{other:?}");
            snake(d.split('(').next().unwrap_or(&d))
        }
    }
}

/// One key as the config writes it: `ctrl+q`, `alt+n`, `shift+enter`, `f12`, `pgdn`, `space`, `x`.
pub fn parse_key(s: &str) -> Result<Key, String> {
    let lower = s.trim().to_ascii_lowercase();
    if lower.is_empty() {
        return Err("an empty key".into());
    }
    let mut parts: Vec<&str> = lower.split('+').collect();
    // `ctrl++` or a lone `+` is the plus key.
    if lower.ends_with("++") || lower == "+" {
        parts.retain(|p| !p.is_empty());
        parts.push("+");
    }
    let name = parts.pop().unwrap_or("");
    let mut mods = KeyModifiers::NONE;
    for m in parts {
        mods |= match m {
            "ctrl" | "control" | "c" => KeyModifiers::CONTROL,
            "alt" | "meta" | "option" | "m" => KeyModifiers::ALT,
            "shift" | "s" => KeyModifiers::SHIFT,
            other => {
                return Err(format!(
                    "`{other}` in `{s}` is not a modifier (ctrl, alt, shift){}",
                    crate::spelling::suggestion(other, ["ctrl", "alt", "shift"])
                ));
            }
        };
    }
    const NAMES: &[(&str, KeyCode)] = &[
        ("enter", KeyCode::Enter),
        ("return", KeyCode::Enter),
        ("tab", KeyCode::Tab),
        ("backtab", KeyCode::BackTab),
        ("esc", KeyCode::Esc),
        ("escape", KeyCode::Esc),
        ("backspace", KeyCode::Backspace),
        ("bksp", KeyCode::Backspace),
        ("delete", KeyCode::Delete),
        ("del", KeyCode::Delete),
        ("insert", KeyCode::Insert),
        ("up", KeyCode::Up),
        ("down", KeyCode::Down),
        ("left", KeyCode::Left),
        ("right", KeyCode::Right),
        ("home", KeyCode::Home),
        ("end", KeyCode::End),
        ("pageup", KeyCode::PageUp),
        ("pgup", KeyCode::PageUp),
        ("pagedown", KeyCode::PageDown),
        ("pgdn", KeyCode::PageDown),
        ("space", KeyCode::Char(' ')),
    ];
    let code = if let Some((_, c)) = NAMES.iter().find(|(n, _)| *n == name) {
        *c
    } else if let Some(n) = name.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
        if !(1..=24).contains(&n) {
            return Err(format!("`{s}`: function keys are f1 to f24"));
        }
        KeyCode::F(n)
    } else if name.chars().count() == 1 {
        KeyCode::Char(name.chars().next().unwrap_or(' '))
    } else {
        let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "`{name}` in `{s}` is not a key{}: a character, f1–f24, or {}",
            crate::spelling::suggestion(name, names.iter().copied()),
            names.join(", ")
        ));
    };
    // Shift+Tab arrives as BackTab; Shift with a character is the character itself.
    let code = if code == KeyCode::Tab && mods.contains(KeyModifiers::SHIFT) {
        KeyCode::BackTab
    } else {
        code
    };
    if matches!(code, KeyCode::Char(_)) {
        mods -= KeyModifiers::SHIFT;
    }
    Ok(Key { code, mods })
}

/// A sequence: keys with spaces between (`ctrl+w l`), at most four.
pub fn parse_seq(s: &str) -> Result<Vec<Key>, String> {
    let keys: Vec<Key> = s
        .split_whitespace()
        .map(parse_key)
        .collect::<Result<_, _>>()?;
    match keys.len() {
        0 => Err("an empty key".into()),
        1..=4 => Ok(keys),
        _ => Err(format!("`{s}`: a sequence is at most four keys")),
    }
}

/// A problem with the `[keys]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The config field (`keys.workbench.zoom`).
    pub field: String,
    /// What is wrong, naming both places of a conflict.
    pub message: String,
    /// Whether `config --check` calls it an error (else the change is made and said).
    pub error: bool,
}

/// Where a binding's keys came from: the built-in table, the preset, or a config field.
#[derive(Debug, Clone, PartialEq)]
enum Origin {
    Builtin,
    Preset,
    Config(String),
}

impl Origin {
    fn describe(&self, ctx: Context, action: Action) -> String {
        match self {
            Origin::Builtin => format!(
                "the built-in `{}` ({})",
                action_name(action),
                mode_name(ctx)
            ),
            Origin::Preset => format!(
                "the vim preset's `{}` ({})",
                action_name(action),
                mode_name(ctx)
            ),
            Origin::Config(f) => format!("`{f}`"),
        }
    }
}

/// The vim preset: Ctrl+W window commands over the panes (keys added to the built-in ones).
const VIM: &[(&str, &[&str])] = &[
    ("focus_next", &["ctrl+w l", "ctrl+w w", "ctrl+w j"]),
    ("focus_prev", &["ctrl+w h", "ctrl+w k"]),
    ("close_pane", &["ctrl+w q"]),
    ("add_pane", &["ctrl+w n"]),
    ("zoom", &["ctrl+w o"]),
];

/// The key table the config asks for, and what was wrong with it.
pub fn build(cfg: &KeysConfig) -> (Keymap, Vec<Problem>) {
    let mut map = Keymap::builtin();
    let mut origins: Vec<Vec<Origin>> = map
        .bound
        .iter()
        .map(|b| vec![Origin::Builtin; b.keys.len()])
        .collect();
    let mut problems = Vec::new();
    match cfg.preset.as_str() {
        "default" | "" => {}
        "vim" => {
            for (name, keys) in VIM {
                if let Some(i) = map
                    .bound
                    .iter()
                    .position(|b| b.ctx == Context::Workbench && action_name(b.action) == *name)
                {
                    for k in *keys {
                        map.bound[i]
                            .keys
                            .push(parse_seq(k).expect("the preset's keys parse"));
                        origins[i].push(Origin::Preset);
                    }
                }
            }
            // Ctrl+W now starts the window commands: the conflict resolution below takes it
            // from `delete_word_back`, silently (the preset is made that way).
        }
        other => problems.push(Problem {
            field: "keys.preset".into(),
            message: format!(
                "`{other}` is not a preset{}: default or vim",
                crate::spelling::suggestion(other, ["default", "vim"])
            ),
            error: true,
        }),
    }
    for (mode, table) in cfg.modes() {
        let ctx = MODES
            .iter()
            .find(|(n, _)| *n == mode)
            .map(|(_, c)| *c)
            .unwrap_or(Context::Any);
        for (name, spec) in table {
            let field = format!("keys.{mode}.{name}");
            let lines: Vec<usize> = map
                .bound
                .iter()
                .enumerate()
                .filter(|(_, b)| b.ctx == ctx && action_name(b.action) == *name)
                .map(|(i, _)| i)
                .collect();
            if lines.is_empty() {
                let here: Vec<String> = {
                    let mut v: Vec<String> = map
                        .bound
                        .iter()
                        .filter(|b| b.ctx == ctx)
                        .map(|b| action_name(b.action))
                        .collect();
                    v.sort();
                    v.dedup();
                    v
                };
                let elsewhere: Vec<&str> = map
                    .bound
                    .iter()
                    .filter(|b| action_name(b.action) == *name)
                    .map(|b| mode_name(b.ctx))
                    .collect();
                let hint = if let Some(m) = elsewhere.first() {
                    format!(" (it is an action of [keys.{m}])")
                } else {
                    crate::spelling::suggestion(name, here.iter().map(String::as_str))
                };
                problems.push(Problem {
                    field,
                    message: format!("`{name}` is not an action of {mode}{hint}"),
                    error: true,
                });
                continue;
            }
            let mut seqs = Vec::new();
            for k in spec.all() {
                match parse_seq(k) {
                    Ok(s) => seqs.push(s),
                    Err(e) => problems.push(Problem {
                        field: field.clone(),
                        message: e,
                        error: true,
                    }),
                }
            }
            for (n, i) in lines.iter().enumerate() {
                if n == 0 {
                    origins[*i] = vec![Origin::Config(field.clone()); seqs.len()];
                    map.bound[*i].keys = std::mem::take(&mut seqs);
                } else {
                    map.bound[*i].keys.clear();
                    origins[*i].clear();
                }
            }
        }
    }
    resolve_conflicts(&mut map, &mut origins, &mut problems);
    rescue_quit(&mut map, &mut origins, &mut problems);
    (map, problems)
}

fn same(a: &Key, b: &Key) -> bool {
    a.matches(&KeyEvent::new(b.code, b.mods)) || b.matches(&KeyEvent::new(a.code, a.mods))
}

/// Whether one sequence is the other or starts it (`Ctrl+W` and `Ctrl+W l`).
fn clash(a: &[Key], b: &[Key]) -> bool {
    a.iter().zip(b).all(|(x, y)| same(x, y))
}

/// Two lines that could take the same keys: one mode's and the same mode's or `any`'s.
fn overlap(a: Context, b: Context) -> bool {
    a == b || a == Context::Any || b == Context::Any
}

fn resolve_conflicts(map: &mut Keymap, origins: &mut [Vec<Origin>], problems: &mut Vec<Problem>) {
    let n = map.bound.len();
    for i in 0..n {
        for j in (i + 1)..n {
            let (a, b) = (&map.bound[i], &map.bound[j]);
            if !overlap(a.ctx, b.ctx) || a.action == b.action {
                continue;
            }
            // The built-in table's own overlaps are its design (tested apart).
            let untouched = |o: &[Origin]| o.iter().all(|o| *o == Origin::Builtin);
            if untouched(&origins[i]) && untouched(&origins[j]) {
                continue;
            }
            let mut drop_from: Vec<(usize, usize)> = Vec::new();
            for (si, sa) in a.keys.iter().enumerate() {
                for (sj, sb) in b.keys.iter().enumerate() {
                    if !clash(sa, sb) {
                        continue;
                    }
                    let (oa, ob) = (&origins[i][si], &origins[j][sj]);
                    if *oa == Origin::Builtin && *ob == Origin::Builtin {
                        continue;
                    }
                    let key = super::keymap::seq_name(if sa.len() <= sb.len() { sa } else { sb });
                    let (da, db) = (oa.describe(a.ctx, a.action), ob.describe(b.ctx, b.action));
                    // The config's wins over the built-in table and the preset; between two of
                    // the config's own, the first is kept and it is an error.
                    let (loser, both_mine) = match (oa, ob) {
                        (Origin::Config(_), Origin::Config(_)) => ((j, sj), true),
                        (Origin::Config(_), _) => ((j, sj), false),
                        (_, Origin::Config(_)) => ((i, si), false),
                        (Origin::Preset, _) => ((j, sj), false),
                        _ => ((i, si), false),
                    };
                    // The field named is the one that lost the key (where the change shows).
                    let lost_origin = if loser.0 == j { ob } else { oa };
                    let field = match (lost_origin, oa, ob) {
                        (Origin::Config(f), _, _) => f.clone(),
                        (_, Origin::Config(f), _) | (_, _, Origin::Config(f)) => f.clone(),
                        _ => "keys.preset".into(),
                    };
                    let by_design = matches!(
                        (oa, ob),
                        (Origin::Preset, Origin::Builtin) | (Origin::Builtin, Origin::Preset)
                    );
                    drop_from.push(loser);
                    if by_design {
                        continue;
                    }
                    problems.push(Problem {
                        field,
                        message: if both_mine {
                            format!("{da} and {db} both bind {key}; {db} is left without it")
                        } else {
                            let (winner, lost) = if loser.0 == j { (&da, &db) } else { (&db, &da) };
                            format!("{winner} takes {key} from {lost}")
                        },
                        error: both_mine,
                    });
                }
            }
            drop_from.sort();
            drop_from.dedup();
            for (line, seq) in drop_from.into_iter().rev() {
                map.bound[line].keys.remove(seq);
                origins[line].remove(seq);
            }
        }
    }
}

/// Quit always keeps a key: when the config leaves it none, Ctrl+Q comes back.
fn rescue_quit(map: &mut Keymap, origins: &mut [Vec<Origin>], problems: &mut Vec<Problem>) {
    let has_key = map
        .bound
        .iter()
        .any(|b| b.action == Action::Quit && b.ctx == Context::Any && !b.keys.is_empty());
    if has_key {
        return;
    }
    let ctrl_q = parse_key("ctrl+q").expect("a key");
    for (i, b) in map.bound.iter_mut().enumerate() {
        let keep: Vec<bool> = b.keys.iter().map(|s| !clash(s, &[ctrl_q])).collect();
        let mut it = keep.iter();
        b.keys.retain(|_| *it.next().unwrap_or(&true));
        let mut it = keep.iter();
        origins[i].retain(|_| *it.next().unwrap_or(&true));
    }
    if let Some(b) = map
        .bound
        .iter_mut()
        .find(|b| b.action == Action::Quit && b.ctx == Context::Any)
    {
        b.keys = vec![vec![ctrl_q]];
    }
    problems.push(Problem {
        field: "keys.any.quit".into(),
        message: "quit cannot be left without a key, so Ctrl+Q quits (bind `keys.any.quit` to another key to move it; Ctrl+C twice on an idle screen quits too)".into(),
        error: false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::EditKey;
    use crate::app::keymap::Resolved;
    use crate::config::KeySpec;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    fn cfg(mode: &str, pairs: &[(&str, &[&str])]) -> KeysConfig {
        let mut c = KeysConfig::default();
        let table = pairs
            .iter()
            .map(|(a, k)| {
                (
                    a.to_string(),
                    KeySpec::Many(k.iter().map(|s| s.to_string()).collect()),
                )
            })
            .collect();
        match mode {
            "any" => c.any = table,
            "workbench" => c.workbench = table,
            "health" => c.health = table,
            other => panic!("{other}"),
        }
        c
    }

    #[test]
    fn every_action_has_one_name_per_mode() {
        let map = Keymap::builtin();
        for (_, ctx) in MODES {
            let mut seen: Vec<(String, Action)> = Vec::new();
            for b in map.bound.iter().filter(|b| b.ctx == *ctx) {
                let n = action_name(b.action);
                if let Some((_, other)) = seen.iter().find(|(s, _)| *s == n) {
                    assert_eq!(*other, b.action, "`{n}` names two actions in {ctx:?}");
                }
                seen.push((n, b.action));
            }
        }
        assert_eq!(action_name(Action::FocusNext), "focus_next");
        assert_eq!(
            action_name(Action::Edit(EditKey::DeleteWordBack)),
            "delete_word_back"
        );
        assert_eq!(action_name(Action::ScrollUp(1)), "scroll_up");
        assert_eq!(action_name(Action::NextField(-1)), "prev_field");
    }

    #[test]
    fn the_built_in_table_builds_without_a_problem() {
        let (map, problems) = build(&KeysConfig::default());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(map, Keymap::builtin());
    }

    #[test]
    fn keys_read_as_written() {
        assert_eq!(
            parse_key("Ctrl+Q").unwrap(),
            Key {
                code: KeyCode::Char('q'),
                mods: KeyModifiers::CONTROL
            }
        );
        assert_eq!(parse_key("shift+tab").unwrap().code, KeyCode::BackTab);
        assert_eq!(parse_key("f12").unwrap().code, KeyCode::F(12));
        assert_eq!(parse_key("alt+pgdn").unwrap().code, KeyCode::PageDown);
        assert_eq!(parse_seq("ctrl+w l").unwrap().len(), 2);
        assert!(
            parse_key("ctlr+q")
                .unwrap_err()
                .contains("did you mean `ctrl`")
        );
        assert!(
            parse_key("ctrl+entr")
                .unwrap_err()
                .contains("did you mean `enter`")
        );
        assert!(parse_key("f99").unwrap_err().contains("f1 to f24"));
    }

    #[test]
    fn a_remap_moves_an_action_and_the_help_and_hints_follow() {
        let (map, problems) = build(&cfg(
            "workbench",
            &[("zoom", &["f11"]), ("toggle_target", &["alt+t"])],
        ));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            map.action_for(Context::Workbench, &ev(KeyCode::F(11), KeyModifiers::NONE)),
            Some(Action::Zoom)
        );
        assert_eq!(
            map.action_for(
                Context::Workbench,
                &ev(KeyCode::Char('g'), KeyModifiers::CONTROL)
            ),
            None
        );
        let target = map
            .bound
            .iter()
            .find(|b| b.action == Action::ToggleTarget)
            .unwrap();
        assert_eq!(super::super::keymap::seq_name(&target.keys[0]), "Alt+T");
    }

    #[test]
    fn a_sequence_waits_for_its_next_key() {
        let c = KeysConfig {
            preset: "vim".into(),
            ..Default::default()
        };
        let (map, problems) = build(&c);
        assert!(problems.is_empty(), "{problems:?}");
        let ctrl_w = ev(KeyCode::Char('w'), KeyModifiers::CONTROL);
        assert_eq!(
            map.resolve(Context::Workbench, &[], &ctrl_w),
            Resolved::Pending
        );
        let l = ev(KeyCode::Char('l'), KeyModifiers::NONE);
        assert_eq!(
            map.resolve(Context::Workbench, &[ctrl_w], &l),
            Resolved::Action(Action::FocusNext)
        );
        let x = ev(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(
            map.resolve(Context::Workbench, &[ctrl_w], &x),
            Resolved::Unbound
        );
        // A plain `l` still types.
        assert_eq!(map.resolve(Context::Workbench, &[], &l), Resolved::Unbound);
        // Ctrl+Backspace still deletes a word.
        assert_eq!(
            map.action_for(
                Context::Workbench,
                &ev(KeyCode::Backspace, KeyModifiers::CONTROL)
            ),
            Some(Action::Edit(EditKey::DeleteWordBack))
        );
    }

    #[test]
    fn conflicts_name_both_places() {
        // Over a built-in key: the config's wins, and it is said.
        let (map, problems) = build(&cfg("workbench", &[("zoom", &["ctrl+t"])]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert!(!p.error);
        assert!(
            p.message.contains("`keys.workbench.zoom`")
                && p.message.contains("`toggle_target`")
                && p.message.contains("Ctrl+T"),
            "{p:?}"
        );
        assert_eq!(
            map.action_for(
                Context::Workbench,
                &ev(KeyCode::Char('t'), KeyModifiers::CONTROL)
            ),
            Some(Action::Zoom)
        );
        // Two of the config's own on one key: an error, the first kept.
        let (_, problems) = build(&cfg(
            "workbench",
            &[("retry", &["f11"]), ("zoom", &["f11"])],
        ));
        let p = problems.iter().find(|p| p.error).expect("an error");
        assert!(
            p.message.contains("keys.workbench.retry") && p.message.contains("keys.workbench.zoom"),
            "{p:?}"
        );
        // A key that starts a sequence of another action clashes too.
        let (_, problems) = build(&cfg(
            "workbench",
            &[("retry", &["f11"]), ("zoom", &["f11 x"])],
        ));
        assert!(problems.iter().any(|p| p.error), "{problems:?}");
        // Unknown names: the nearest, or the mode they belong to.
        let (_, problems) = build(&cfg("workbench", &[("zoon", &["f11"]), ("sort", &["f11"])]));
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("did you mean `zoom`")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("[keys.catalog]")),
            "{problems:?}"
        );
    }

    #[test]
    fn quit_always_keeps_a_key() {
        let (map, problems) = build(&cfg("any", &[("quit", &[])]));
        assert!(problems[0].message.contains("Ctrl+Q quits"), "{problems:?}");
        assert_eq!(
            map.action_for(
                Context::Panel,
                &ev(KeyCode::Char('q'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        // Ctrl+Q given to another action: quit takes it back, since nothing else quits.
        let (map, problems) = build(&cfg("workbench", &[("zoom", &["ctrl+q"])]));
        assert!(
            problems.iter().any(|p| p.message.contains("Ctrl+Q quits")),
            "{problems:?}"
        );
        assert_eq!(
            map.action_for(
                Context::Workbench,
                &ev(KeyCode::Char('q'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        // Moved elsewhere: fine.
        let (map, problems) = build(&cfg("any", &[("quit", &["ctrl+alt+q"])]));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            map.action_for(
                Context::Workbench,
                &ev(KeyCode::Char('q'), KeyModifiers::CONTROL)
            ),
            None
        );
    }
}
