//! The switch daemon and its command-line client.
//!
//! - [`ctl`]: the `switchctl` subcommands, one module each.

pub mod ctl;
