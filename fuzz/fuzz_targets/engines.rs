//! Fuzzes the JIT against the interpreter: the input's bytes drive the
//! random-program generator of the vm's property tests (one byte a
//! choice). Every program it makes must verify, and the interpreter, the
//! JIT and the JIT's traced code must agree on every frame it runs
//! (`run_frames` panics on any difference).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, reason = "the property tests use the rest")]
#[path = "../../vm/tests/common/programs.rs"]
mod programs;

fuzz_target!(|data: &[u8]| {
    let mut g = programs::Gen::from_bytes(data);
    let p = programs::program(&mut g);
    let verified = vm::verify(p.clone()).unwrap_or_else(|e| {
        panic!("generated program refused: {e}\n{}", vm::listing::listing(&p))
    });
    programs::run_frames(verified, &mut g);
});
