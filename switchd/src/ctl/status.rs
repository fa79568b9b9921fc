//! `switchctl ports`, `switchctl fdb` and `switchctl stats`: the daemon's
//! per-port counters, its learned MAC table, and its per-worker counters.

use super::client::{call, print_json, unexpected};
use crate::control::protocol::{Op, Reply};
use std::path::Path;
use std::process::ExitCode;

/// Arguments of `ports`, `fdb` and `stats`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `op` (one of `Ports`, `Fdb`, `Stats`) and prints its answer.
pub fn run(args: Args, op: Op, socket: &Path) -> anyhow::Result<ExitCode> {
    let reply = call(socket, op)?;
    if args.json {
        match &reply {
            Reply::Ports(v) => print_json(v)?,
            Reply::Fdb(v) => print_json(v)?,
            Reply::Stats(v) => print_json(v)?,
            other => return Err(unexpected(other)),
        }
        return Ok(ExitCode::SUCCESS);
    }
    match reply {
        Reply::Ports(ports) => {
            println!(
                "{:<16} {:<22} {:>10} {:>12} {:>8} {:>10} {:>12} {:>8} {:>9}",
                "port",
                "vlan",
                "rx",
                "rx bytes",
                "rx drop",
                "tx",
                "tx bytes",
                "tx drop",
                "filtered"
            );
            for p in ports {
                let s = p.stats;
                println!(
                    "{:<16} {:<22} {:>10} {:>12} {:>8} {:>10} {:>12} {:>8} {:>9}",
                    p.name,
                    p.vlan,
                    s.rx_packets,
                    s.rx_bytes,
                    s.rx_drops,
                    s.tx_packets,
                    s.tx_bytes,
                    s.tx_drops,
                    s.filtered
                );
            }
        }
        Reply::Fdb(entries) => {
            println!("{:>4}  {:<17}  {:<16} {:>8}", "vlan", "mac", "port", "age");
            for e in &entries {
                println!(
                    "{:>4}  {:<17}  {:<16} {:>7.1}s",
                    e.vlan,
                    e.mac,
                    e.port,
                    e.age_ms as f64 / 1000.0
                );
            }
            println!("{} stations", entries.len());
        }
        Reply::Stats(workers) => {
            println!(
                "{:>6} {:>12} {:>10} {:>10}",
                "worker", "packets", "batches", "ns/packet"
            );
            for (i, w) in workers.iter().enumerate() {
                let ns = w
                    .ns_per_packet()
                    .map_or_else(|| "-".to_string(), |n| format!("{n:.0}"));
                println!("{i:>6} {:>12} {:>10} {ns:>10}", w.packets, w.batches);
            }
        }
        other => return Err(unexpected(&other)),
    }
    Ok(ExitCode::SUCCESS)
}
