//! The client side of the control socket, for the online `switchctl`
//! subcommands: one connection, one request, its answer (and, for a live
//! trace, the events before it).
//!
//! A refused request becomes an error whose message is the daemon's, with
//! a ruleset's diagnostics printed to stderr first as `switchctl check`
//! prints them.

use crate::control::protocol::{Answer, Body, Op, Reply, Request, TracedFrame};
use anyhow::{Context, bail};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

/// Sends `op` to the daemon at `socket` and returns its reply; `event` is
/// called with each traced frame of a live trace before the reply.
pub fn request(
    socket: &Path,
    op: Op,
    mut event: impl FnMut(TracedFrame) -> anyhow::Result<()>,
) -> anyhow::Result<Reply> {
    let mut stream = UnixStream::connect(socket).with_context(|| {
        format!(
            "cannot reach switchd at {} (is it running? see --socket)",
            socket.display()
        )
    })?;
    let id = u64::from(std::process::id());
    let mut line = serde_json::to_vec(&Request { id, op })?;
    line.push(b'\n');
    stream.write_all(&line).context("sending the request")?;
    let mut reader = BufReader::new(stream);
    let mut text = String::new();
    loop {
        text.clear();
        if reader.read_line(&mut text).context("reading the answer")? == 0 {
            bail!("switchd closed the connection without answering");
        }
        let answer: Answer = serde_json::from_str(&text)
            .with_context(|| format!("not an answer: {}", text.trim()))?;
        if answer.id.is_some_and(|a| a != id) {
            continue;
        }
        match answer.body {
            Body::Ok(reply) => return Ok(reply),
            Body::Event(frame) => event(frame)?,
            Body::Error(failure) => {
                if let Some(d) = &failure.diagnostics {
                    eprint!("{}", d.rendered);
                }
                bail!("{}", failure.message);
            }
        }
    }
}

/// Sends a request that has no events.
pub fn call(socket: &Path, op: Op) -> anyhow::Result<Reply> {
    request(socket, op, |_| Ok(()))
}

/// Prints `value` as one line of JSON.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// The error for a reply of the wrong kind (a daemon of another version).
pub fn unexpected(reply: &Reply) -> anyhow::Error {
    anyhow::anyhow!("unexpected answer from switchd: {reply:?}")
}
