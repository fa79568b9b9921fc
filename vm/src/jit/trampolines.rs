//! Calls into the runtime that clobber no register of the generated code.
//!
//! Generated code calls the runtime (set lookups, limits, stores, mirrors)
//! only on some paths, but a call with the platform's C convention
//! clobbers every caller-saved register, so the values that live across
//! the whole program (the frame, its length, the header bases and keys)
//! would have to stay in the few callee-saved registers or be spilled to
//! the stack everywhere, hot paths included.
//!
//! Instead, generated code calls a *trampoline* with Cranelift's
//! `preserve_all` convention: the trampoline calls the runtime function
//! with the C convention and restores every register it or the function
//! touched before it returns, so at the call site nothing is clobbered.
//! `preserve_all` has no return values; the trampoline leaves the runtime
//! function's result in [`Context::ret`].
//!
//! The trampolines do not depend on any program: they are compiled once
//! per process, the first time a program is, and live as long as it.

use super::JitError;
use super::codegen::Call;
use super::context::Context;
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature, UserFuncName, types};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};
use std::mem::offset_of;
use std::sync::{Arc, OnceLock};

/// The trampolines' addresses, by [`Call`].
pub(super) struct Trampolines {
    addresses: Vec<i64>,
}

impl Trampolines {
    /// The process's trampolines, compiled on first use for `isa` (the
    /// host's, the same for every program).
    pub(super) fn get(isa: &Arc<dyn TargetIsa>) -> Result<&'static Trampolines, JitError> {
        static TRAMPOLINES: OnceLock<Result<Trampolines, String>> = OnceLock::new();
        TRAMPOLINES
            .get_or_init(|| Trampolines::compile(isa).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| JitError::Codegen(e.clone()))
    }

    /// The address of the trampoline for `call`.
    pub(super) fn address(&self, call: Call) -> i64 {
        self.addresses[call as usize]
    }

    /// The signature generated code calls a trampoline with: the context
    /// and `call`'s parameters, no result.
    pub(super) fn signature(call: Call) -> Signature {
        let mut sig = Signature::new(CallConv::PreserveAll);
        sig.params.push(AbiParam::new(types::I64));
        sig.params
            .extend(call.shape().0.iter().map(|t| AbiParam::new(*t)));
        sig
    }

    fn compile(isa: &Arc<dyn TargetIsa>) -> Result<Trampolines, JitError> {
        let codegen = |e: &dyn std::fmt::Display| JitError::Codegen(format!("trampolines: {e}"));
        let mut module = JITModule::new(JITBuilder::with_isa(isa.clone(), default_libcall_names()));
        let mut ctx = module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let mut ids = Vec::new();
        for (n, &call) in Call::ALL.iter().enumerate() {
            ctx.func.signature = Trampolines::signature(call);
            ctx.func.name = UserFuncName::user(0, n as u32);
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let block = b.create_block();
            b.append_block_params_for_function_params(block);
            b.switch_to_block(block);
            b.seal_block(block);
            let args = b.block_params(block).to_vec();
            let (params, ret) = call.shape();
            let mut sig = Signature::new(isa.default_call_conv());
            sig.params.push(AbiParam::new(types::I64));
            sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
            sig.returns.extend(ret.map(AbiParam::new));
            let sig = b.import_signature(sig);
            let callee = b.ins().iconst(types::I64, call.address());
            let inst = b.ins().call_indirect(sig, callee, &args);
            if let Some(&result) = b.inst_results(inst).first() {
                let result = if b.func.dfg.value_type(result) == types::I64 {
                    result
                } else {
                    b.ins().uextend(types::I64, result)
                };
                let offset = offset_of!(Context, ret) as i32;
                b.ins()
                    .store(MemFlagsData::trusted(), result, args[0], offset);
            }
            b.ins().return_(&[]);
            b.finalize(isa.frontend_config());
            let id = module
                .declare_function(
                    &format!("trampoline{n}"),
                    Linkage::Local,
                    &ctx.func.signature,
                )
                .map_err(|e| codegen(&e))?;
            module
                .define_function(id, &mut ctx)
                .map_err(|e| codegen(&format!("{e:?}")))?;
            module.clear_context(&mut ctx);
            ids.push(id);
        }
        module.finalize_definitions().map_err(|e| codegen(&e))?;
        let addresses = ids
            .into_iter()
            .map(|id| module.get_finalized_function(id) as i64)
            .collect();
        // The trampolines serve every program for the rest of the process.
        std::mem::forget(module);
        Ok(Trampolines { addresses })
    }
}
