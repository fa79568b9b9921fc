//! The L2 switch that frames accepted by the ruleset go to: MAC learning
//! ([`fdb`]) and per-port VLAN membership ([`vlan`]), and the forwarding decision that uses them ([`bridge`]).

pub mod bridge;
pub mod fdb;
pub mod vlan;
