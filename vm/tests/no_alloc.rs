//! The interpreter allocates nothing per packet once an [`Outcome`]'s
//! buffers have grown: counted with a global allocator that counts.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use vm::{InputPort, NoTrace, Outcome, Packet, interpreter};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is the only addition.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn running_packets_allocates_nothing() {
    let instance = common::instance(common::edge_acl::program());
    let port = InputPort::new(instance.program().program(), "eth1", [2, 0, 0, 0, 0, 1]);
    let mut frames: Vec<Vec<u8>> = common::edge_acl::cases()
        .into_iter()
        .map(|c| c.frame)
        .collect();
    let mut out = Outcome::new();
    let mut run_all = |out: &mut Outcome| {
        for frame in frames.iter_mut() {
            interpreter::run(
                &instance,
                Packet {
                    frame,
                    port: &port,
                    mark: 0,
                },
                out,
                &mut NoTrace,
            );
        }
    };
    run_all(&mut out);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..10 {
        run_all(&mut out);
    }
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 0);
}
