//! The JIT's lifecycle under hot reload: compiling and swapping programs
//! while another thread runs packets never disturbs it (every verdict is
//! one of the two programs', never garbage), and the code of a replaced
//! program is freed once the last holder drops it, so memory stays flat
//! across many reloads.

mod common;

use arc_swap::ArcSwap;
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use vm::jit::JitProgram;
use vm::{CmpOp, Final, InputPort, NoTrace, Outcome, Packet, Verdict};

/// A program that gives `verdict` to frames starting with 0x2a and
/// accepts the rest.
fn compiled(verdict: Verdict) -> JitProgram {
    let p = program(vec![base_chain(
        "t/in",
        0,
        vm::Policy::Accept,
        vec![rule(vec![
            load(0, 0, 0, 1),
            cmp(0, CmpOp::Eq, &[0x2a]),
            common::verdict(verdict),
        ])],
    )]);
    JitProgram::compile(&instance(p)).expect("compiles")
}

/// Resident memory of this process, in bytes.
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[test]
fn swapping_programs_under_traffic_gives_only_their_verdicts() {
    let current = Arc::new(ArcSwap::from_pointee(compiled(Verdict::Drop)));
    let stop = Arc::new(AtomicBool::new(false));
    let runner = {
        let (current, stop) = (current.clone(), stop.clone());
        thread::spawn(move || {
            let port = InputPort::unnamed();
            let mut out = Outcome::new();
            let mut runs = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // As the daemon's workers: hold the program for a batch.
                let program = current.load_full();
                for _ in 0..64 {
                    let mut frame = [0x2a, 1, 2, 3];
                    program.run(
                        Packet {
                            frame: &mut frame,
                            port: &port,
                            mark: 0,
                        },
                        &mut out,
                        &mut NoTrace,
                    );
                    assert!(matches!(out.verdict, Final::Drop | Final::Flood));
                    runs += 1;
                }
            }
            runs
        })
    };
    for i in 0..300 {
        let verdict = if i % 2 == 0 {
            Verdict::Flood
        } else {
            Verdict::Drop
        };
        current.store(Arc::new(compiled(verdict)));
    }
    stop.store(true, Ordering::Relaxed);
    let runs = runner.join().expect("the runner never saw a wrong verdict");
    assert!(runs > 0);
}

#[test]
fn replaced_programs_free_their_code() {
    // Warm up allocators and Cranelift's own caches.
    for _ in 0..50 {
        drop(compiled(Verdict::Drop));
    }
    let before = resident();
    for _ in 0..1000 {
        drop(compiled(Verdict::Drop));
    }
    let grown = resident().saturating_sub(before);
    // Leaking each module would hold at least a page of code and one of
    // data per program: 8 MB here.
    assert!(
        grown < 4 << 20,
        "resident memory grew by {grown} bytes over 1000 compile-and-drop cycles"
    );
}
