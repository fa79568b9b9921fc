//! Optimisation passes over one rule's instructions, run after lowering.
//!
//! Lowering emits every match on its own: each loads what it needs and
//! checks its own dependencies. The passes then remove what a reader of the
//! listing would call redundant, each pass one idea:
//!
//! - [`load_cse`]: a value already in a register is not loaded or computed
//!   again (a field tested twice is loaded once);
//! - [`dead_values`]: a value nothing reads is not computed, when that
//!   cannot change whether the rule matches;
//! - [`check_cse`]: a check that an earlier check in the rule already
//!   decided is dropped (a dependency proven earlier is not repeated).
//!
//! Both rely on a rule being straight-line code in which any failed check
//! ends the rule: whatever an earlier instruction computed or proved still
//! holds at every later instruction that runs.

pub mod check_cse;
pub mod dead_values;
pub mod load_cse;

use vm::{Insn, Program};

/// Runs every pass, in order, on one rule.
pub fn optimise(insns: &mut Vec<Insn>, program: &Program) {
    load_cse::run(insns, program);
    dead_values::run(insns, program);
    check_cse::run(insns, program);
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm::{BaseId, CmpOp, Reg, Value};

    #[test]
    fn a_masked_field_tested_twice_is_loaded_and_masked_once() {
        let load = |dst: u8| Insn::Load {
            dst: Reg(dst),
            base: BaseId(0),
            offset: 14,
            len: 2,
        };
        let mask = |dst: u8| Insn::Bitwise {
            dst: Reg(dst),
            src: Reg(dst),
            mask: Value(vec![0x0f, 0xff]),
            xor: Value(vec![0, 0]),
        };
        let cmp = |src: u8, v: u8| Insn::Cmp {
            src: Reg(src),
            op: CmpOp::Ne,
            value: Value(vec![0, v]),
        };
        let mut rule = vec![load(0), mask(0), cmp(0, 1), load(1), mask(1), cmp(1, 2)];
        optimise(&mut rule, &Program::default());
        assert_eq!(rule, vec![load(0), mask(0), cmp(0, 1), cmp(0, 2)]);
    }
}
