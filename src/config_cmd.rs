//! `switchyard config --print-default | --check [FILE] | --path`.

use crate::cli::{ConfigArgs, SourceArgs};
use crate::config::Config;
use std::path::PathBuf;

/// The config file in use: `--config`'s, else the platform's default.
fn in_use(source: &SourceArgs) -> Option<PathBuf> {
    source.config.clone().or_else(Config::default_path)
}

/// Runs `config`; the exit code (2 when `--check` finds an error).
pub fn run(args: &ConfigArgs, source: &SourceArgs) -> i32 {
    if args.print_default {
        print!("{}", crate::config_check::DEFAULT_TEXT);
        return 0;
    }
    if args.path {
        let Some(path) = in_use(source) else {
            eprintln!("switchyard: no config directory on this platform");
            return 1;
        };
        let state = crate::health_store::state_dir();
        println!(
            "{}{}",
            path.display(),
            if path.exists() {
                ""
            } else {
                "  (not there: the defaults are used)"
            }
        );
        if let Some(dir) = crate::source::config_dir(source) {
            println!("{}  (your themes)", dir.join("themes").display());
            println!("{}  (saved schemas)", dir.join("schemas").display());
        }
        if let Some(s) = state {
            println!(
                "{}  (history, health, and the key file when there is no keyring)",
                s.display()
            );
        }
        return 0;
    }
    let Some(file) = args.check.clone() else {
        return 0;
    };
    let given = file.is_some();
    let path = match file {
        Some(f) => f,
        None => match in_use(source) {
            Some(p) => p,
            None => {
                eprintln!("switchyard: no config file to check");
                return 2;
            }
        },
    };
    let text = match crate::small_file::read(&path, crate::small_file::MAX_BYTES) {
        Ok(t) => t,
        Err(crate::small_file::ReadError::NotFound) if !given => {
            println!("{}: no file (the defaults are used)", path.display());
            return 0;
        }
        Err(e) => {
            eprintln!(
                "switchyard: config error in {}: cannot read it: {e}",
                path.display()
            );
            return 2;
        }
    };
    let report = check_all(&path, &text);
    for w in &report.warnings {
        eprintln!("warning: {}", w.replacen("config error in ", "", 1));
    }
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    if report.errors.is_empty() {
        println!(
            "{}: no errors{}",
            path.display(),
            match report.warnings.len() {
                0 => String::new(),
                1 => ", 1 warning".into(),
                n => format!(", {n} warnings"),
            }
        );
        0
    } else {
        eprintln!(
            "{}: {} error{}, {} warning{}",
            path.display(),
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" },
            report.warnings.len(),
            if report.warnings.len() == 1 { "" } else { "s" }
        );
        2
    }
}

/// Everything wrong with a config file, worded for a person.
#[derive(Debug, Default)]
pub struct Report {
    /// Errors (the file would be refused).
    pub errors: Vec<String>,
    /// Warnings (unknown keys left out, broken theme files).
    pub warnings: Vec<String>,
}

/// The file's own errors and warnings, then its theme (and the themes beside it) and each of
/// its profiles laid over it.
pub fn check_all(path: &std::path::Path, text: &str) -> Report {
    let checked = crate::config_check::check(text, path);
    let mut r = Report {
        errors: checked.errors.iter().map(|e| e.to_string()).collect(),
        warnings: checked.warnings.iter().map(|e| e.to_string()).collect(),
    };
    let Some(cfg) = checked.config else {
        return r;
    };
    let dir = path.parent().map(|d| d.join("themes"));
    let (set, theme_errors) = crate::theme::ThemeSet::load(dir.as_deref());
    r.warnings
        .extend(theme_errors.iter().map(|e| e.to_string()));
    let broken = theme_errors
        .iter()
        .any(|e| crate::theme::is_file_of(&e.origin, &cfg.theme.name));
    if let Err(e) = set.choose(&cfg.theme.name, None)
        && !broken
    {
        let line = text.lines().position(|l| {
            l.trim_start().starts_with("name") && l.contains(&format!("\"{}\"", cfg.theme.name))
        });
        r.errors.push(
            crate::config::ConfigError {
                path: path.into(),
                line: line.map(|l| l + 1),
                field: Some("theme.name".into()),
                message: e,
            }
            .to_string(),
        );
    }
    // The key table: unknown actions or keys and conflicts, each at its line.
    let (_, problems) = crate::app::remap::build(&cfg.keys);
    for p in problems {
        let mut parts = p.field.splitn(3, '.');
        let (_, mode, action) = (parts.next(), parts.next(), parts.next());
        let line = match (mode, action) {
            (Some(m), Some(a)) => {
                let header = text
                    .lines()
                    .position(|l| l.trim() == format!("[keys.{m}]"))
                    .unwrap_or(0);
                text.lines()
                    .enumerate()
                    .skip(header)
                    .find(|(_, l)| {
                        l.split_once('=')
                            .is_some_and(|(k, _)| k.trim().trim_matches('"') == a)
                    })
                    .map(|(i, _)| i + 1)
            }
            _ => text
                .lines()
                .position(|l| l.trim_start().starts_with("preset"))
                .map(|i| i + 1),
        };
        let e = crate::config::ConfigError {
            path: path.into(),
            line,
            field: Some(p.field.clone()),
            message: p.message,
        }
        .to_string();
        if p.error {
            r.errors.push(e);
        } else {
            r.warnings.push(e);
        }
    }
    for name in cfg.profiles.keys() {
        if let Err(e) = Config::effective(text, path, Some(name)) {
            r.errors.push(e.to_string());
        }
    }
    r
}
