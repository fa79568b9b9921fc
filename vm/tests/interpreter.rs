//! The semantic tests under the reference interpreter.

mod common;

use common::Interp;

engine_tests!(Interp);
