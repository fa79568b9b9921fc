//! The `switchctl` subcommands, one module each. Each exposes an `Args`
//! struct (clap) and a `run(args) -> anyhow::Result<ExitCode>`.

pub mod check;
pub mod compile;
pub mod test;
pub mod trace;
