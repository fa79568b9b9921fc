//! Literal forms: turning the text of a literal into a value of a type.
//!
//! The language core knows how literals are *written* (numbers, IPv4,
//! IPv6, MAC, strings, symbols of a type); which form a field takes comes
//! from its datatype in the registry. Errors say which type was expected.

use crate::ast::LitKind;
use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::parser::parse_int;
use crate::registry::{Form, Registry, ValueType};
use crate::span::Span;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A literal converted to a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scalar {
    /// A value at the type's width.
    Value(u128),
    /// A string ending in `*`: the first `len` bits must equal `value`'s.
    Wildcard {
        /// The string's bytes, NUL padded.
        value: u128,
        /// The prefix length in bits.
        len: u32,
    },
    /// A port name (the `port` form).
    Port(String),
}

/// The largest value of `bits` bits.
pub fn max_value(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// How a form is named in "expected ..." messages.
pub fn form_name(form: Form) -> &'static str {
    match form {
        Form::Integer => "an integer",
        Form::Ipv4 => "an IPv4 address",
        Form::Ipv6 => "an IPv6 address",
        Form::Mac => "a MAC address",
        Form::String => "a string",
        Form::Port => "a port name",
    }
}

fn kind_name(kind: LitKind) -> &'static str {
    match kind {
        LitKind::Number | LitKind::Hex => "integer",
        LitKind::Ipv4 => "IPv4 address",
        LitKind::Ipv6 => "IPv6 address",
        LitKind::Mac => "MAC address",
        LitKind::Str => "string",
        LitKind::Word => "symbol",
    }
}

