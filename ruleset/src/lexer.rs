//! The lexer: source text to tokens, with logos.
//!
//! nftables' syntax is context sensitive in a few places; the lexer settles
//! them by longest match on the literal *forms* it knows:
//!
//! - IPv4 (`10.0.0.1`), IPv6 (`::1`, `fe80::1`, `::ffff:1.2.3.4`, eight full
//!   groups) and MAC (`00:11:22:33:44:55`) addresses are single tokens, so a
//!   map separator ` : ` or a concatenation ` . ` between them stays a
//!   separate token;
//! - words may contain dashes (`frag-off`, `echo-request`) but must start
//!   with a letter or `_`, so `1000-2000` is a range of two numbers;
//! - a word starting with digits (`8021ad`) is a [`Tok::DigitWord`];
//! - `@name` and `$name` are single tokens.
//!
//! Newlines are tokens (they end rules); comments and `\` line
//! continuations are skipped. The lexer never fails: bytes it does not know
//! become [`Tok::Error`] tokens that the parser reports.

use crate::span::{FileId, Span};
use logos::Logos;
use std::fmt;

/// A token kind.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(skip r"\\\r?\n")]
#[logos(skip(r"#[^\n]*", allow_greedy = true))]
pub enum Tok {
    /// End of a line.
    #[token("\n")]
    Newline,
    /// `;`
    #[token(";")]
    Semi,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `,`
    #[token(",")]
    Comma,
    /// `:`
    #[token(":")]
    Colon,
    /// `.` (concatenation)
    #[token(".")]
    Dot,
    /// `/`
    #[token("/")]
    Slash,
    /// `-`
    #[token("-")]
    Dash,
    /// `+`
    #[token("+")]
    Plus,
    /// `*`
    #[token("*")]
    Star,
    /// `&`
    #[token("&")]
    Amp,
    /// `|`
    #[token("|")]
    Pipe,
    /// `^`
    #[token("^")]
    Caret,
    /// `!`
    #[token("!")]
    Bang,
    /// `=`
    #[token("=")]
    Assign,
    /// `=>`
    #[token("=>")]
    Arrow,
    /// `==`
    #[token("==")]
    EqEq,
    /// `!=`
    #[token("!=")]
    Ne,
    /// `<`
    #[token("<")]
    Lt,
    /// `<=`
    #[token("<=")]
    Le,
    /// `>`
    #[token(">")]
    Gt,
    /// `>=`
    #[token(">=")]
    Ge,
    /// `<<`
    #[token("<<")]
    Shl,
    /// `>>`
    #[token(">>")]
    Shr,
    /// An identifier, keyword or symbolic constant: `ip`, `frag-off`.
    #[regex(r"[A-Za-z_][A-Za-z0-9_\-]*")]
    Word,
    /// A word that starts with digits: `8021ad`.
    #[regex(r"[0-9]+[A-Za-z_][A-Za-z0-9_]*")]
    DigitWord,
    /// A decimal number.
    #[regex(r"[0-9]+")]
    Number,
    /// A hexadecimal number: `0x800`.
    #[regex(r"0[xX][0-9a-fA-F]+", priority = 10)]
    Hex,
    /// An IPv4 address.
    #[regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")]
    Ipv4,
    /// An IPv6 address.
    #[regex(r"[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){7}")]
    #[regex(r"([0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4})*)?::([0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4})*)?")]
    #[regex(r"([0-9a-fA-F]{1,4}:){6}[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")]
    #[regex(r"([0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4})*)?::([0-9a-fA-F]{1,4}:)*[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")]
    Ipv6,
    /// A MAC address: six groups of one or two hex digits.
    #[regex(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}")]
    Mac,
    /// A double-quoted string (no escapes, no newlines).
    #[regex(r#""[^"\n]*""#)]
    Str,
    /// `@name`: a named set or map, or the base of a raw load.
    #[regex(r"@[A-Za-z_][A-Za-z0-9_\-]*")]
    At,
    /// `$name`: a variable.
    #[regex(r"\$[A-Za-z_][A-Za-z0-9_\-]*")]
    Var,
    /// Bytes that form no token.
    Error,
    /// End of input.
    Eof,
}

