//! The control socket: the protocol `switchctl` speaks ([`protocol`]), the
//! server that accepts its connections ([`server`]), and what the daemon
//! does for each request ([`handler`]).

pub mod handler;
pub mod protocol;
pub mod server;
