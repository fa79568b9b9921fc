//! The control socket: a Unix stream socket, created with mode 0600, that
//! accepts up to [`MAX_CLIENTS`] connections at once, each served by a
//! thread of its own that reads newline-terminated JSON requests and writes
//! one answer per request ([`super::protocol`]).
//!
//! Nothing a client does can stop the daemon: a line that is not a request
//! gets an error answer; a line longer than [`MAX_REQUEST`] gets an error
//! answer and is skipped up to its newline without being kept in memory; a
//! client that disconnects, even in the middle of a request or an answer,
//! only ends its own connection; a client that sends nothing for
//! [`IDLE`] is disconnected. The socket file is removed when the server is
//! dropped.

use super::handler::{Context, Events};
use super::protocol::{Answer, Body, Failure, MAX_REQUEST, Request, TracedFrame};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Most connections served at once; more are answered with an error and
/// closed.
pub const MAX_CLIENTS: usize = 32;
/// A connection that sends nothing for this long is closed.
pub const IDLE: Duration = Duration::from_secs(300);
/// How often blocked reads and accepts look at the stop flag.
const TICK: Duration = Duration::from_millis(100);

/// The bound control socket.
#[derive(Debug)]
pub struct Server {
    listener: UnixListener,
    path: PathBuf,
}

/// Why the control socket could not be created.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another daemon answers on the path.
    #[error("{0} is in use by a running switchd")]
    InUse(PathBuf),
    /// A system call failed.
    #[error("control socket {path}: {source}")]
    Io {
        /// The socket's path.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

impl Server {
    /// Creates the socket at `path` with mode 0600. A stale socket file
    /// (nobody listening) is replaced; a live one is an error.
    pub fn bind(path: &Path) -> Result<Server, BindError> {
        let io_err = |source| BindError::Io {
            path: path.to_path_buf(),
            source,
        };
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(BindError::InUse(path.to_path_buf()));
            }
            std::fs::remove_file(path).map_err(io_err)?;
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        // The socket file is created with the umask's mode: no moment in
        // which others could connect.
        // SAFETY: umask(2) only swaps the process's file creation mask.
        let old = unsafe { libc::umask(0o177) };
        let bound = UnixListener::bind(path);
        // SAFETY: as above, restoring the previous mask.
        unsafe { libc::umask(old) };
        let listener = bound.map_err(io_err)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io_err)?;
        listener.set_nonblocking(true).map_err(io_err)?;
        Ok(Server {
            listener,
            path: path.to_path_buf(),
        })
    }

    /// Waits up to [`TICK`] for a connection to accept.
    fn readable(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&self.listener),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, TICK.as_millis() as i32) };
        n > 0
    }

    /// Serves connections until `stop` is set; returns when every
    /// connection has ended.
    pub fn serve(&self, ctx: Arc<Context>, stop: Arc<AtomicBool>) {
        let clients = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|s| {
            while !stop.load(Ordering::Relaxed) {
                if !self.readable() {
                    continue;
                }
                let stream = match self.listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(e) => {
                        tracing::warn!("control socket: accept: {e}");
                        std::thread::sleep(TICK);
                        continue;
                    }
                };
                if clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
                    clients.fetch_sub(1, Ordering::SeqCst);
                    let _ = refuse(stream);
                    continue;
                }
                let (ctx, stop, clients) = (ctx.clone(), stop.clone(), clients.clone());
                s.spawn(move || {
                    if let Err(e) = Connection::new(stream).and_then(|c| c.serve(&ctx, &stop)) {
                        tracing::debug!("control connection ended: {e}");
                    }
                    clients.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn refuse(mut stream: UnixStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(Duration::from_secs(1)))?;
    let message = format!("too many control connections (at most {MAX_CLIENTS})");
    write_answer(&mut stream, &failure(None, message))
}

fn failure(id: Option<u64>, message: String) -> Answer {
    Answer {
        id,
        body: Body::Error(Failure::new(message)),
    }
}

fn write_answer(stream: &mut UnixStream, answer: &Answer) -> io::Result<()> {
    let mut line = serde_json::to_vec(answer).map_err(io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}

/// One client's connection.
struct Connection {
    stream: UnixStream,
    buf: Vec<u8>,
    /// Skipping the rest of an oversize line.
    skipping: bool,
}

impl Connection {
    fn new(stream: UnixStream) -> io::Result<Connection> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(TICK))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        Ok(Connection {
            stream,
            buf: Vec::new(),
            skipping: false,
        })
    }

    fn serve(mut self, ctx: &Context, stop: &AtomicBool) -> io::Result<()> {
        let mut chunk = [0u8; 16384];
        let mut last = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let n = match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if last.elapsed() > IDLE {
                        return Ok(());
                    }
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            last = Instant::now();
            let mut data = &chunk[..n];
            while let Some(nl) = data.iter().position(|&b| b == b'\n') {
                let (line, rest) = (&data[..nl], &data[nl + 1..]);
                data = rest;
                if std::mem::take(&mut self.skipping) {
                    continue;
                }
                if self.buf.len() + line.len() > MAX_REQUEST {
                    self.buf.clear();
                    self.oversize()?;
                    continue;
                }
                self.buf.extend_from_slice(line);
                let request = std::mem::take(&mut self.buf);
                self.request(&request, ctx, stop)?;
            }
            if self.skipping {
                continue;
            }
            if self.buf.len() + data.len() > MAX_REQUEST {
                self.buf.clear();
                self.skipping = true;
                self.oversize()?;
            } else {
                self.buf.extend_from_slice(data);
            }
        }
        Ok(())
    }

    fn oversize(&mut self) -> io::Result<()> {
        let message = format!("request longer than {MAX_REQUEST} bytes; skipped");
        write_answer(&mut self.stream, &failure(None, message))
    }

    fn request(&mut self, line: &[u8], ctx: &Context, stop: &AtomicBool) -> io::Result<()> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let request: Request = match serde_json::from_slice(line) {
            Ok(r) => r,
            Err(e) => {
                // The id, if the line is JSON with one.
                let id = serde_json::from_slice::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v.get("id").and_then(serde_json::Value::as_u64));
                let answer = failure(id, format!("bad request: {e}"));
                return write_answer(&mut self.stream, &answer);
            }
        };
        let id = request.id;
        let body = match ctx.handle(request.op, &mut Stream { conn: self, id }, stop) {
            Ok(reply) => Body::Ok(reply),
            Err(f) => Body::Error(f),
        };
        write_answer(&mut self.stream, &Answer { id: Some(id), body })
    }
}

/// A live trace's way to its client.
struct Stream<'c> {
    conn: &'c mut Connection,
    id: u64,
}

impl Events for Stream<'_> {
    fn send(&mut self, frame: TracedFrame) -> io::Result<()> {
        let answer = Answer {
            id: Some(self.id),
            body: Body::Event(frame),
        };
        write_answer(&mut self.conn.stream, &answer)
    }

    fn gone(&mut self) -> bool {
        let mut byte = [0u8; 1];
        // SAFETY: a one-byte peek into a live buffer, without waiting.
        let n = unsafe {
            libc::recv(
                std::os::fd::AsRawFd::as_raw_fd(&self.conn.stream),
                byte.as_mut_ptr().cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        n == 0
            || (n < 0
                && !matches!(
                    io::Error::last_os_error().kind(),
                    ErrorKind::WouldBlock | ErrorKind::Interrupted
                ))
    }
}
