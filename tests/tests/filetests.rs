//! Runs every file test under `tests/filetests/`, under both engines (see
//! `jitswitch_tests::filetest` for the format). Kernel checks need root and
//! are skipped, with a note, without it.

use jitswitch_tests::engine::Engines;
use jitswitch_tests::filetest::FileTest;
use jitswitch_tests::kernel::{DEVICE, KernelOracle};
use jitswitch_tests::netns::Netns;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchd::config::Engine;
use switchd::engine::Code;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("filetests dir")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "jst") {
            out.push(path);
        }
    }
}

/// The name of the first `netdev` table of a ruleset.
fn table_name(ruleset: &str) -> Option<String> {
    ruleset.lines().find_map(|l| {
        l.trim()
            .strip_prefix("table netdev ")
            .map(|r| r.split_whitespace().next().unwrap_or("").to_string())
    })
}

fn check(path: &Path, oracle: Option<&mut KernelOracle>) -> Result<(), String> {
    let test = FileTest::load(path).map_err(|e| format!("{e:#}"))?;
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let compiled = ruleset::check_str(&name, &test.ruleset)
        .map_err(|d| d.render(false))
        .and_then(|checked| {
            compiler::compile_verified(&checked)
                .map_err(|e| compiler::error::diagnostics(&checked, e).render(false))
        });
    match (&test.error, compiled) {
        (Some(expected), Err(diagnostics)) => {
            if !diagnostics.contains(expected.as_str()) {
                return Err(format!(
                    "expected an error containing {expected:?}, got:\n{diagnostics}"
                ));
            }
            if let (true, Some(oracle)) = (test.kernel, oracle) {
                let rejected = oracle
                    .rejected_lines(&test.ruleset)
                    .map_err(|e| format!("{e:#}"))?;
                if rejected.is_empty() {
                    return Err("nft accepts the ruleset jitswitch refuses".into());
                }
            }
            Ok(())
        }
        (Some(expected), Ok(_)) => Err(format!(
            "expected an error containing {expected:?}, the ruleset compiled"
        )),
        (None, Err(diagnostics)) => Err(diagnostics),
        (None, Ok(verified)) => {
            if test.run {
                let verified = Arc::new(verified);
                for engine in [Engine::Interp, Engine::Jit] {
                    let instance = vm::Instance::new(
                        verified.clone(),
                        Arc::new(vm::runtime::MonotonicClock::new()),
                    );
                    let code = Code::new(engine, Arc::new(instance)).map_err(|e| e.to_string())?;
                    let mut report = Vec::new();
                    let failed = switchd::ctl::test::run_cases(
                        &code,
                        &test.cases.cases,
                        DEVICE,
                        jitswitch_tests::kernel::DEVICE_ADDR,
                        &mut report,
                    )
                    .map_err(|e| format!("{e:#}"))?;
                    if failed > 0 {
                        return Err(format!(
                            "under {engine:?}:\n{}",
                            String::from_utf8_lossy(&report)
                        ));
                    }
                }
            }
            if let (true, Some(oracle)) = (test.kernel, oracle) {
                let table =
                    table_name(&test.ruleset).ok_or("a kernel test needs a netdev table")?;
                oracle
                    .load(&test.ruleset, &table)
                    .map_err(|e| format!("{e:#}"))?;
                let frames = test
                    .cases
                    .cases
                    .iter()
                    .map(|c| c.packet.build().map_err(|e| format!("{}: {e}", c.name)))
                    .collect::<Result<Vec<_>, _>>()?;
                let kernel = oracle.observe(&frames).map_err(|e| format!("{e:#}"))?;
                let ours = Engines::new(&test.ruleset, DEVICE)
                    .map_err(|e| format!("{e:#}"))?
                    .observe(&frames)
                    .map_err(|e| format!("{e:#}"))?;
                for ((case, k), o) in test.cases.cases.iter().zip(kernel).zip(ours) {
                    if k != o {
                        return Err(format!(
                            "case {:?}: the kernel counted {k:?}, jitswitch {o:?}",
                            case.name
                        ));
                    }
                }
            }
            Ok(())
        }
    }
}

#[test]
fn file_tests() {
    let mut paths = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("filetests"),
        &mut paths,
    );
    assert!(!paths.is_empty(), "no file tests found");
    let mut oracle = if Netns::available() {
        Some(KernelOracle::new().expect("kernel oracle"))
    } else {
        eprintln!("note: not root: kernel checks of file tests skipped");
        None
    };
    let mut failures = Vec::new();
    for path in &paths {
        if let Err(e) = check(path, oracle.as_mut()) {
            failures.push(format!("---- {} ----\n{e}", path.display()));
        }
    }
    eprintln!("{} file tests, {} failed", paths.len(), failures.len());
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
