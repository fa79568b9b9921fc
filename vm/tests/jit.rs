//! The semantic tests under the Cranelift JIT (untraced code).

mod common;

use common::Jit;

engine_tests!(Jit::default());
