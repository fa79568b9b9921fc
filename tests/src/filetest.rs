//! File tests for the compiler, in the spirit of nftables' `tests/py` and
//! Cranelift's filetests: one `.jst` file holds a ruleset, the packets it is
//! tried with and what must happen to them.
//!
//! ```text
//! # What the file pins, in prose.
//! # test: run kernel
//! table netdev t {
//!   chain c {
//!     type filter hook ingress device "jsw0" priority 0; policy accept;
//!     tcp dport 22 counter drop
//!   }
//! }
//! #--- cases
//! (cases: [
//!     (name: "ssh", packet: Fields((ip: (), tcp: (dport: 22))), expect: (verdict: "drop", rule: 0)),
//! ])
//! ```
//!
//! Everything above `#--- cases` is an nft file as it stands; below is a
//! case file (`switchd::cases`). Directives, in `# test:` lines:
//!
//! - `run`: every case runs under every engine and must meet its
//!   expectations;
//! - `kernel`: the ruleset is also loaded into the kernel's nf_tables and,
//!   for every case, each rule (all carry a `counter`) must count the packet
//!   exactly when jitswitch's does;
//! - `error TEXT`: the ruleset must be refused with a diagnostic containing
//!   TEXT (with `kernel`, nft must refuse it too).

use anyhow::{Context, Result, bail};
use std::path::Path;
use switchd::cases::CaseFile;

/// The separator between the ruleset and the cases.
pub const CASES_MARK: &str = "#--- cases";

/// A parsed `.jst` file.
#[derive(Debug)]
pub struct FileTest {
    /// The ruleset, as an nft file.
    pub ruleset: String,
    /// The cases (empty when the file has none).
    pub cases: CaseFile,
    /// `# test: run`.
    pub run: bool,
    /// `# test: kernel`.
    pub kernel: bool,
    /// `# test: error TEXT`.
    pub error: Option<String>,
}

impl FileTest {
    /// Reads and splits a file test.
    pub fn load(path: &Path) -> Result<FileTest> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let (ruleset, cases) = match text.split_once(CASES_MARK) {
            Some((r, c)) => (r.to_string(), c.to_string()),
            None => (text.clone(), "(cases: [])".to_string()),
        };
        let mut test = FileTest {
            cases: CaseFile::parse(&cases)
                .with_context(|| format!("{}: the cases", path.display()))?,
            ruleset,
            run: false,
            kernel: false,
            error: None,
        };
        for directive in text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("# test:"))
        {
            let mut words = directive.split_whitespace();
            while let Some(word) = words.next() {
                match word {
                    "run" => test.run = true,
                    "kernel" => test.kernel = true,
                    "error" => {
                        test.error = Some(words.by_ref().collect::<Vec<_>>().join(" "));
                    }
                    other => bail!("{}: unknown directive {other:?}", path.display()),
                }
            }
        }
        Ok(test)
    }
}
