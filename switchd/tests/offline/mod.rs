//! Helpers of the tests of `switchctl`'s offline commands (`check`,
//! `trace`, `test`): running the binary, files in a temporary directory,
//! paths in the repository.
//!
//! Each test binary uses some of them.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `switchctl` with `args` and collects its output.
pub fn switchctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchctl"))
        .args(args)
        .output()
        .expect("run switchctl")
}

/// Writes `text` to the file `name` in this test process's temporary
/// directory and returns its path.
pub fn temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchctl-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The path of `path`, relative to the repository's root.
pub fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

/// A ruleset that drops frames sent to the input port's own link address
/// (`meta pkttype host`), written to the temporary directory.
pub fn pkttype_host_ruleset() -> String {
    temp(
        "pkttype.nft",
        "table netdev t {\n  chain c {\n    type filter hook ingress priority 0; policy accept;\n    \
         meta pkttype host counter drop\n  }\n}\n",
    )
    .display()
    .to_string()
}
