//! API keys, never in the clear: looked up in the environment, then the OS keyring, then a
//! 0600 file in the state directory; kept by `switchyard auth set`. A key is a `Secret` from
//! the moment it is read, and every key read is registered with `redact`, which the panic hook
//! and the writers of exports use, so it never reaches a log, a file or a panic message.

use crate::client::Secret;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The keyring service name entries are kept under.
pub const SERVICE: &str = "switchyard";
/// `SWITCHYARD_KEYRING=off` never asks the OS keyring (tests, or a keyring one does not trust).
pub const KEYRING_ENV: &str = "SWITCHYARD_KEYRING";
/// The key file's name in the state directory.
pub const FILE_NAME: &str = "keys.json";
/// The names of providers whose keys Switchyard put in the keyring (a keyring cannot be
/// listed, and only these are asked for).
const INDEX_NAME: &str = "keyring-index.json";
/// How long the keyring may take to answer before the next store is asked.
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);

/// Where a key was found or kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An environment variable.
    Env(String),
    /// The OS keyring.
    Keyring,
    /// The 0600 key file.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Env(v) => write!(f, "environment variable {v}"),
            Origin::Keyring => f.write_str("the OS keyring"),
            Origin::File(p) => write!(f, "{} (mode 0600)", p.display()),
        }
    }
}

/// A secret store Switchyard can ask (the OS keyring, or a fake one in tests).
pub trait Keyring: Send + Sync {
    /// The key kept for `account`, if any.
    fn get(&self, account: &str) -> Result<Option<String>, String>;
    /// Keeps `secret` for `account`.
    fn set(&self, account: &str, secret: &str) -> Result<(), String>;
    /// Forgets `account`'s key; whether there was one.
    fn remove(&self, account: &str) -> Result<bool, String>;
}

/// The platform's keyring: Keychain, Credential Manager, or the Secret Service.
#[cfg(feature = "keyring")]
pub struct OsKeyring;