/// Converts the literal `text` of lexical kind `kind` to type `vt`.
/// `what` names the thing it is compared with (`ip saddr`) for messages.
pub fn literal(
    reg: &Registry,
    vt: ValueType,
    kind: LitKind,
    text: &str,
    span: Span,
    what: &dyn Fn() -> String,
) -> Result<Scalar, Diagnostic> {
    let form = reg.form(vt);
    let mismatch = || {
        let shown = if kind == LitKind::Str {
            format!("\"{text}\"")
        } else {
            text.to_owned()
        };
        Diagnostic::error(
            span,
            format!(
                "type mismatch: {} is {}, expected {}, found {} {shown}",
                what(),
                reg.type_name(vt),
                form_name(form),
                kind_name(kind)
            ),
            format!("expected {}", form_name(form)),
        )
    };
    let invalid = |what_form: &str| {
        Diagnostic::error(
            span,
            format!("invalid {what_form} `{text}`"),
            format!("not a valid {what_form}"),
        )
    };
    let value = match (form, kind) {
        (Form::Integer, LitKind::Number | LitKind::Hex) => {
            let n = parse_int(text);
            if n > max_value(vt.bits) {
                return Err(Diagnostic::error(
                    span,
                    format!("value {text} does not fit in {} ({} bits)", what(), vt.bits),
                    format!("must be at most {}", max_value(vt.bits)),
                ));
            }
            n
        }
        (Form::Integer, LitKind::Word) => {
            let Some(t) = vt.ty else {
                return Err(mismatch());
            };
            let dt = reg.ty(t);
            if let Some(v) = dt.symbol(text) {
                v
            } else if dt.symbols.is_empty() {
                return Err(mismatch());
            } else {
                let help = did_you_mean(text, dt.symbols.iter().map(|s| s.name.as_str()))
                    .unwrap_or_else(|| {
                        let names: Vec<&str> = dt
                            .symbols
                            .iter()
                            .map(|s| s.name.as_str())
                            .take(12)
                            .collect();
                        let more = if dt.symbols.len() > 12 { ", ..." } else { "" };
                        format!("the values of {} are: {}{more}", dt.name, names.join(", "))
                    });
                return Err(Diagnostic::error(
                    span,
                    format!("unknown value `{text}` for {} ({})", what(), dt.name),
                    format!("not a value of {}", dt.name),
                )
                .with_help(help));
            }
        }
        (Form::Ipv4, LitKind::Ipv4) => u128::from(u32::from(
            text.parse::<Ipv4Addr>()
                .map_err(|_| invalid("IPv4 address"))?,
        )),
        (Form::Ipv6, LitKind::Ipv6) => u128::from(
            text.parse::<Ipv6Addr>()
                .map_err(|_| invalid("IPv6 address"))?,
        ),
        (Form::Mac, LitKind::Mac) => text
            .split(':')
            .try_fold(0u128, |acc, b| {
                u8::from_str_radix(b, 16).map(|b| (acc << 8) | u128::from(b))
            })
            .map_err(|_| invalid("MAC address"))?,
        (Form::String, LitKind::Str | LitKind::Word) => {
            let bytes = vt.bits as usize / 8;
            let (s, wildcard) = match text.strip_suffix('*') {
                Some(s) => (s, true),
                None => (text, false),
            };
            if !wildcard && s.is_empty() {
                return Err(Diagnostic::error(
                    span,
                    "an empty string is not allowed",
                    "empty",
                ));
            }
            // Room for the terminating NUL, as nft requires.
            if s.len() >= bytes {
                return Err(Diagnostic::error(
                    span,
                    format!(
                        "string \"{text}\" is too long for {} ({bytes} bytes with the NUL)",
                        what()
                    ),
                    format!("at most {} bytes", bytes - 1),
                ));
            }
            let mut v = 0u128;
            for i in 0..bytes {
                v = (v << 8) | u128::from(s.as_bytes().get(i).copied().unwrap_or(0));
            }
            if wildcard {
                return Ok(Scalar::Wildcard {
                    value: v,
                    len: s.len() as u32 * 8,
                });
            }
            v
        }
        (Form::Port, LitKind::Str | LitKind::Word) => return Ok(Scalar::Port(text.to_owned())),
        _ => return Err(mismatch()),
    };
    Ok(Scalar::Value(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;

    fn lit(form_type: &str, kind: LitKind, text: &str) -> Result<Scalar, Diagnostic> {
        let reg = crate::prelude::prelude().registry.clone();
        let t = reg.type_id(form_type).unwrap();
        let vt = ValueType {
            ty: Some(t),
            bits: reg.ty(t).bits,
        };
        literal(&reg, vt, kind, text, Span::new(FileId(0), 0, 0), &|| {
            "x".to_owned()
        })
    }

    #[test]
    fn forms_convert() {
        assert_eq!(
            lit("ipv4_addr", LitKind::Ipv4, "10.0.0.1").unwrap(),
            Scalar::Value(0x0a000001)
        );
        assert_eq!(
            lit("ipv6_addr", LitKind::Ipv6, "::ffff:1.2.3.4").unwrap(),
            Scalar::Value(0xffff_0102_0304)
        );
        assert_eq!(
            lit("ether_addr", LitKind::Mac, "00:11:22:33:44:5").unwrap(),
            Scalar::Value(0x0011_2233_4405)
        );
        assert_eq!(
            lit("ether_type", LitKind::Word, "arp").unwrap(),
            Scalar::Value(0x0806)
        );
        assert_eq!(
            lit("ether_type", LitKind::Word, "8021ad").unwrap(),
            Scalar::Value(0x88a8)
        );
        assert_eq!(
            lit("ifname", LitKind::Str, "eth*").unwrap(),
            Scalar::Wildcard {
                value: u128::from_be_bytes(*b"eth\0\0\0\0\0\0\0\0\0\0\0\0\0"),
                len: 24
            }
        );
    }

    #[test]
    fn mismatches_and_overflows_are_errors() {
        assert!(
            lit("ipv4_addr", LitKind::Number, "80")
                .unwrap_err()
                .message
                .contains("expected an IPv4 address")
        );
        assert!(
            lit("inet_service", LitKind::Number, "65536")
                .unwrap_err()
                .message
                .contains("does not fit")
        );
        assert!(lit("ipv4_addr", LitKind::Ipv4, "10.0.0.256").is_err());
        let e = lit("icmp_type", LitKind::Word, "echo-requst").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `echo-request`?"));
    }
}
