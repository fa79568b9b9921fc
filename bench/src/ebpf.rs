//! `examples/rulesets/edge.nft` as an eBPF program for the `rbpf` crate:
//! the peer VM the JIT is measured against (its interpreter and its x86-64
//! JIT run the same program).
//!
//! Written as an eBPF author would without maps (rbpf has none): the sets
//! and the verdict map as compares, the port as a number in the metadata
//! buffer, the counters and the rate limits as helper calls
//! ([`register_helpers`]: [`COUNT`] and [`LIMIT`], on the runtime's
//! counters and the hand-written function's token buckets, as a kernel eBPF
//! program calls into the kernel for maps and locks). The mirror is a bit in
//! the return value, as in [`crate::native`]. Parsing is that of
//! [`crate::native`]. `tests/baselines.rs` checks its decisions and writes
//! against the hand-written function.
//!
//! The program reads its metadata buffer as `[data, data_end, port]`
//! (three little-endian `u64`s; `port` 1, 2, 3 for veth1..3, 0 otherwise)
//! and returns `verdict | rule << 8 | chain << 16 | mirrored << 24 |
//! mark << 32`, with rule 0xff for the policy; a counting rule jumps to
//! `counted` with its counter in r1 and that value in r0. Jumps are written to
//! labels (`@name`) and resolved here, since rbpf's assembler takes
//! offsets.

use crate::native::{Decider, Decision, Edge, Port, Verdict};
use std::sync::LazyLock;
use vm::runtime::SpinLock;

/// Helper `COUNT(counter, bytes)`: counts a packet of `bytes` bytes on the
/// counter of that index ([`crate::native::counter`]).
pub const COUNT: u32 = 1;
/// Helper `LIMIT(limit)`: 1 when a packet is over rate limit 0 (pings) or 1
/// (SYNs), else 0.
pub const LIMIT: u32 = 2;

/// The state the helpers work on, shared by every run as a kernel
/// program's maps are; the token buckets behind a spin lock, as a kernel
/// program would keep them under `bpf_spin_lock` (and as jitswitch's
/// limiters are).
static STATE: LazyLock<(Edge, SpinLock<crate::native::Limits>)> =
    LazyLock::new(|| (Edge::default(), SpinLock::new(Default::default())));

fn count(counter: u64, bytes: u64, _: u64, _: u64, _: u64) -> u64 {
    if let Some(c) = STATE.0.counters.get(counter as usize) {
        c.add(bytes);
    }
    0
}

fn limit(which: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    u64::from(STATE.1.with(|limits| {
        if which == 0 {
            limits.ping_over()
        } else {
            limits.syn_over()
        }
    }))
}

/// Registers [`COUNT`] and [`LIMIT`] with `vm` (before its JIT compiles).
pub fn register_helpers(vm: &mut rbpf::EbpfVmMbuff<'_>) {
    vm.register_helper(COUNT, count).expect("helper COUNT");
    vm.register_helper(LIMIT, limit).expect("helper LIMIT");
}

/// The counters the helpers have counted on.
pub fn counters() -> &'static [vm::runtime::Counter; 6] {
    &STATE.0.counters
}

/// The program text; `name:` lines are labels, `@name` jump targets.
const PROGRAM: &str = "
    ldxdw r6, [r1+0]
    ldxdw r7, [r1+8]
    ldxdw r8, [r1+16]
    mov64 r0, 0
    stxdw [r10-8], r0
    stxdw [r10-16], r0
    stxdw [r10-24], r0
    stxdw [r10-40], r0
    stxdw [r10-48], r0
    mov64 r2, r6
    add64 r2, 14
    jgt r2, r7, @policy
    ldxh r3, [r6+12]
    be16 r3
    jeq r3, 0x0806, @rule0
    jeq r3, 0x88cc, @rule1
    mov64 r4, r3
    mov64 r9, r6
    add64 r9, 14
    mov64 r5, 0
    jeq r4, 0x8100, @tag1
    jeq r4, 0x88a8, @tag1
    ja @parsed
tag1:
    mov64 r2, r9
    add64 r2, 4
    jgt r2, r7, @noip
    mov64 r5, r9
    ldxh r4, [r9+2]
    be16 r4
    add64 r9, 4
    jeq r4, 0x8100, @tag2
    jeq r4, 0x88a8, @tag2
    ja @parsed
tag2:
    mov64 r2, r9
    add64 r2, 4
    jgt r2, r7, @noip
    ldxh r4, [r9+2]
    be16 r4
    add64 r9, 4
parsed:
    jeq r4, 0x0800, @ip4
    jeq r4, 0x86dd, @ip6
    ja @noip
ip6:
    mov64 r2, r9
    add64 r2, 41
    jgt r2, r7, @noip
    ldxb r2, [r9+6]
    jne r2, 58, @noip
    mov64 r2, r9
    add64 r2, 41
    jgt r2, r7, @noip
    ldxb r2, [r9+40]
    jlt r2, 133, @noip
    jgt r2, 136, @noip
    ja @rule2