#[cfg(feature = "keyring")]
impl Keyring for OsKeyring {
    fn get(&self, account: &str) -> Result<Option<String>, String> {
        let entry = keyring::Entry::new(SERVICE, account).map_err(|e| e.to_string())?;
        match entry.get_password() {
            Ok(k) => Ok(Some(k)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
    fn set(&self, account: &str, secret: &str) -> Result<(), String> {
        keyring::Entry::new(SERVICE, account)
            .and_then(|e| e.set_password(secret))
            .map_err(|e| e.to_string())
    }
    fn remove(&self, account: &str) -> Result<bool, String> {
        let entry = keyring::Entry::new(SERVICE, account).map_err(|e| e.to_string())?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Runs a keyring call on its own thread, giving up after `timeout` (a keyring that hangs
/// must not hang Switchyard; the thread is left to finish or not).
fn bounded<T: Send + 'static>(
    timeout: Duration,
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| format!("cannot ask the keyring: {e}"))?;
    rx.recv_timeout(timeout).unwrap_or_else(|_| {
        Err(format!(
            "the keyring did not answer within {} s",
            timeout.as_secs_f64()
        ))
    })
}

/// The 0600 file of keys: `{"provider": "key"}`.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// Where it is.
    pub path: PathBuf,
}

impl KeyFile {
    /// The keys in the file (none when it does not exist). A file others can read is refused
    /// with the `chmod` that fixes it.
    pub fn read(&self) -> Result<Vec<(String, String)>, String> {
        let meta = match std::fs::symlink_metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot read {}: {e}", self.path.display())),
        };
        if !meta.is_file() {
            return Err(format!("{} is not a regular file", self.path.display()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{} can be read by others (mode {mode:04o}), so its keys are not used: run `chmod 600 {}`",
                    self.path.display(),
                    self.path.display()
                ));
            }
        }
        let text = crate::small_file::read(&self.path, 1024 * 1024)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a key file ({e})", self.path.display()))?;
        Ok(map
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
            .collect())
    }

    /// Writes the keys whole, created 0600 before a byte is written, renamed into place.
    pub fn write(&self, keys: &[(String, String)]) -> Result<(), String> {
        let map: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let text = serde_json::to_string_pretty(&map).expect("a map of strings serializes");
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", self.path.display());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let tmp = self
            .path
            .with_extension(format!("json.{}.tmp", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let _ = std::fs::remove_file(&tmp);
        let result = (|| {
            use std::io::Write;
            let mut f = opts.open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        result.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })
    }
}

/// A key found: the secret and where it lives.
#[derive(Debug, Clone)]
pub struct Found {
    /// The key.
    pub key: Secret,
    /// Where it was.
    pub origin: Origin,
}

/// One line of `auth list`: never the key, only where it is and its last four characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The provider.
    pub provider: String,
    /// Where its key is.
    pub origin: Origin,
    /// `…abcd` (`****` for a key too short to show any of).
    pub tail: String,
}

/// The last four characters of a key, for recognising it: `…abcd`.
pub fn tail(key: &str) -> String {
    let n = key.chars().count();
    if n < 12 {
        return "****".into();
    }
    let last: String = key.chars().skip(n - 4).collect();
    format!("…{last}")
}

/// Reads an environment variable.
pub type EnvReader = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The stores keys are looked for in, in order.
pub struct KeyStore {
    /// The OS keyring, unless there is none or it is turned off.
    pub keyring: Option<Arc<dyn Keyring>>,
    /// The 0600 file (none without a state directory).
    pub file: Option<KeyFile>,
    /// How long the keyring may take.
    pub timeout: Duration,
    /// Why there is no keyring, when there is none.
    pub no_keyring: Option<String>,
    /// Reads an environment variable (the real environment, or a test's).
    pub env: EnvReader,
}

impl KeyStore {
    /// This machine's stores: the OS keyring (unless `SWITCHYARD_KEYRING=off` or built
    /// without it) and `keys.json` in the state directory.
    pub fn open() -> Self {
        let off = std::env::var(KEYRING_ENV).is_ok_and(|v| v == "off" || v == "0");
        #[cfg(feature = "keyring")]
        let (keyring, no_keyring): (Option<Arc<dyn Keyring>>, _) = if off {
            (None, Some(format!("{KEYRING_ENV}=off")))
        } else {
            (Some(Arc::new(OsKeyring) as _), None)
        };
        #[cfg(not(feature = "keyring"))]
        let (keyring, no_keyring): (Option<Arc<dyn Keyring>>, _) = {
            let _ = off;
            (None, Some("built without the keyring feature".to_string()))
        };
        KeyStore {
            keyring,
            file: crate::health_store::state_dir().map(|d| KeyFile {
                path: d.join(FILE_NAME),
            }),
            timeout: KEYRING_TIMEOUT,
            no_keyring,
            env: Box::new(|v| std::env::var(v).ok()),
        }
    }

    /// The key of `provider`: `env_var` first (if named and set), then the keyring, then the
    /// file. Problems of a store (a keyring that is absent or hangs) are `notes`, and the next
    /// store is asked; a key file with loose permissions is an error.
    pub fn find(
        &self,
        provider: &str,
        env_var: Option<&str>,
        notes: &mut Vec<String>,
    ) -> Result<Option<Found>, String> {
        if let Some(var) = env_var
            && let Some(v) = (self.env)(var).filter(|v| !v.trim().is_empty())
        {
            return Ok(Some(self.found(v.trim(), Origin::Env(var.to_string()))));
        }
        // Only providers Switchyard put there are asked for: no keyring prompt, unlock or
        // D-Bus activation at start for anyone whose keys live elsewhere.
        if let Some(k) = &self.keyring
            && self.indexed().iter().any(|n| n == provider)
        {
            let (k, p) = (k.clone(), provider.to_string());
            match bounded(self.timeout, move || k.get(&p)) {
                Ok(Some(v)) => return Ok(Some(self.found(&v, Origin::Keyring))),
                Ok(None) => {}
                Err(e) => notes.push(format!("OS keyring: {e}")),
            }
        }
        if let Some(f) = &self.file
            && let Some((_, v)) = f.read()?.into_iter().find(|(p, _)| p == provider)
        {
            return Ok(Some(self.found(&v, Origin::File(f.path.clone()))));
        }
        Ok(None)
    }

    fn found(&self, key: &str, origin: Origin) -> Found {
        redact::register(key);
        Found {
            key: Secret::new(key),
            origin,
        }
    }

    /// Keeps `key` for `provider`: in the keyring when there is one that answers, else in the
    /// file. The second value is a warning to show (the file used for the first time, and why).
    pub fn set(&self, provider: &str, key: &Secret) -> Result<(Origin, Option<String>), String> {
        let mut why = self.no_keyring.clone();
        if let Some(k) = &self.keyring {
            let (k2, p, v) = (k.clone(), provider.to_string(), key.expose().to_string());
            match bounded(self.timeout, move || k2.set(&p, &v)) {
                Ok(()) => {
                    self.index(provider, true);
                    // The same provider's key in the file would be found second; it is stale.
                    self.drop_from_file(provider)?;
                    return Ok((Origin::Keyring, None));
                }
                Err(e) => why = Some(e),
            }
        }
        let f = self
            .file
            .as_ref()
            .ok_or("no OS keyring and no state directory to keep a key file in")?;
        let mut keys = f.read()?;
        // The first key the file holds: the user hears once that keys are kept there.
        let first = keys.is_empty();
        keys.retain(|(p, _)| p != provider);
        keys.push((provider.to_string(), key.expose().to_string()));
        f.write(&keys)?;
        let warning = first.then(|| {
            format!(
                "no OS keyring to keep keys in ({}); keys are kept in {} (mode 0600) instead",
                why.as_deref().unwrap_or("it did not answer"),
                f.path.display()
            )
        });
        Ok((Origin::File(f.path.clone()), warning))
    }

    /// Forgets `provider`'s key in every store that has it; where it was removed from.
    pub fn remove(&self, provider: &str) -> Result<Vec<Origin>, String> {
        let mut gone = Vec::new();
        if let Some(k) = &self.keyring {
            let (k, p) = (k.clone(), provider.to_string());
            if let Ok(true) = bounded(self.timeout, move || k.remove(&p)) {
                gone.push(Origin::Keyring);
            }
            self.index(provider, false);
        }
        if self.drop_from_file(provider)? {
            gone.push(Origin::File(
                self.file
                    .as_ref()
                    .map(|f| f.path.clone())
                    .unwrap_or_default(),
            ));
        }
        Ok(gone)
    }

    fn drop_from_file(&self, provider: &str) -> Result<bool, String> {
        let Some(f) = &self.file else {
            return Ok(false);
        };
        if !f.path.exists() {
            return Ok(false);
        }
        let mut keys = f.read()?;
        let before = keys.len();
        keys.retain(|(p, _)| p != provider);
        if keys.len() == before {
            return Ok(false);
        }
        f.write(&keys)?;
        Ok(true)
    }

    fn index_path(&self) -> Option<PathBuf> {
        self.file
            .as_ref()
            .and_then(|f| f.path.parent().map(|d| d.join(INDEX_NAME)))
    }

    /// The providers whose keys were put in the keyring (names only).
    fn indexed(&self) -> Vec<String> {
        self.index_path()
            .and_then(|p| crate::small_file::read(&p, 64 * 1024).ok())
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn index(&self, provider: &str, present: bool) {
        let Some(path) = self.index_path() else {
            return;
        };
        let mut names = self.indexed();
        names.retain(|n| n != provider);
        if present {
            names.push(provider.to_string());
        }
        names.sort();
        let _ = crate::health_store::write_atomic(
            &path,
            serde_json::to_string(&names).unwrap_or_default().as_bytes(),
        );
    }

    /// Every provider with a key: `known` are (provider, its environment variable) to look at
    /// besides those stored. Where several stores hold one, the one used (the first) is shown.
    pub fn list(
        &self,
        known: &[(String, Option<String>)],
        notes: &mut Vec<String>,
    ) -> Result<Vec<Listed>, String> {
        let mut names: Vec<(String, Option<String>)> = known.to_vec();
        let mut add = |n: String| {
            if !names.iter().any(|(k, _)| *k == n) {
                names.push((n, None));
            }
        };
        for n in self.indexed() {
            add(n);
        }
        if let Some(f) = &self.file {
            for (n, _) in f.read()? {
                add(n);
            }
        }
        let mut out = Vec::new();
        for (provider, var) in names {
            if let Some(found) = self.find(&provider, var.as_deref(), notes)? {
                out.push(Listed {
                    tail: tail(found.key.expose()),
                    provider,
                    origin: found.origin,
                });
            }
        }
        out.sort_by(|a, b| a.provider.cmp(&b.provider));
        Ok(out)
    }
}

/// Every key this process has read, so that what it prints or writes can be scrubbed.
pub mod redact {
    use super::*;

    static KEYS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    /// Remembers a key to scrub (keys shorter than 8 characters are too common to scrub).
    pub fn register(key: &str) {
        let key = key.trim();
        if key.len() < 8 {
            return;
        }
        let mut keys = KEYS.lock().unwrap_or_else(|p| p.into_inner());
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }

    /// `text` with every registered key replaced by `****`.
    pub fn scrub(text: &str) -> String {
        let keys = KEYS.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = text.to_string();
        for k in keys.iter() {
            if out.contains(k.as_str()) {
                out = out.replace(k.as_str(), "****");
            }
        }
        out
    }

    /// A panic hook that prints the panic with every registered key scrubbed (installed first
    /// in `main`; the workbench's hook restores the terminal and then calls this one).
    pub fn install_panic_hook() {
        std::panic::set_hook(Box::new(|info| {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let thread = std::thread::current();
            eprintln!(
                "switchyard panicked{at} (thread {}): {}",
                thread.name().unwrap_or("unnamed"),
                scrub(&msg)
            );
        }));
    }
}

/// Reads a key for `auth set`: without echo from a terminal, or one line from standard input
/// when it is not one. Empty input is an error.
pub fn read_key(prompt: &str) -> Result<Secret, String> {
    use std::io::{BufRead, IsTerminal, Read, Write};
    let stdin = std::io::stdin();
    let mut line = String::new();
    if stdin.is_terminal() {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let _echo = NoEcho::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the key: {e}"))?;
    } else {
        stdin
            .lock()
            .take(64 * 1024)
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the key from standard input: {e}"))?;
    }
    let key = line.trim();
    if key.is_empty() {
        return Err("no key given (an empty line)".into());
    }
    if key.chars().any(char::is_control) || key.contains(' ') {
        return Err("a key is one word of printable characters".into());
    }
    Ok(Secret::new(key))
}

/// Terminal echo off while alive (restored on drop, even on an error).
struct NoEcho {
    #[cfg(unix)]
    saved: Option<libc::termios>,
}

impl NoEcho {
    fn new() -> Self {
        #[cfg(unix)]
        {
            // SAFETY: tcgetattr/tcsetattr on stdin with a zeroed termios they fill in.
            unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(0, &mut t) != 0 {
                    return NoEcho { saved: None };
                }
                let saved = t;
                t.c_lflag &= !libc::ECHO;
                t.c_lflag |= libc::ECHONL;
                libc::tcsetattr(0, libc::TCSANOW, &t);
                NoEcho { saved: Some(saved) }
            }
        }
        #[cfg(not(unix))]
        NoEcho {}
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(t) = self.saved {
            // SAFETY: restoring the settings read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A keyring in memory, that can be made absent or slow.
    #[derive(Default)]
    struct Fake {
        keys: Mutex<HashMap<String, String>>,
        absent: bool,
        hang: bool,
    }

    impl Keyring for Fake {
        fn get(&self, a: &str) -> Result<Option<String>, String> {
            if self.hang {
                std::thread::sleep(Duration::from_secs(5));
            }
            if self.absent {
                return Err("no secret service".into());
            }
            Ok(self.keys.lock().unwrap().get(a).cloned())
        }
        fn set(&self, a: &str, s: &str) -> Result<(), String> {
            if self.hang {
                std::thread::sleep(Duration::from_secs(5));
            }
            if self.absent {
                return Err("no secret service".into());
            }
            self.keys.lock().unwrap().insert(a.into(), s.into());
            Ok(())
        }
        fn remove(&self, a: &str) -> Result<bool, String> {
            if self.absent {
                return Err("no secret service".into());
            }
            Ok(self.keys.lock().unwrap().remove(a).is_some())
        }
    }

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sy-keys-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn store(d: &std::path::Path, ring: Option<Fake>, env: &[(&str, &str)]) -> KeyStore {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        KeyStore {
            keyring: ring.map(|r| Arc::new(r) as Arc<dyn Keyring>),
            file: Some(KeyFile {
                path: d.join(FILE_NAME),
            }),
            timeout: Duration::from_millis(300),
            no_keyring: None,
            env: Box::new(move |v| env.get(v).cloned()),
        }
    }

    const KEY: &str = "sk-or-v1-0123456789abcdef";

    #[test]
    fn the_environment_then_the_keyring_then_the_file() {
        let d = dir("order");
        let s = store(&d, Some(Fake::default()), &[]);
        let mut notes = Vec::new();
        assert!(
            s.find("openrouter", Some("OPENROUTER_API_KEY"), &mut notes)
                .unwrap()
                .is_none()
        );
        let (origin, warning) = s.set("openrouter", &Secret::new(KEY)).unwrap();
        assert_eq!((origin, warning), (Origin::Keyring, None));
        let f = s
            .find("openrouter", Some("OPENROUTER_API_KEY"), &mut notes)
            .unwrap()
            .unwrap();
        assert_eq!((f.key.expose(), f.origin), (KEY, Origin::Keyring));
        assert!(!d.join(FILE_NAME).exists(), "the keyring had it: no file");
        // The environment wins over both.
        let s = KeyStore {
            env: Box::new(|v| {
                (v == "OPENROUTER_API_KEY").then(|| "sk-from-env-000000".to_string())
            }),
            ..s
        };
        let f = s
            .find("openrouter", Some("OPENROUTER_API_KEY"), &mut notes)
            .unwrap()
            .unwrap();
        assert_eq!(f.origin, Origin::Env("OPENROUTER_API_KEY".into()));
        // Listed by name with the key's tail, never the key.
        let listed = s.list(&[("openrouter".into(), None)], &mut notes).unwrap();
        assert_eq!(listed[0].origin, Origin::Keyring);
        assert_eq!(listed[0].tail, "…cdef");
        assert_eq!(s.remove("openrouter").unwrap(), [Origin::Keyring]);
        assert!(s.find("openrouter", None, &mut notes).unwrap().is_none());
        assert!(notes.is_empty(), "{notes:?}");
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn without_a_keyring_the_file_is_0600_and_said_once() {
        let d = dir("file");
        let s = store(
            &d,
            Some(Fake {
                absent: true,
                ..Default::default()
            }),
            &[],
        );
        let (origin, warning) = s.set("openrouter", &Secret::new(KEY)).unwrap();
        assert_eq!(origin, Origin::File(d.join(FILE_NAME)));
        let w = warning.expect("the first time is said");
        assert!(w.contains("no secret service") && w.contains("0600"), "{w}");
        let (_, again) = s.set("local", &Secret::new("another-key-123456")).unwrap();
        assert_eq!(again, None, "only the first time");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut notes = Vec::new();
        let f = s.find("openrouter", None, &mut notes).unwrap().unwrap();
        assert_eq!(f.key.expose(), KEY);
        assert!(
            notes.is_empty(),
            "the keyring never held it, so is not asked: {notes:?}"
        );
        assert_eq!(
            s.remove("local").unwrap(),
            [Origin::File(d.join(FILE_NAME))]
        );
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    #[cfg(unix)]
    fn a_key_file_others_can_read_is_refused_with_the_chmod() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("loose");
        let s = store(&d, None, &[]);
        s.set("openrouter", &Secret::new(KEY)).unwrap();
        let p = d.join(FILE_NAME);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = s.find("openrouter", None, &mut Vec::new()).unwrap_err();
        assert!(e.contains(&format!("chmod 600 {}", p.display())), "{e}");
        assert!(e.contains("0644"), "{e}");
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn a_keyring_that_hangs_times_out_and_the_file_answers() {
        let d = dir("hang");
        let plain = store(&d, None, &[]);
        plain.set("openrouter", &Secret::new(KEY)).unwrap();
        // As if an earlier `auth set` had put it in the keyring too.
        plain.index("openrouter", true);
        let s = store(
            &d,
            Some(Fake {
                hang: true,
                ..Default::default()
            }),
            &[],
        );
        let mut notes = Vec::new();
        let f = s.find("openrouter", None, &mut notes).unwrap().unwrap();
        assert_eq!(f.origin, Origin::File(d.join(FILE_NAME)));
        assert!(notes[0].contains("did not answer"), "{notes:?}");
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn keys_read_are_scrubbed_from_text() {
        let d = dir("scrub");
        let s = store(&d, None, &[("K", "sk-scrub-me-please-42")]);
        s.find("x", Some("K"), &mut Vec::new()).unwrap();
        assert_eq!(
            redact::scrub("bad sk-scrub-me-please-42 here"),
            "bad **** here"
        );
        assert_eq!(tail("short"), "****");
    }
}
