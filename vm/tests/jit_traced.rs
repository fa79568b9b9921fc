//! The semantic tests under the Cranelift JIT's traced code (the code
//! `switchctl trace` runs), which must decide exactly as the untraced code.

mod common;

use common::Jit;

engine_tests!(Jit::traced());
