//! The `switchctl` subcommands, one module each. Each exposes an `Args`
//! struct (clap) and a `run(args) -> anyhow::Result<ExitCode>`.
//!
//! Offline, on ruleset files: [`check`], [`compile`], [`trace`],
//! [`test`](mod@test), [`bench`](mod@bench).
//! Online, over the daemon's control socket ([`client`]): [`reload`],
//! [`list`], [`delete`], [`element`], [`status`] (`ports`, `fdb`, `stats`),
//! and [`trace`] without a ruleset.

/// The link address offline runs (`test`, `bench`, and `trace` unless told
/// otherwise) give the input port: a frame sent to it is `meta pkttype host`.
pub const OFFLINE_PORT_ADDR: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];

pub mod bench;
pub mod check;
pub mod client;
pub mod compile;
pub mod delete;
pub mod element;
pub mod list;
pub mod reload;
pub mod status;
pub mod test;
pub mod trace;
