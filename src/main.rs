//! The `switchyard` binary: the workbench, `ask`, `models` and `sim`.

use clap::Parser;
use std::io::Read;
use switchyard::cli::{Cli, Command};
use switchyard::{ask, models, source, tui};

fn main() {
    // The isolated PDF reader (`attach::pdf`): a child of our own binary, never a user command.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "extract-pdf")
    {
        std::process::exit(switchyard::attach::pdf::run_child());
    }
    // glibc gives each thread that allocates its own arena and keeps what it frees there, and
    // `malloc_trim` gives back a thread arena's free pages only from its bins, never its top:
    // the history thread's SQLite buffers and a sent PDF's 27 MB request bodies stayed
    // resident. One arena, the main one, which trimming empties (BENCHMARKS.md, 2026-12-02).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called before any other thread exists; only tunes the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        // A fixed threshold: glibc otherwise raises it to the largest block freed, and the panes'
        // growing answers and history's transient buffers then came from the heap, whose freed
        // holes stay resident (10 MB of the 8-pane memory run's peak).
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
    // First: any panic message has every key this process read scrubbed out.
    switchyard::key_store::redact::install_panic_hook();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchyard: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(run(cli));
    // Stream tasks may still hold connections; don't wait for them.
    rt.shutdown_background();
    std::process::exit(code);
}