ip4:
    mov64 r2, r9
    add64 r2, 20
    jgt r2, r7, @noip
    ldxb r2, [r9+0]
    mov64 r3, r2
    rsh64 r3, 4
    jne r3, 4, @noip
    and64 r2, 0x0f
    lsh64 r2, 2
    jlt r2, 20, @noip
    stxdw [r10-24], r2
    ldxw r3, [r9+12]
    be32 r3
    stxdw [r10-8], r3
    ldxw r3, [r9+16]
    be32 r3
    stxdw [r10-16], r3
    ldxh r3, [r9+6]
    be16 r3
    and64 r3, 0x1fff
    mov64 r0, 0
    jne r3, 0, @have_ip
    ldxb r0, [r9+9]
    mov64 r3, r9
    add64 r3, r2
    stxdw [r10-32], r3
have_ip:
    stxdw [r10-40], r0
    ldxdw r3, [r10-8]
    jne r8, 1, @not_veth1
    rsh64 r3, 16
    jne r3, 0x0a0a, @rule3
    ldxdw r3, [r10-8]
not_veth1:
    jne r8, 2, @not_veth2
    rsh64 r3, 16
    jne r3, 0x0a14, @rule4
    ldxdw r3, [r10-8]
not_veth2:
    mov64 r2, r3
    rsh64 r2, 8
    jeq r2, 0xc00002, @rule5
    jeq r2, 0xc63364, @rule5
    lddw r4, 0xcb007107
    jeq r3, r4, @rule5
    ldxdw r3, [r10-16]
    mov64 r2, r3
    rsh64 r2, 8
    jeq r2, 0xc00002, @rule6
    jeq r2, 0xc63364, @rule6
    jeq r3, r4, @rule6
vlan_rules:
    jeq r8, 1, @rule7_check
    jeq r8, 2, @rule7_check
    ja @rule8_check
rule7_check:
    ldxh r3, [r6+12]
    be16 r3
    jeq r3, 0x8100, @rule7
rule8_check:
    jne r8, 3, @limits
    jeq r5, 0, @limits
    ldxh r3, [r5+0]
    be16 r3
    and64 r3, 0x0fff
    jeq r3, 30, @rule8
limits:
    ldxdw r0, [r10-40]
    jne r0, 1, @limit_syn
    ldxdw r2, [r10-32]
    mov64 r3, r2
    add64 r3, 1
    jgt r3, r7, @rule11
    ldxb r3, [r2+0]
    jne r3, 8, @rule11
    mov64 r1, 0
    call 2
    jne r0, 0, @rule9
    ja @rule11
limit_syn:
    jne r0, 6, @rule11
    ldxdw r2, [r10-32]
    mov64 r3, r2
    add64 r3, 14
    jgt r3, r7, @rule11
    ldxb r3, [r2+13]
    and64 r3, 0x12
    jne r3, 0x02, @rule11
    mov64 r1, 1
    call 2
    jne r0, 0, @rule10
rule11:
    ldxdw r0, [r10-40]
    jne r0, 17, @rule13
    ldxdw r2, [r10-32]
    mov64 r3, r2
    add64 r3, 4
    jgt r3, r7, @rule14
    ldxh r3, [r2+2]
    be16 r3
    jne r3, 53, @rule12
    ldxdw r2, [r10-16]
    jeq r2, 0x0a0a0035, @rule11_hit
    jeq r2, 0x0a140035, @rule11_hit
    ja @rule12
rule12:
    jlt r3, 5060, @rule14
    jgt r3, 5061, @rule14
    ja @rule12_hit
rule13:
    jne r0, 6, @rule14
    ldxdw r2, [r10-32]
    mov64 r3, r2
    add64 r3, 4
    jgt r3, r7, @rule14
    ldxh r3, [r2+2]
    be16 r3
    stxdw [r10-48], r3
    ldxdw r2, [r10-16]
    jne r2, 0x0a0a0050, @rule13_admin
    jeq r3, 80, @rule13_hit
    jeq r3, 443, @rule13_hit
    ja @rule14
rule13_admin:
    jne r2, 0x0a0a0016, @rule14
    jne r3, 22, @rule14
    ldxdw r2, [r10-8]
    rsh64 r2, 8
    jeq r2, 0x0a0a00, @admin0
    ja @admin2
rule14:
    ldxdw r2, [r10-16]
    rsh64 r2, 8
    jeq r2, 0x0a6300, @rule14_hit
    ja @rule15
noip:
    mov64 r0, 0
    stxdw [r10-40], r0
    ja @vlan_rules
rule15:
    ldxw r2, [r6+0]
    lddw r3, 0xffffffff
    jne r2, r3, @rule16
    ldxh r2, [r6+4]
    jeq r2, 0xffff, @rule15_hit
