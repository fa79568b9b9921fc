//! `switchd`: the jitswitch daemon. Compiles the configured ruleset, opens
//! the configured interfaces with AF_PACKET, runs one worker thread per
//! core (or `--workers N`) over them, serves the control socket, and
//! switches frames until SIGTERM or SIGINT; SIGHUP reloads the ruleset
//! file. Runs in the foreground and logs to stderr (`RUST_LOG` filters), as
//! systemd expects.

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use switchd::config::{Config, Engine, PortConfig};
use switchd::control::handler;
use switchd::control::server::Server;
use switchd::l2::bridge::Bridge;
use switchd::l2::fdb::Fdb;
use switchd::port::Port;
use switchd::port::afpacket::{AfPacketPort, RingConfig};
use switchd::program::{ProgramError, Programs, SwitchPorts};
use switchd::stats::Stats;
use switchd::worker::{Shared, Worker};

/// The jitswitch switch daemon.
///
/// Flags override the fields of the configuration file; `--port` flags
/// replace its port list.
#[derive(Parser, Debug)]
#[command(name = "switchd", version, about)]
struct Cli {
    /// The configuration file (RON).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A port: NAME, NAME:access=VID, NAME:trunk=VIDS or
    /// NAME:trunk=VIDS:native=VID (VIDS like 10,20,30-35). Repeatable.
    #[arg(long = "port", value_name = "SPEC")]
    ports: Vec<PortConfig>,
    /// The ruleset file.
    #[arg(long, value_name = "FILE")]
    ruleset: Option<PathBuf>,
    /// The control socket's path.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// How rulesets run (`jit` is refused until the JIT exists).
    #[arg(long, value_enum)]
    engine: Option<Engine>,
    /// Most stations in the MAC table.
    #[arg(long, value_name = "N")]
    fdb_size: Option<usize>,
    /// Seconds of silence before a station is forgotten.
    #[arg(long, value_name = "SECS")]
    fdb_aging: Option<u64>,
}

impl Cli {
    /// The configuration file, if any, with the flags applied, validated.
    fn config(&self) -> Result<Config> {
        let mut c = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                Config::parse(&text, path)?
            }
            None => Config::default(),
        };
        if !self.ports.is_empty() {
            c.ports = self.ports.clone();
        }
        if let Some(r) = &self.ruleset {
            c.ruleset = Some(r.clone());
        }
        if let Some(s) = &self.socket {
            c.socket = s.clone();
        }
        c.workers = self.workers.or(c.workers);
        c.engine = self.engine.unwrap_or(c.engine);
        c.fdb.size = self.fdb_size.unwrap_or(c.fdb.size);
        c.fdb.aging_secs = self.fdb_aging.unwrap_or(c.fdb.aging_secs);
        c.validate()?;
        Ok(c)
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The link-layer address of interface `name`, as far as sysfs says
/// (zero when it cannot be read: a port that is not there yet).
fn mac_of(name: &str) -> [u8; 6] {
    let mut mac = [0u8; 6];
    if let Ok(text) = std::fs::read_to_string(format!("/sys/class/net/{name}/address")) {
        for (b, part) in mac.iter_mut().zip(text.trim().split(':')) {
            *b = u8::from_str_radix(part, 16).unwrap_or(0);
        }
    }
    mac
}

/// Loads `file` into `programs`; diagnostics are printed as `switchctl
/// check` prints them.
fn load(programs: &Programs, file: &std::path::Path) -> Result<()> {
    match programs.reload(file) {
        Ok(r) => {
            tracing::info!(file = %file.display(), rules = r.added.len(), "ruleset loaded");
            Ok(())
        }
        Err(ProgramError::Diagnostics(d)) => {
            eprint!("{}", d.render(std::io::stderr().is_terminal()));
            bail!("{}: the ruleset has errors; not started", file.display())
        }
        Err(e) => Err(e).with_context(|| format!("loading {}", file.display())),
    }
}

