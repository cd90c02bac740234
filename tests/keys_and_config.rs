//! `switchyard auth` and `switchyard config`, run as a user runs them from a fresh home: a key
//! kept by `auth set` reaches a server that demands it and nothing else (no other file, no
//! `--print-request`, no panic message); config files checked with every error located.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const KEY: &str = "sk-test-7c1d9e0f5a2b4c6d8e0f1a2b3c4d";

/// A fleet that answers only requests bearing `KEY`.
const FLEET: &str = r#"
seed = 3
api_key = "sk-test-7c1d9e0f5a2b4c6d8e0f1a2b3c4d"
[[providers]]
name = "Solo"
slug = "solo"
[[providers.models]]
id = "m/one"
prompt_price = 0.1
completion_price = 0.1
answer_tokens = 40
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 4000 }
"#;

/// A fresh home: config, state (and so the key file and history) all under one directory.
struct Home {
    dir: PathBuf,
}

impl Home {
    fn new(config: &str) -> Home {
        let dir = common::fresh_state_dir();
        std::fs::create_dir_all(dir.join("cfg/switchyard")).unwrap();
        std::fs::write(dir.join("cfg/switchyard/config.toml"), config).unwrap();
        Home { dir }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        c.env_remove("OPENROUTER_API_KEY")
            .env_remove("NO_COLOR")
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("cfg"))
            .env("SWITCHYARD_STATE_DIR", self.dir.join("state"))
            // The OS keyring is not this test's to write in: keys go to the 0600 file.
            .env("SWITCHYARD_KEYRING", "off");
        c
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Sim {
    child: Child,
    base: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sim(dir: &Path) -> Sim {
    let fleet = dir.join("fleet.toml");
    std::fs::write(&fleet, FLEET).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--fleet")
        .arg(&fleet)
        .args(["sim", "--port", "0"])
        .env_remove("OPENROUTER_API_KEY")
        .env("SWITCHYARD_STATE_DIR", dir.join("sim-state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    lines.read_line(&mut banner).unwrap();
    let api = banner
        .split_whitespace()
        .last()
        .expect("a banner")
        .to_string();
    let addr = api.trim_end_matches("/api/v1").to_string();
    Sim {
        child,
        base: format!("{addr}/p/solo/v1"),
    }
}

/// Every file under `dir` (recursively), with its bytes.
fn files(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p, b));
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_key_kept_by_auth_set_reaches_the_server_and_nothing_else() {
    let probe = common::fresh_state_dir();
    std::fs::create_dir_all(&probe).unwrap();
    let s = sim(&probe);
    let config = format!(
        "[[providers]]\nname = \"simfleet\"\nkind = \"openai\"\nbase_url = \"{}\"\n",
        s.base
    );
    let home = Home::new(&config);
    let ask = ["--provider", "simfleet", "ask", "-m", "m/one", "Say hello"];

    // Without a key the server refuses: the control.
    let out = home.run(&ask, "");
    assert!(!out.status.success(), "no key, no answer");
    assert!(
        text(&out.stderr).contains("401") || text(&out.stdout).contains("401"),
        "{}",
        text(&out.stderr)
    );

    // `auth set` reads one line from standard input (not a terminal here).
    let out = home.run(&["auth", "set", "simfleet"], &format!("{KEY}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout) + &text(&out.stderr);
    assert!(said.contains("…3c4d"), "{said}");
    assert!(said.contains("keys.json"), "where it went: {said}");
    assert!(
        said.contains("warning") && said.contains("0600"),
        "the file is said the first time: {said}"
    );
    assert!(!said.contains(KEY), "{said}");
    let key_file = home.dir.join("state/keys.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is the user's alone");
    }

    // `auth list`: where and the last four, never the key.
    let out = home.run(&["auth", "list"], "");
    assert!(out.status.success());
    let listed = text(&out.stdout);
    assert!(
        listed.contains("simfleet") && listed.contains("…3c4d") && listed.contains("keys.json"),
        "{listed}"
    );
    assert!(!listed.contains(KEY));

    // Now the server answers: the key went in the Authorization header.
    let out = home.run(&ask, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).is_empty());
    for o in [&out.stdout, &out.stderr] {
        assert!(!contains(o, KEY.as_bytes()));
    }

    // `--print-request` shows the header masked, on stderr; the body alone on stdout.
    let out = home.run(
        &[
            "--provider",
            "simfleet",
            "ask",
            "--print-request",
            "-m",
            "m/one",
            "hi",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Authorization: Bearer ****"),
        "{}",
        text(&out.stderr)
    );
    let _: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the body");
    for o in [&out.stdout, &out.stderr] {
        assert!(!contains(o, KEY.as_bytes()));
    }

    // A panic while the key is held shows it masked.
    let out = home
        .cmd()
        .env("SWITCHYARD_TEST_PANIC", "1")
        .args(ask)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("SWITCHYARD_TEST_PANIC") && err.contains("****"),
        "{err}"
    );
    assert!(!err.contains(KEY), "{err}");

    // A bake-off keeps history and writes a report.
    let report = home.dir.join("report.json");
    let out = home.run(
        &[
            "--provider",
            "simfleet",
            "bakeoff",
            "-m",
            "m/one",
            "--report",
            report.to_str().unwrap(),
            "Say hello",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // No file Switchyard wrote holds the key but the key file (history, health, reports…).
    let mut all = Vec::new();
    files(&home.dir, &mut all);
    assert!(
        all.iter()
            .any(|(p, _)| p.to_string_lossy().contains("history")),
        "history was written: {:?}",
        all.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    for (path, bytes) in &all {
        if path == &key_file {
            assert!(contains(bytes, KEY.as_bytes()));
            continue;
        }
        assert!(
            !contains(bytes, KEY.as_bytes()),
            "the key is in {}",
            path.display()
        );
    }

    // `auth remove` forgets it; the server refuses again.
    let out = home.run(&["auth", "remove", "simfleet"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!home.run(&ask, "").status.success());
}

#[test]
#[cfg(unix)]
fn a_key_file_others_can_read_is_refused_with_the_chmod_to_run() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new("");
    let out = home.run(&["auth", "set", "openrouter"], &format!("{KEY}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key_file = home.dir.join("state/keys.json");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = home.run(&["ask", "--print-request", "-m", "a/b", "hi"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("chmod 600 {}", key_file.display())),
        "{err}"
    );
    // An empty line is refused and keeps nothing.
    let out = home.run(&["auth", "set", "other"], "\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no key given"));
}

#[test]
fn config_print_default_is_a_file_config_check_passes() {
    let home = Home::new("");
    let out = home.run(&["config", "--print-default"], "");
    assert!(out.status.success());
    let default = text(&out.stdout);
    assert!(default.contains("[theme]") && default.contains("name = \"auto\""));
    let file = home.dir.join("copy.toml");
    std::fs::write(&file, &default).unwrap();
    let out = home.run(&["config", "--check", file.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no errors"));
    // --path in a fresh home: where it would be, and that it is not there.
    let fresh = Home {
        dir: common::fresh_state_dir(),
    };
    let out = fresh.run(&["config", "--path"], "");
    assert!(out.status.success());
    let p = text(&out.stdout);
    assert!(
        p.contains("switchyard/config.toml") && p.contains("not there"),
        "{p}"
    );
    assert!(p.contains("themes"), "{p}");
}

#[test]
fn config_check_names_every_error_with_file_line_and_field_and_exits_2() {
    let home = Home::new("");
    let check = |body: &str| {
        let file = home.dir.join("c.toml");
        std::fs::write(&file, body).unwrap();
        let out = home.run(&["config", "--check", file.to_str().unwrap()], "");
        (out.status.code(), text(&out.stderr), text(&out.stdout))
    };
    // Syntax.
    let (code, err, _) = check("panes = [\"a\"\n[theme\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("c.toml, line "), "{err}");
    // Wrong types, two of them, both named.
    let (code, err, _) =
        check("[history]\nenabled = \"yes\"\n[attachments]\nmax_file_mb = \"big\"\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("line 2") && err.contains("line 4"), "{err}");
    assert!(err.contains("2 errors"), "{err}");
    // An unknown key: a warning with the nearest, not an error.
    let (code, err, out) = check("[theme]\nnmae = \"dark\"\n");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("warning") && err.contains("line 2") && err.contains("did you mean `name`"),
        "{err}"
    );
    assert!(out.contains("1 warning"), "{out}");
    // A theme that does not exist, and a profile that breaks what it lays over.
    let (code, err, _) =
        check("[theme]\nname = \"solarised\"\n[profiles.fast.routing]\nmax_attempts = 0\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("theme.name") && err.contains("no theme named `solarised`"),
        "{err}"
    );
    assert!(
        err.contains("with profile `fast`") && err.contains("max_attempts"),
        "{err}"
    );
}

#[test]
fn an_unknown_profile_or_theme_is_refused_before_anything_runs() {
    let home = Home::new("[profiles.work]\npanes = [\"a/b\"]\n");
    let out = home.run(&["--profile", "wrok", "ask", "-m", "a/b", "hi"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `work`"),
        "{}",
        text(&out.stderr)
    );
    let out = home.run(&["--theme", "nope", "--sim"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no theme named `nope`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn config_check_reports_conflicting_and_unknown_bindings_at_their_lines() {
    let home = Home::new("");
    let file = home.dir.join("keys.toml");
    std::fs::write(
        &file,
        "[keys.workbench]\nretry = \"f11\"\nzoom = \"f11\"\nzooom = \"f2\"\n[keys.any]\nquit = []\n",
    )
    .unwrap();
    let out = home.run(&["config", "--check", file.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    // Both places of the conflict are named, at the later one's line.
    assert!(
        err.contains("keys.workbench.retry")
            && err.contains("keys.workbench.zoom")
            && err.contains("F11"),
        "{err}"
    );
    assert!(err.contains("line 3"), "{err}");
    assert!(
        err.contains("line 4") && err.contains("did you mean `zoom`"),
        "{err}"
    );
    // Quit left without a key is a warning that says how to quit.
    assert!(
        err.contains("warning") && err.contains("Ctrl+Q quits"),
        "{err}"
    );
}