async fn run(cli: Cli) -> i32 {
    if let Some(Command::Sim(args)) = &cli.command {
        return models::serve_fleet(&cli.source, args).await;
    }
    if let Some(Command::History(h)) = cli.command {
        return switchyard::history_cmd::run(h);
    }
    if let Some(Command::Config(c)) = &cli.command {
        return switchyard::config_cmd::run(c, &cli.source);
    }
    let cfg = match source::load_config(&cli.source) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 2;
        }
    };
    // Unknown keys were left out: said here for headless commands, in the status bar for the
    // workbench.
    if cli.command.is_some() {
        for w in &cfg.warnings {
            eprintln!("switchyard: warning: {w}");
        }
    }
    // The key table in force: the config's [keys] over the built-in one.
    let (keymap, key_problems) = switchyard::app::remap::build(&cfg.keys);
    switchyard::app::keymap::set_active(keymap);
    if let Some(Command::Auth(a)) = cli.command {
        return switchyard::auth_cmd::run(a, &cfg, &switchyard::key_store::KeyStore::open());
    }
    // Panes are for the screen: a headless bake-off may compare more models than fit.
    if cli.models.len() > switchyard::app::state::MAX_PANES
        && !matches!(cli.command, Some(Command::Bakeoff(_)))
    {
        eprintln!(
            "switchyard: {} models named with -m; at most {} panes fit (one model each)",
            cli.models.len(),
            switchyard::app::state::MAX_PANES
        );
        return 2;
    }
    // Settings first: a broken one is refused before anything reaches a server.
    let provider = match cli.routing.preferences() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 2;
        }
    };
    // Presets saved from the routing panel; a damaged file is said once and ignored.
    let presets = match switchyard::preset_store::path() {
        Some(p) => switchyard::preset_store::load(&p).unwrap_or_else(|e| {
            eprintln!("switchyard: {e}");
            Default::default()
        }),
        None => Default::default(),
    };
    let settings = match cli.request.over(&cfg.request).settings_with(
        provider,
        cli.fallbacks.clone(),
        &presets,
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 2;
        }
    };
    let named: Vec<String> = cli.models.iter().chain(&cli.fallbacks).cloned().collect();
    let src = match source::resolve(&cli.source, &cfg, &named).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 2;
        }
    };
    // For the test that a panic never shows a key: panics on purpose holding the source's key.
    if std::env::var_os("SWITCHYARD_TEST_PANIC").is_some()
        && let Some(k) = &src.endpoint.key
    {
        panic!(
            "forced by SWITCHYARD_TEST_PANIC while holding the key {}",
            k.expose()
        );
    }
    let models = if cli.models.is_empty() {
        src.default_models.clone()
    } else {
        cli.models.clone()
    };
    // With Switchyard's router the providers are known: `--only` naming one that serves none of
    // the models would send nothing anywhere, so say it before starting.
    if let (Some(router), Some(only)) = (
        &src.router,
        settings.provider.as_ref().and_then(|p| p.only.as_ref()),
    ) {
        let wanted: Vec<&String> = models.iter().chain(&cli.fallbacks).collect();
        let serving: Vec<_> = router
            .registry
            .iter()
            .map(|(_, e)| e)
            .filter(|e| {
                wanted
                    .iter()
                    .any(|m| **m == e.model || e.canonical.as_deref() == Some(m.as_str()))
            })
            .collect();
        if let Some(bad) = only
            .iter()
            .find(|s| !serving.iter().any(|e| e.matches_slug(s)))
        {
            let mut names: Vec<&str> = serving.iter().map(|e| e.provider_slug.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            eprintln!(
                "switchyard: --only: `{bad}` serves none of {} (providers here: {})",
                wanted
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
            return 2;
        }
    }
    match cli.command {
        Some(Command::Ask(a)) => {
            let mut prompt = a.prompt.join(" ");
            if prompt == "-" {
                prompt.clear();
                if let Err(e) = std::io::stdin().read_to_string(&mut prompt) {
                    eprintln!("switchyard: cannot read the prompt from stdin: {e}");
                    return 2;
                }
            }
            let models = if models.is_empty() {
                eprintln!("switchyard: name a model with -m (this source has no default)");
                return 2;
            } else if cli.models.is_empty() {
                models[..1].to_vec()
            } else {
                models
            };
            let opts = ask::AskOptions {
                models,
                settings,
                prompt,
                json: a.json,
                print_request: a.print_request,
                attach: a.attach.clone(),
                limits: cfg.attachments.limits(),
            };
            ask::run(opts, &src).await
        }
        Some(Command::Models(m)) => models::list(&src, &m).await,
        Some(Command::Bakeoff(b)) => {
            // An earlier report's file, or a bake-off kept in history by its id.
            let resume = match &b.resume {
                None => None,
                Some(p) => match switchyard::bakeoff::run::earlier(p) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        eprintln!("switchyard: --resume {}: {e}", p.display());
                        return 2;
                    }
                },
            };
            let cases = match (&b.cases, b.prompt.is_empty()) {
                (_, _) if resume.is_some() => {
                    let r = resume.as_ref().expect("resume was given");
                    switchyard::bakeoff::cases::Cases {
                        cases: r
                            .cases
                            .iter()
                            .map(|c| switchyard::bakeoff::cases::Case {
                                id: c.id.clone(),
                                prompt: c.prompt.clone(),
                                attachments: c.attachments.iter().map(Into::into).collect(),
                                expected: c.expected.clone(),
                                schema: c.schema.clone(),
                            })
                            .collect(),
                        errors: Vec::new(),
                    }
                }
                (Some(path), _) => match switchyard::bakeoff::cases::read(path) {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("switchyard: --cases {e}");
                        return 2;
                    }
                },
                (None, false) => switchyard::bakeoff::cases::Cases {
                    cases: vec![switchyard::bakeoff::cases::Case {
                        id: "prompt".into(),
                        prompt: b.prompt.join(" "),
                        ..Default::default()
                    }],
                    errors: Vec::new(),
                },
                (None, true) => {
                    eprintln!("switchyard: bakeoff: give --cases FILE or a prompt");
                    return 2;
                }
            };
            // Resuming asks the same models (and judge) as the earlier run.
            let (models, judge) = match &resume {
                Some(r) => (r.models.clone(), r.judge.clone()),
                None => (cli.models.clone(), b.judge.clone()),
            };
            let opts = switchyard::bakeoff::run::BakeoffOptions {
                models,
                settings,
                cases,
                concurrency: usize::from(b.concurrency),
                judge,
                reports: b.report.clone(),
                json: b.json,
                limits: cfg.attachments.limits(),
                history: {
                    let (store, _, note) =
                        switchyard::history_cmd::open_for_workbench(&cfg.history, cli.no_history);
                    if let Some(n) = note {
                        eprintln!("switchyard: {n}");
                    }
                    store
                },
                resume,
            };
            switchyard::bakeoff::run::run(opts, &src).await
        }
        Some(Command::Plan(p)) => {
            if models.is_empty() {
                eprintln!("switchyard: plan needs a model: -m MODEL");
                return 2;
            }
            switchyard::plan_cmd::run(&src, &models, &settings, &p).await
        }
        Some(Command::Sim(_) | Command::History(_) | Command::Auth(_) | Command::Config(_)) => {
            unreachable!("handled above")
        }
        None => {
            let mut models = models;
            if models.is_empty() {
                models = models::first_models(&src, 3).await;
            }
            if models.is_empty() {
                eprintln!(
                    "switchyard: no models to open: pass -m MODEL or set `panes` in the config"
                );
                return 2;
            }
            // The theme before anything is drawn: an unknown name or depth is refused here.
            let depth = match switchyard::theme::ColorDepth::parse(
                cli.colors.as_deref().unwrap_or(&cfg.theme.colors),
            ) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("switchyard: --colors: {e}");
                    return 2;
                }
            };
            let themes_dir = source::config_dir(&cli.source).map(|d| d.join("themes"));
            let (look, theme_warnings) = match switchyard::theme::Look::choose(
                cli.theme.as_deref().unwrap_or(&cfg.theme.name),
                depth,
                themes_dir.as_deref(),
            ) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("switchyard: --theme: {e}");
                    return 2;
                }
            };
            let mut app = switchyard::app::state::App::new(&models, src.label.clone());
            app.theme = look.theme();
            app.look = look;
            // Every start-up problem (the key table's, unknown config keys, broken theme files)
            // is one notice: the first, and how many more `config --check` lists.
            let problems: Vec<String> = key_problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .chain(cfg.warnings.iter().cloned())
                .chain(theme_warnings.iter().map(|w| w.short()))
                .collect();
            if let Some(first) = problems.first() {
                let more = match problems.len() {
                    1 => String::new(),
                    n => format!(" (+{}: config --check)", n - 1),
                };
                app.notify(
                    format!("{first}{more}"),
                    switchyard::app::state::Level::Error,
                );
            }
            // What the panels set last time, under what this command line says.
            let mut damaged = None;
            let saved = match switchyard::settings_store::path() {
                Some(path) => switchyard::settings_store::load(&path).unwrap_or_else(|e| {
                    damaged = Some(e);
                    Default::default()
                }),
                None => Default::default(),
            };
            for p in &mut app.panes {
                let base = saved
                    .models
                    .get(&p.model)
                    .cloned()
                    .unwrap_or_else(|| saved.defaults.clone());
                p.settings = switchyard::settings::overlay_settings(base, settings.clone());
            }
            app.defaults = switchyard::settings::overlay_settings(saved.defaults, settings);
            app.server_kind = src.endpoint.kind;
            app.attach_limits = cfg.attachments.limits();
            app.attach_keep_bytes =
                (cfg.attachments.keep_bytes_up_to_mb.max(0.0) * 1_048_576.0) as u64;
            app.faults = src.fleet.is_some();
            if let Some(e) = damaged {
                app.notify(e, switchyard::app::state::Level::Error);
            }
            app.library.presets = presets;
            if let Some(dir) = switchyard::schema_store::dir() {
                let (files, warnings) = switchyard::schema_store::load_all(&dir);
                app.library.schemas = files;
                if let Some(w) = warnings.first() {
                    app.notify(w.clone(), switchyard::app::state::Level::Error);
                }
            }
            // History: a problem opening it is a message and a run without it, never a refusal.
            let (store, recording, note) =
                switchyard::history_cmd::open_for_workbench(&cfg.history, cli.no_history);
            app.recording = recording;
            if let Some(n) = note {
                app.notify(n, switchyard::app::state::Level::Error);
            }
            // Up / Ctrl+P walk earlier prompts, this run's and the history's.
            if let Some(Ok(p)) = store
                .as_ref()
                .map(|s| s.recent_prompts(switchyard::app::state::MAX_PROMPTS))
            {
                app.prompts = p;
            }
            if cli.continue_last {
                match store.as_ref().map(|s| {
                    s.last().and_then(|u| match u {
                        Some(u) => s.load(&u),
                        None => Ok(None),
                    })
                }) {
                    Some(Ok(Some(conv))) => {
                        let title = conv.title.clone();
                        // The conversation's own panes: the models it was had with.
                        let ignored = if cli.models.is_empty() {
                            ""
                        } else {
                            " (its own panes; -m is not used with -c)"
                        };
                        match app.open_conversation(&conv) {
                            Some(w) => app.notify(w, switchyard::app::state::Level::Error),
                            None => app.notify(
                                format!("continuing “{title}”{ignored}"),
                                switchyard::app::state::Level::Info,
                            ),
                        }
                    }
                    Some(Ok(None)) => app.notify(
                        "-c: no earlier conversation; this is a new one",
                        switchyard::app::state::Level::Info,
                    ),
                    Some(Err(e)) => app.notify(
                        format!("-c: the last conversation could not be read: {e}"),
                        switchyard::app::state::Level::Error,
                    ),
                    None => {}
                }
            }
            match tui::run(app, src, store).await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("switchyard: {e}");
                    1
                }
            }
        }
    }
}
