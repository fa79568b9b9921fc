//! The switch daemon and its command-line client.
//!
//! - [`ctl`]: the `switchctl` subcommands, one module each;
//!   [`cases`]: the packet test vectors `switchctl test` reads;
//!   [`capture`]: frames from hex and packet captures.
//! - [`config`]: the daemon's configuration (RON file and flags).
//! - [`classify`]: the per-frame decision the ruleset makes;
//!   [`program`]: the running program, reloads and deletions;
//!   [`engine`]: what runs it.
//! - [`control`]: the control socket and its protocol.
//! - [`l2`]: the L2 switch (MAC learning, VLAN membership).
//! - [`port`]: ports (AF_PACKET and in-memory).
//! - [`worker`]: the per-thread forwarding loop; [`stats`]: its counters.

pub mod capture;
pub mod cases;
pub mod classify;
pub mod config;
pub mod control;
pub mod ctl;
pub mod engine;
pub mod l2;
pub mod port;
pub mod program;
pub mod stats;
pub mod worker;