impl Tok {
    /// How the token kind reads in "expected ..., found ..." messages.
    pub fn describe(self) -> &'static str {
        match self {
            Tok::Newline => "end of line",
            Tok::Semi => "`;`",
            Tok::LBrace => "`{`",
            Tok::RBrace => "`}`",
            Tok::LParen => "`(`",
            Tok::RParen => "`)`",
            Tok::Comma => "`,`",
            Tok::Colon => "`:`",
            Tok::Dot => "`.`",
            Tok::Slash => "`/`",
            Tok::Dash => "`-`",
            Tok::Plus => "`+`",
            Tok::Star => "`*`",
            Tok::Amp => "`&`",
            Tok::Pipe => "`|`",
            Tok::Caret => "`^`",
            Tok::Bang => "`!`",
            Tok::Assign => "`=`",
            Tok::Arrow => "`=>`",
            Tok::EqEq => "`==`",
            Tok::Ne => "`!=`",
            Tok::Lt => "`<`",
            Tok::Le => "`<=`",
            Tok::Gt => "`>`",
            Tok::Ge => "`>=`",
            Tok::Shl => "`<<`",
            Tok::Shr => "`>>`",
            Tok::Word | Tok::DigitWord => "a word",
            Tok::Number | Tok::Hex => "a number",
            Tok::Ipv4 => "an IPv4 address",
            Tok::Ipv6 => "an IPv6 address",
            Tok::Mac => "a MAC address",
            Tok::Str => "a string",
            Tok::At => "`@name`",
            Tok::Var => "`$variable`",
            Tok::Error => "an invalid character",
            Tok::Eof => "end of file",
        }
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A token and where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// Its kind.
    pub tok: Tok,
    /// Its bytes in the source.
    pub span: Span,
}

/// Splits `text` into tokens, ending with one [`Tok::Eof`].
pub fn lex(file: FileId, text: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 3);
    let mut lexer = Tok::lexer(text);
    while let Some(result) = lexer.next() {
        let r = lexer.span();
        let tok = result.unwrap_or(Tok::Error);
        out.push(Token {
            tok,
            span: Span::new(file, r.start, r.end),
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(file, text.len(), text.len()),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Tok, &str)> {
        lex(FileId(0), text)
            .into_iter()
            .filter(|t| t.tok != Tok::Eof)
            .map(|t| (t.tok, &text[t.span.range()]))
            .collect()
    }

    #[test]
    fn addresses_are_single_tokens() {
        use Tok::*;
        assert_eq!(kinds("::1"), [(Ipv6, "::1")]);
        assert_eq!(kinds("fe80::1"), [(Ipv6, "fe80::1")]);
        assert_eq!(kinds("::ffff:1.2.3.4"), [(Ipv6, "::ffff:1.2.3.4")]);
        assert_eq!(
            kinds("2001:db8::/32"),
            [(Ipv6, "2001:db8::"), (Slash, "/"), (Number, "32")]
        );
        assert_eq!(kinds("1:2:3:4:5:6:7:8"), [(Ipv6, "1:2:3:4:5:6:7:8")]);
        assert_eq!(kinds("00:11:22:33:44:55"), [(Mac, "00:11:22:33:44:55")]);
        assert_eq!(kinds("aa:bb:cc:dd:ee:ff"), [(Mac, "aa:bb:cc:dd:ee:ff")]);
        assert_eq!(
            kinds("10.0.0.1 . 22"),
            [(Ipv4, "10.0.0.1"), (Dot, "."), (Number, "22")]
        );
    }

    #[test]
    fn map_separators_stay_separate() {
        use Tok::*;
        assert_eq!(
            kinds("::1 : accept"),
            [(Ipv6, "::1"), (Colon, ":"), (Word, "accept")]
        );
        assert_eq!(kinds("22:1"), [(Number, "22"), (Colon, ":"), (Number, "1")]);
    }

    #[test]
    fn dashes_join_words_but_split_ranges() {
        use Tok::*;
        assert_eq!(kinds("frag-off"), [(Word, "frag-off")]);
        assert_eq!(
            kinds("1000-2000"),
            [(Number, "1000"), (Dash, "-"), (Number, "2000")]
        );
        assert_eq!(
            kinds("10.0.0.1-10.0.0.9"),
            [(Ipv4, "10.0.0.1"), (Dash, "-"), (Ipv4, "10.0.0.9")]
        );
        assert_eq!(
            kinds("8021ad 0x800 -5"),
            [
                (DigitWord, "8021ad"),
                (Hex, "0x800"),
                (Dash, "-"),
                (Number, "5")
            ]
        );
    }

    #[test]
    fn comments_and_continuations_are_skipped() {
        use Tok::*;
        assert_eq!(
            kinds("a # x\nb \\\n c @s $v \"x y\""),
            [
                (Word, "a"),
                (Newline, "\n"),
                (Word, "b"),
                (Word, "c"),
                (At, "@s"),
                (Var, "$v"),
                (Str, "\"x y\"")
            ]
        );
    }

    #[test]
    fn unknown_bytes_become_error_tokens() {
        assert_eq!(kinds("a ~ b")[1].0, Tok::Error);
        assert_eq!(kinds("\"open")[0].0, Tok::Error);
    }
}