rule16:
    ldxdw r0, [r10-40]
    jne r0, 6, @policy
    ldxdw r3, [r10-48]
    jeq r3, 22, @rule16_hit
    jeq r3, 23, @rule16_hit
    jeq r3, 3389, @rule16_hit
policy:
    mov64 r0, 0xff00
    exit
counted:
    stxdw [r10-56], r0
    mov64 r2, r7
    sub64 r2, r6
    call 1
    ldxdw r0, [r10-56]
    exit
rule0:
    mov64 r0, 0x0000
    exit
rule1:
    mov64 r0, 0x0101
    exit
rule2:
    mov64 r0, 0x0200
    exit
rule3:
    mov64 r1, 0
    mov64 r0, 0x0301
    ja @counted
rule4:
    mov64 r1, 1
    mov64 r0, 0x0401
    ja @counted
rule5:
    mov64 r1, 2
    mov64 r0, 0x0501
    ja @counted
rule6:
    mov64 r1, 3
    mov64 r0, 0x0601
    ja @counted
rule7:
    mov64 r0, 0x0701
    exit
rule8:
    ldxb r2, [r5+0]
    and64 r2, 0x1f
    or64 r2, 0xa0
    stxb [r5+0], r2
    mov64 r0, 0x0800
    exit
rule9:
    mov64 r0, 0x0901
    exit
rule10:
    mov64 r0, 0x0a01
    exit
rule11_hit:
    mov64 r0, 0x1000000
    or64 r0, 0x0b00
    exit
rule12_hit:
    ldxb r2, [r9+1]
    mov64 r3, r2
    and64 r3, 0x03
    or64 r3, 0x60
    stxb [r9+1], r3
    ldxh r4, [r9+10]
    be16 r4
    xor64 r4, 0xffff
    xor64 r2, 0xffff
    add64 r4, r2
    add64 r4, r3
    mov64 r2, r4
    rsh64 r2, 16
    and64 r4, 0xffff
    add64 r4, r2
    mov64 r2, r4
    rsh64 r2, 16
    and64 r4, 0xffff
    add64 r4, r2
    xor64 r4, 0xffff
    be16 r4
    stxh [r9+10], r4
    mov64 r0, 0x10
    lsh64 r0, 32
    or64 r0, 0x0c00
    exit
rule13_hit:
    mov64 r0, 0x0d00
    exit
admin0:
    mov64 r1, 5
    mov64 r0, 0x10000
    ja @counted
admin2:
    mov64 r0, 0x10201
    exit
rule14_hit:
    mov64 r0, 0x0e02
    exit
rule15_hit:
    mov64 r0, 0x0f03
    exit
rule16_hit:
    mov64 r1, 4
    mov64 r0, 0x1001
    ja @counted
";

/// The program as rbpf's assembler takes it: labels resolved to offsets
/// (in instruction slots: `lddw` takes two).
pub fn assembly() -> String {
    let mut labels = std::collections::HashMap::new();
    let mut insns = Vec::new();
    let mut slot = 0i64;
    for line in PROGRAM.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.strip_suffix(':') {
            Some(label) => {
                labels.insert(label, slot);
            }
            None => {
                insns.push((slot, line));
                slot += if line.starts_with("lddw") { 2 } else { 1 };
            }
        }
    }
    insns
        .iter()
        .map(|(at, insn)| match insn.split_once('@') {
            Some((head, label)) => format!("{head}{:+}", labels[label] - (at + 1)),
            None => insn.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The program's bytecode.
pub fn bytecode() -> Vec<u8> {
    rbpf::assembler::assemble(&assembly()).expect("the edge program assembles")
}

/// The metadata buffer for one run: `[data, data_end, port]`.
pub fn mbuff(frame: &mut [u8], port: Port) -> [u8; 24] {
    let start = frame.as_mut_ptr() as u64;
    let end = start + frame.len() as u64;
    let port = match port {
        Port::Veth1 => 1u64,
        Port::Veth2 => 2,
        Port::Veth3 => 3,
        Port::Other => 0,
    };
    let mut m = [0u8; 24];
    m[..8].copy_from_slice(&start.to_le_bytes());
    m[8..16].copy_from_slice(&end.to_le_bytes());
    m[16..].copy_from_slice(&port.to_le_bytes());
    m
}

/// The decision a return value encodes.
pub fn decision(r: u64) -> Decision {
    let verdict = match r & 0xff {
        0 => Verdict::Accept,
        1 => Verdict::Drop,
        2 => Verdict::FwdUplink,
        _ => Verdict::Flood,
    };
    let rule = (r >> 8) & 0xff;
    let decider = if rule == 0xff {
        Decider::Policy
    } else {
        Decider::Rule {
            chain: ((r >> 16) & 0xff) as u8,
            rule: rule as u8,
        }
    };
    Decision {
        verdict,
        decider,
        mark: (r >> 32) as u32,
        mirrored: (r >> 24) & 1 == 1,
    }
}
