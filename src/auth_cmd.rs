//! `switchyard auth set|list|remove`: the key store from the command line. Nothing here ever
//! prints a key: only where it lives and its last four characters.

use crate::cli::AuthCommand;
use crate::config::Config;
use crate::key_store::{KeyStore, tail};

/// The providers a key can be for: OpenRouter (with its variable) and the config's own.
pub fn known_providers(cfg: &Config) -> Vec<(String, Option<String>)> {
    let mut out = vec![(
        crate::source::OPENROUTER_PROVIDER.to_string(),
        Some("OPENROUTER_API_KEY".to_string()),
    )];
    for p in &cfg.providers {
        if !out.iter().any(|(n, _)| *n == p.name) {
            out.push((p.name.clone(), p.api_key_env.clone()));
        }
    }
    out
}

/// Runs one `auth` command; the exit code.
pub fn run(cmd: AuthCommand, cfg: &Config, store: &KeyStore) -> i32 {
    let known = known_providers(cfg);
    let unknown_note = |provider: &str| {
        (!known.iter().any(|(n, _)| n == provider)).then(|| {
            format!(
                "switchyard: note: no provider is named `{provider}` in the config; keys are found by provider name ({})",
                known.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            )
        })
    };
    match cmd {
        AuthCommand::Set { provider } => {
            if provider.trim().is_empty() || provider.chars().any(char::is_control) {
                eprintln!("switchyard: auth set: name a provider");
                return 2;
            }
            if let Some(n) = unknown_note(&provider) {
                eprintln!("{n}");
            }
            let key = match crate::key_store::read_key(&format!("Key for {provider} (not shown): "))
            {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("switchyard: auth set: {e}");
                    return 2;
                }
            };
            match store.set(&provider, &key) {
                Ok((origin, warning)) => {
                    if let Some(w) = warning {
                        eprintln!("switchyard: warning: {w}");
                    }
                    println!(
                        "the key for {provider} ({}) is kept in {origin}",
                        tail(key.expose())
                    );
                    // A variable that is set wins over what was just kept: say so.
                    if let Some((_, Some(var))) = known.iter().find(|(n, _)| *n == provider)
                        && std::env::var(var).is_ok_and(|v| !v.trim().is_empty())
                    {
                        eprintln!(
                            "switchyard: note: {var} is set in this environment and is used before the kept key"
                        );
                    }
                    0
                }
                Err(e) => {
                    eprintln!("switchyard: auth set: {e}");
                    1
                }
            }
        }
        AuthCommand::List => {
            let mut notes = Vec::new();
            match store.list(&known, &mut notes) {
                Ok(rows) if rows.is_empty() => {
                    println!("no keys (`switchyard auth set openrouter` keeps one)");
                    0
                }
                Ok(rows) => {
                    let w = rows
                        .iter()
                        .map(|r| r.provider.chars().count())
                        .max()
                        .unwrap_or(0);
                    for r in rows {
                        println!("{:<w$}  {:<6}  {}", r.provider, r.tail, r.origin);
                    }
                    0
                }
                Err(e) => {
                    eprintln!("switchyard: auth list: {e}");
                    1
                }
            }
        }
        AuthCommand::Remove { provider } => match store.remove(&provider) {
            Ok(gone) if gone.is_empty() => {
                eprintln!("switchyard: auth remove: no key is kept for {provider}");
                if let Some((_, Some(var))) = known.iter().find(|(n, _)| *n == provider)
                    && std::env::var(var).is_ok()
                {
                    eprintln!(
                        "switchyard: (its key comes from {var}, which Switchyard does not change)"
                    );
                }
                1
            }
            Ok(gone) => {
                for o in gone {
                    println!("removed the key for {provider} from {o}");
                }
                0
            }
            Err(e) => {
                eprintln!("switchyard: auth remove: {e}");
                1
            }
        },
    }
}
