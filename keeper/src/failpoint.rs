//! Named failpoints for crash tests: deterministic places where a test stops the real `opg`
//! binary (then kills it with SIGKILL) instead of killing it at a random moment.
//!
//! `OPG_FAILPOINTS` (read once per process) is a comma-separated list of `name` or
//! `name=FILE`. When the code reaches an armed point it writes `failpoint <name> reached` to
//! stderr and blocks: with `=FILE` until `FILE` exists (then it goes on), else forever (the
//! test kills the process). Unset (always, outside tests) every [`hit`] is a no-op. Each point
//! fires once per process.
//!
//! Points: `cosmos-before-broadcast` (a signed tx is about to be broadcast for the first time),
//! `cosmos-after-broadcast` (a broadcast was accepted at CheckTx, the retry after a sequence
//! mismatch included; the tx is not yet included and nothing was recorded).
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// `name -> Some(release file) | None (block forever)`; removed once fired.
fn armed() -> &'static Mutex<HashMap<String, Option<PathBuf>>> {
    static ARMED: OnceLock<Mutex<HashMap<String, Option<PathBuf>>>> = OnceLock::new();
    ARMED.get_or_init(|| {
        let spec = std::env::var("OPG_FAILPOINTS").unwrap_or_default();
        Mutex::new(parse(&spec))
    })
}

fn parse(spec: &str) -> HashMap<String, Option<PathBuf>> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.split_once('=') {
            Some((name, file)) => (name.to_string(), Some(PathBuf::from(file))),
            None => (s.to_string(), None),
        })
        .collect()
}

/// Stops here if the failpoint `name` is armed (see the module docs).
pub fn hit(name: &str) {
    let release = {
        let mut armed = armed().lock().unwrap_or_else(|p| p.into_inner());
        if armed.is_empty() {
            return;
        }
        match armed.remove(name) {
            Some(r) => r,
            None => return,
        }
    };
    eprintln!("failpoint {name} reached");
    loop {
        if let Some(file) = &release {
            if file.exists() {
                eprintln!("failpoint {name} released");
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_names_points_and_release_files() {
        let p = parse(" a ,b=/tmp/go,");
        assert_eq!(p.len(), 2);
        assert_eq!(p["a"], None);
        assert_eq!(p["b"], Some(PathBuf::from("/tmp/go")));
        assert!(parse("").is_empty());
    }
}