fn run(cli: Cli) -> Result<()> {
    let config = cli.config()?;
    if config.engine == Engine::Jit && !vm::jit::host_supported() {
        bail!("--engine jit: Cranelift does not support this machine; use --engine interp");
    }
    let clock: Arc<dyn vm::runtime::Clock> = Arc::new(vm::runtime::MonotonicClock::new());
    let switch_ports = SwitchPorts {
        names: config.ports.iter().map(|p| p.name.clone()).collect(),
        macs: config.ports.iter().map(|p| mac_of(&p.name)).collect(),
    };
    let programs = Arc::new(Programs::new(switch_ports, config.engine, clock.clone()));
    if let Some(file) = &config.ruleset {
        load(&programs, file)?;
    }
    let workers = match config.workers {
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let ring = RingConfig::default();
    // One fanout group per port, distinct from other switchd processes'.
    let group = |i: usize| {
        (std::process::id() as u16)
            .wrapping_mul(64)
            .wrapping_add(i as u16)
    };
    // Fail now on what retrying cannot fix (no permission, no AF_PACKET);
    // a port that is down or absent is retried by the workers.
    for (i, p) in config.ports.iter().enumerate() {
        let mut probe = AfPacketPort::new(&p.name, group(i), ring);
        match probe.open() {
            Ok(()) => {}
            // The workers report it and retry.
            Err(e) if e.is_down() => {}
            Err(e) => return Err(e).context("opening the ports"),
        }
    }
    let bridge = Bridge::new(
        config.ports.iter().map(|p| p.vlan.membership()).collect(),
        Fdb::new(config.fdb.size, config.fdb.aging_secs.saturating_mul(1000)),
    );
    let shared = Arc::new(Shared::new(bridge));
    let server = Server::bind(&config.socket)?;
    let hup = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone())
        .context("installing signal handlers")?;
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        // A second signal while shutting down exits at once.
        signal_hook::flag::register_conditional_shutdown(sig, 1, shared.stop.clone())
            .context("installing signal handlers")?;
        signal_hook::flag::register(sig, shared.stop.clone())
            .context("installing signal handlers")?;
    }
    let mut stats = Stats::default();
    let mut threads = Vec::new();
    for w in 0..workers {
        let ports = (0..config.ports.len())
            .map(|i| AfPacketPort::new(&config.ports[i].name, group(i), ring))
            .collect();
        let worker = Worker::new(
            w,
            ports,
            programs.classifier(),
            shared.clone(),
            stats.add_worker(config.ports.len()),
        );
        let t = std::thread::Builder::new()
            .name(format!("worker{w}"))
            .spawn(move || worker.run())
            .context("starting a worker thread")?;
        threads.push(t);
    }
    // "Running" once every worker has its ports open.
    let deadline = Instant::now() + Duration::from_secs(5);
    while shared.started.load(Ordering::SeqCst) < workers && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let names: Vec<&str> = config.ports.iter().map(|p| p.name.as_str()).collect();
    let ctx = Arc::new(handler::Context {
        programs: programs.clone(),
        shared: shared.clone(),
        stats: stats.clone(),
        ports: config.ports.clone(),
        ruleset: config.ruleset.clone(),
        clock,
    });
    std::thread::scope(|s| -> Result<()> {
        let stop = shared.stop.clone();
        std::thread::Builder::new()
            .name("control".into())
            .spawn_scoped(s, || server.serve(ctx.clone(), stop))
            .context("starting the control thread")?;
        tracing::info!(
            ports = ?names,
            workers,
            engine = ?config.engine,
            socket = %config.socket.display(),
            ruleset = ?config.ruleset,
            "switchd running"
        );
        let mut aged = Instant::now();
        while !shared.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if aged.elapsed() >= Duration::from_secs(1) {
                aged = Instant::now();
                shared.bridge.fdb().expire(shared.millis());
            }
            if hup.swap(false, Ordering::Relaxed) {
                tracing::info!("SIGHUP: reloading the ruleset");
                // The outcome is logged.
                let _ = ctx.reload(None);
            }
        }
        tracing::info!("shutting down");
        Ok(())
    })?;
    drop(server);
    for t in threads {
        if t.join().is_err() {
            tracing::error!("a worker thread panicked");
        }
    }
    for (name, s) in names.iter().zip(stats.ports()) {
        tracing::info!(port = name, ?s, "final counters");
    }
    for (w, s) in stats.workers().iter().enumerate() {
        tracing::info!(worker = w, packets = s.packets, ns_per_packet = ?s.ns_per_packet(), "final worker counters");
    }
    Ok(())
}
