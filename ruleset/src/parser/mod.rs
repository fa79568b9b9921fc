//! The recursive-descent parser: tokens to the syntax tree.
//!
//! One [`Parser`] reads one file. It reports every error it finds into the
//! [`Loader`] and recovers at the next rule, item or declaration boundary,
//! so all errors of a file are reported. `include` is handed to the loader,
//! which parses the included file in place with the same name table.
//!
//! - this module: the token cursor, top-level items, tables, chains, sets;
//! - `rule`: rules, matches, statements and values;
//! - `decl`: the declaration language (`header`, `parse`, `layer`, ...);
//! - [`names`]: the header and field names the parser needs.

mod decl;
pub mod names;
mod rule;

use crate::ast::*;
use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::lexer::{Tok, Token, lex};
use crate::loader::Loader;
use crate::span::{FileId, Span};

/// Marks that a diagnostic was reported and the caller should recover.
#[derive(Debug)]
pub(crate) struct Reported;

/// Parser results.
pub(crate) type PResult<T> = Result<T, Reported>;

/// nftables constructs outside the supported subset, by the word that
/// starts them, with how they are named in the error.
const UNSUPPORTED_WORDS: &[(&str, &str)] = &[
    ("ct", "ct (connection tracking)"),
    ("reject", "reject"),
    ("queue", "queue"),
    ("masquerade", "masquerade"),
    ("snat", "snat"),
    ("dnat", "dnat"),
    ("redirect", "redirect"),
    ("notrack", "notrack"),
    ("quota", "quota"),
    ("numgen", "numgen"),
    ("jhash", "jhash"),
    ("symhash", "symhash"),
    ("socket", "socket"),
    ("fib", "fib"),
    ("rt", "rt (routing expressions)"),
    ("ipsec", "ipsec"),
    ("osf", "osf"),
    ("exthdr", "exthdr"),
    ("synproxy", "synproxy"),
    ("tproxy", "tproxy"),
    ("meter", "meter"),
    ("flow", "flow"),
    ("xt", "xt"),
    ("secmark", "secmark"),
    ("last", "last"),
    ("add", "set updates from rules (add @set)"),
    ("update", "set updates from rules (update @set)"),
    ("delete", "set updates from rules (delete @set)"),
    ("hbh", "hbh (IPv6 extension header matches)"),
    ("frag", "frag (IPv6 extension header matches)"),
    ("dst", "dst (IPv6 extension header matches)"),
    ("mh", "mh (IPv6 extension header matches)"),
    ("srh", "srh (IPv6 extension header matches)"),
    ("sctp", "sctp"),
    ("dccp", "dccp"),
    ("ah", "ah"),
    ("esp", "esp"),
    ("comp", "comp"),
    ("udplite", "udplite"),
    ("igmp", "igmp"),
    ("gre", "gre"),
    ("geneve", "geneve"),
    ("gretap", "gretap"),
    ("cgroupv2", "cgroupv2"),
    ("inner", "inner header matches"),
];

/// Deepest nesting of parentheses, braces and `!` in one value or expression.
const MAX_NESTING: u32 = 32;

/// nftables meta keys jitswitch may or may not provide, and whether nft
/// allows them without `meta` in front (`iifname "eth0"`).
const NFT_META_KEYS: &[(&str, bool)] = &[
    ("mark", true),
    ("iif", true),
    ("iifname", true),
    ("iiftype", true),
    ("oif", true),
    ("oifname", true),
    ("oiftype", true),
    ("skuid", true),
    ("skgid", true),
    ("nftrace", true),
    ("rtclassid", true),
    ("ibrname", true),
    ("obrname", true),
    ("pkttype", true),
    ("cpu", true),
    ("iifgroup", true),
    ("oifgroup", true),
    ("cgroup", true),
    ("length", false),
    ("protocol", false),
    ("l4proto", false),
    ("nfproto", false),
    ("priority", false),
    ("ibrpvid", false),
    ("ibrvproto", false),
    ("random", false),
    ("secpath", false),
    ("iifkind", false),
    ("oifkind", false),
    ("time", false),
    ("day", false),
    ("hour", false),
    ("sdif", false),
    ("sdifname", false),
    ("secmark", false),
    ("broute", false),
    ("ipsec", false),
];

/// True when nftables knows `key` as a meta key.
pub(crate) fn is_nft_meta_key(key: &str) -> bool {
    NFT_META_KEYS.iter().any(|(k, _)| *k == key)
}

/// True when nftables allows the meta key `key` without `meta` in front.
pub(crate) fn is_unqualified_meta(key: &str) -> bool {
    NFT_META_KEYS.iter().any(|&(k, bare)| bare && k == key)
}

/// The name under which an unsupported nftables construct is reported.
pub(crate) fn unsupported_word(word: &str) -> Option<&'static str> {
    UNSUPPORTED_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, n)| *n)
}

/// Reads one file's tokens into syntax-tree items.
pub struct Parser<'l> {
    loader: &'l mut Loader,
    file: FileId,
    text: String,
    toks: Vec<Token>,
    pos: usize,
    /// Greater than zero while newlines are insignificant (inside braces,
    /// parentheses and declarations).
    nl_skip: u32,
    /// How deeply values and expressions are nested right now.
    depth: u32,
}

impl<'l> Parser<'l> {
    /// A parser for `text`, which the loader has registered as `file`.
    pub fn new(loader: &'l mut Loader, file: FileId, text: String) -> Parser<'l> {
        let toks = lex(file, &text);
        Parser {
            loader,
            file,
            text,
            toks,
            pos: 0,
            nl_skip: 0,
            depth: 0,
        }
    }

    /// Parses the whole file.
    pub fn parse_file(mut self) -> File {
        let mut items = Vec::new();
        loop {
            self.skip_separators();
            if self.peek() == Tok::Eof {
                break;
            }
            let saved = self.nl_skip;
            let before = self.pos;
            match self.top_item() {
                Ok(Some(item)) => {
                    items.push(item);
                    if self.end_of_item().is_err() {
                        self.nl_skip = saved;
                        self.recover_line();
                    }
                }
                Ok(None) => {}
                Err(Reported) => {
                    self.nl_skip = saved;
                    self.recover_line();
                }
            }
            self.ensure_progress(before);
        }
        File { items }
    }

    // ---- the token cursor ----

    fn skip_nl(&mut self) {
        if self.nl_skip > 0 {
            while self.toks[self.pos].tok == Tok::Newline {
                self.pos += 1;
            }
        }
    }

    fn peek(&mut self) -> Tok {
        self.skip_nl();
        self.toks[self.pos].tok
    }

    /// The token `n` places ahead (newlines count unless skipped).
    fn peek_at(&mut self, n: usize) -> Token {
        self.skip_nl();
        let mut i = self.pos;
        for _ in 0..n {
            if self.toks[i].tok == Tok::Eof {
                break;
            }
            i += 1;
            if self.nl_skip > 0 {
                while self.toks[i].tok == Tok::Newline {
                    i += 1;
                }
            }
        }
        self.toks[i]
    }

    fn cur(&mut self) -> Token {
        self.skip_nl();
        self.toks[self.pos]
    }

    fn bump(&mut self) -> Token {
        self.skip_nl();
        let t = self.toks[self.pos];
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn text_of(&self, t: Token) -> &str {
        &self.text[t.span.range()]
    }

    /// The text of the current token.
    fn cur_text(&mut self) -> &str {
        let t = self.cur();
        &self.text[t.span.range()]
    }

    /// The span ending where the previous token ended.
    fn since(&self, start: Span) -> Span {
        let end = if self.pos == 0 {
            start
        } else {
            self.toks[self.pos - 1].span
        };
        start.to(end)
    }

    fn is_word(&mut self, word: &str) -> bool {
        self.peek() == Tok::Word && self.cur_text() == word
    }

    fn eat(&mut self, tok: Tok) -> bool {
        if self.peek() == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.is_word(word) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn ident(&self, t: Token) -> Ident {
        Ident {
            name: self.text_of(t).to_owned(),
            span: t.span,
        }
    }

    // ---- errors ----

    fn report(&mut self, d: Diagnostic) -> Reported {
        self.loader.diags.push(d);
        Reported
    }

    /// "expected WHAT, found TOKEN" at the current token.
    fn expected(&mut self, what: &str) -> Reported {
        let t = self.cur();
        let found = match t.tok {
            Tok::Word | Tok::DigitWord | Tok::Number | Tok::Hex => format!("`{}`", self.text_of(t)),
            Tok::Error if self.text_of(t).starts_with('"') => "an unterminated string".to_owned(),
            Tok::Error => format!("`{}`", self.text_of(t)),
            other => other.describe().to_owned(),
        };
        let d = Diagnostic::error(
            t.span,
            format!("expected {what}, found {found}"),
            format!("expected {what}"),
        );
        self.report(d)
    }

    fn expect(&mut self, tok: Tok, what: &str) -> PResult<Token> {
        if self.peek() == tok {
            Ok(self.bump())
        } else {
            Err(self.expected(what))
        }
    }

    fn expect_word(&mut self, what: &str) -> PResult<Ident> {
        let t = self.expect(Tok::Word, what)?;
        Ok(self.ident(t))
    }

    fn expect_keyword(&mut self, word: &str) -> PResult<Token> {
        if self.is_word(word) {
            Ok(self.bump())
        } else {
            Err(self.expected(&format!("`{word}`")))
        }
    }

    /// A name: a word, or a word starting with digits (`8021ad`).
    fn expect_name(&mut self, what: &str) -> PResult<Ident> {
        match self.peek() {
            Tok::Word | Tok::DigitWord => {
                let t = self.bump();
                Ok(self.ident(t))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn expect_num(&mut self, what: &str) -> PResult<Num> {
        match self.peek() {
            Tok::Number | Tok::Hex => {
                let t = self.bump();
                Ok(Num {
                    value: parse_int(self.text_of(t)),
                    span: t.span,
                })
            }
            _ => Err(self.expected(what)),
        }
    }

    fn expect_string(&mut self, what: &str) -> PResult<Ident> {
        let t = self.expect(Tok::Str, what)?;
        Ok(self.string_ident(t))
    }

    /// A string token's text without the quotes.
    fn string_ident(&self, t: Token) -> Ident {
        let s = self.text_of(t);
        Ident {
            name: s[1..s.len() - 1].to_owned(),
            span: t.span,
        }
    }

    /// An unexpected word where one of `words` belongs, suggesting the
    /// closest of them.
    fn unknown_word(
        &mut self,
        span: Span,
        word: &str,
        message: String,
        label: &str,
        words: &[&str],
    ) -> Reported {
        let help = did_you_mean(word, words.iter().copied());
        let d = Diagnostic::error(span, message, label).with_help_opt(help);
        self.report(d)
    }

    /// "not supported yet: WHAT" at `span`.
    fn unsupported(&mut self, span: Span, what: &str) -> Reported {
        let d = Diagnostic::error(
            span,
            format!("not supported yet: {what}"),
            "not supported by jitswitch yet",
        );
        self.report(d)
    }

    /// Runs `f` one nesting level deeper; past [`MAX_NESTING`] levels it is
    /// an error (so no input can exhaust the stack).
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_NESTING {
            let span = self.cur().span;
            let d = Diagnostic::error(
                span,
                "nested too deeply",
                format!("more than {MAX_NESTING} levels of nesting"),
            );
            return Err(self.report(d));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// Skips `;` and newlines between items.
    fn skip_separators(&mut self) {
        while matches!(self.toks[self.pos].tok, Tok::Newline | Tok::Semi) {
            self.pos += 1;
        }
    }

    /// An item must end at a newline, `;`, `}` or the end of the file.
    fn end_of_item(&mut self) -> PResult<()> {
        match self.toks[self.pos].tok {
            Tok::Newline | Tok::Semi | Tok::RBrace | Tok::Eof => Ok(()),
            _ => Err(self.expected("end of line or `;`")),
        }
    }

    /// Skips to the end of the current line (or `;`) at brace depth zero,
    /// stopping before a `}` that closes the enclosing block.
    fn recover_line(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.toks[self.pos].tok {
                Tok::Eof => return,
                Tok::Newline | Tok::Semi if depth == 0 => return,
                Tok::RBrace if depth == 0 => return,
                Tok::LBrace | Tok::LParen => depth += 1,
                Tok::RBrace | Tok::RParen => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Parses the items of a `{ ... }` body up to its closing brace, each
    /// ended by a newline, `;` or the brace, recovering from an error at the
    /// next line.
    fn block(
        &mut self,
        closing: &str,
        mut item: impl FnMut(&mut Self) -> PResult<()>,
    ) -> PResult<()> {
        loop {
            self.skip_separators();
            match self.peek() {
                Tok::RBrace => {
                    self.bump();
                    return Ok(());
                }
                Tok::Eof => return Err(self.expected(closing)),
                _ => {}
            }
            let before = self.pos;
            if item(self).and_then(|()| self.end_of_item()).is_err() {
                self.nl_skip = 0;
                self.recover_line();
            }
            self.ensure_progress(before);
        }
    }

    /// After an error at `before`, makes sure the cursor moved, so that a
    /// token no rule can consume (a stray `}`) cannot stall a loop.
    fn ensure_progress(&mut self, before: usize) {
        if self.pos == before && self.toks[self.pos].tok != Tok::Eof {
            self.pos += 1;
        }
    }

    /// Skips a whole `{ ... }` block when the current token opens one.
    fn skip_block(&mut self) {
        if self.toks[self.pos].tok != Tok::LBrace {
            return;
        }
        let mut depth = 0usize;
        loop {
            match self.toks[self.pos].tok {
                Tok::Eof => return,
                Tok::LBrace => depth += 1,
                Tok::RBrace => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    // ---- top level ----

    fn top_item(&mut self) -> PResult<Option<Item>> {
        let t = self.cur();
        if t.tok != Tok::Word {
            return Err(self.expected("`table`, `define`, `include` or a declaration"));
        }
        match self.text_of(t) {
            "flush" => {
                self.bump();
                self.expect_keyword("ruleset")?;
                Ok(Some(Item::Flush(self.since(t.span))))
            }
            "include" => {
                self.bump();
                let path = self.expect_string("a file name in double quotes")?;
                let span = self.since(t.span);
                let file = self.loader.include(self.file, &path.name, span);
                Ok(Some(Item::Include(Include {
                    path: path.name,
                    file,
                    span,
                })))
            }
            "define" => Ok(Some(Item::Define(self.define()?))),
            "table" => Ok(Some(Item::Table(self.table()?))),
            "datatype" | "symbols" | "header" | "parse" | "layer" | "meta" | "network"
            | "transport" => Ok(Some(Item::Decl(self.decl()?))),
            "redefine" | "undefine" => {
                Err(self.unsupported(t.span, &format!("`{}`", self.text_of(t))))
            }
            "add" | "insert" | "create" | "delete" | "list" | "replace" | "reset" | "destroy" => {
                let what = format!(
                    "nft commands (`{} ...`); declare tables in block form",
                    self.text_of(t)
                );
                Err(self.unsupported(t.span, &what))
            }
            other => {
                let other = other.to_owned();
                let message = format!(
                    "expected `table`, `define`, `include` or a declaration, found `{other}`"
                );
                let words = ["table", "define", "include", "flush", "header", "parse"];
                Err(self.unknown_word(t.span, &other, message, "not a top-level item", &words))
            }
        }
    }

    fn define(&mut self) -> PResult<Define> {
        let start = self.expect_keyword("define")?.span;
        let name = self.expect_name("a variable name")?;
        self.expect(Tok::Assign, "`=`")?;
        let value = self.value_top(true)?;
        Ok(Define {
            name,
            value,
            span: self.since(start),
        })
    }

    fn table(&mut self) -> PResult<Table> {
        let start = self.expect_keyword("table")?.span;
        let first = self.cur();
        if !matches!(first.tok, Tok::Word | Tok::DigitWord) {
            return Err(self.expected("a table family and name"));
        }
        self.bump();
        if self.peek() == Tok::LBrace {
            let d = Diagnostic::error(
                first.span,
                "not supported yet: family ip (a table without a family is an `ip` table)",
                "no family given",
            )
            .with_help("write `table netdev NAME`, `table bridge NAME` or `table inet NAME`");
            self.skip_block();
            return Err(self.report(d));
        }
        let family = self.ident(first);
        match family.name.as_str() {
            "netdev" | "bridge" | "inet" => {}
            "ip" | "ip6" | "arp" => {
                let what = format!("family {}", family.name);
                let r = self.unsupported(family.span, &what);
                self.bump();
                self.skip_block();
                return Err(r);
            }
            other => {
                let message = format!("unknown table family `{other}`");
                let words = ["netdev", "bridge", "inet"];
                let label = "expected `netdev`, `bridge` or `inet`";
                return Err(self.unknown_word(family.span, other, message, label, &words));
            }
        }
        let name = self.expect_name("a table name")?;
        self.expect(Tok::LBrace, "`{`")?;
        let mut items = Vec::new();
        self.block("`}` closing the table", |p| {
            let item = p.table_item()?;
            items.push(item);
            Ok(())
        })?;
        Ok(Table {
            family,
            name,
            items,
            span: self.since(start),
        })
    }

    fn table_item(&mut self) -> PResult<TableItem> {
        let t = self.cur();
        let word = if t.tok == Tok::Word {
            self.text_of(t).to_owned()
        } else {
            String::new()
        };
        match word.as_str() {
            "chain" => Ok(TableItem::Chain(self.chain()?)),
            "set" => Ok(TableItem::Set(self.set_decl(SetKind::Set)?)),
            "map" => Ok(TableItem::Set(self.set_decl(SetKind::Map)?)),
            "define" => Ok(TableItem::Define(self.define()?)),
            "include" => {
                Err(self.unsupported(t.span, "include inside a table (include at the top level)"))
            }
            "counter" | "quota" | "limit" | "ct" | "secmark" | "synproxy" => {
                let r = self.unsupported(t.span, &format!("named {word} objects"));
                self.bump();
                self.recover_line();
                self.skip_block();
                Err(r)
            }
            "flowtable" | "flags" | "comment" => {
                let r = self.unsupported(t.span, &format!("table {word}"));
                self.bump();
                self.recover_line();
                self.skip_block();
                Err(r)
            }
            _ => {
                let message = "expected `chain`, `set`, `map` or `define`".to_owned();
                let words = ["chain", "set", "map", "define"];
                Err(self.unknown_word(t.span, &word, message, "not a table item", &words))
            }
        }
    }

    fn chain(&mut self) -> PResult<Chain> {
        let start = self.expect_keyword("chain")?.span;
        let name = self.expect_name("a chain name")?;
        self.expect(Tok::LBrace, "`{`")?;
        let mut chain = Chain {
            name,
            hook: None,
            policy: None,
            rules: Vec::new(),
            span: start,
        };
        let mut hook_failed = false;
        self.block("`}` closing the chain", |p| {
            if p.is_word("type") {
                let r = p.hook().map(|h| chain.hook = Some(h));
                hook_failed |= r.is_err();
                r
            } else if p.is_word("policy") {
                p.bump();
                // After a broken hook declaration its policy is no error of its own.
                p.expect_word("`accept` or `drop`").map(|pol| {
                    if !hook_failed {
                        chain.policy = Some(pol);
                    }
                })
            } else {
                p.rule().map(|r| chain.rules.push(r))
            }
        })?;
        chain.span = self.since(start);
        Ok(chain)
    }

    fn hook(&mut self) -> PResult<Hook> {
        let start = self.expect_keyword("type")?.span;
        let kind = self.expect_word("a chain type (`filter`)")?;
        if kind.name != "filter" {
            return Err(self.unsupported(kind.span, &format!("chain type {}", kind.name)));
        }
        self.expect_keyword("hook")?;
        let hook = self.expect_word("a hook (`ingress`)")?;
        if hook.name != "ingress" {
            return Err(self.unsupported(hook.span, &format!("hook {}", hook.name)));
        }
        let mut device = None;
        if self.eat_word("device") {
            device = Some(self.value_prim()?);
        } else if self.is_word("devices") {
            let t = self.cur();
            return Err(self.unsupported(t.span, "`devices = { ... }` (one device per chain)"));
        }
        let pstart = self.expect_keyword("priority")?.span;
        let mut name = None;
        let mut offset = 0i64;
        if self.peek() == Tok::Word {
            let t = self.bump();
            name = Some(self.ident(t));
            if self.eat(Tok::Plus) {
                offset = self.expect_num("a number")?.value.min(i64::MAX as u128) as i64;
            } else if self.eat(Tok::Dash) {
                offset = -(self.expect_num("a number")?.value.min(i64::MAX as u128) as i64);
            }
        } else {
            let negative = self.eat(Tok::Dash);
            let n = self
                .expect_num("a priority (a number or `filter`)")?
                .value
                .min(i64::MAX as u128) as i64;
            offset = if negative { -n } else { n };
        }
        let priority = Priority {
            name,
            offset,
            span: self.since(pstart),
        };
        Ok(Hook {
            kind,
            hook,
            device,
            priority,
            span: self.since(start),
        })
    }

    fn set_decl(&mut self, kind: SetKind) -> PResult<SetDecl> {
        let start = self.bump().span;
        let name = self.expect_name("a set name")?;
        self.expect(Tok::LBrace, "`{`")?;
        let mut decl = SetDecl {
            kind,
            name,
            key: None,
            data: None,
            flags: Vec::new(),
            elements: None,
            span: start,
        };
        self.block("`}` closing the set", |p| p.set_item(&mut decl))?;
        decl.span = self.since(start);
        Ok(decl)
    }

    fn set_item(&mut self, decl: &mut SetDecl) -> PResult<()> {
        let t = self.cur();
        let word = if t.tok == Tok::Word {
            self.text_of(t).to_owned()
        } else {
            String::new()
        };
        self.bump();
        match word.as_str() {
            "type" | "typeof" => {
                let spec = |p: &mut Self| -> PResult<KeySpec> {
                    if word == "type" {
                        let mut names = vec![p.expect_word("a datatype name")?];
                        while p.eat(Tok::Dot) {
                            names.push(p.expect_word("a datatype name")?);
                        }
                        Ok(KeySpec::Types(names))
                    } else {
                        Ok(KeySpec::Typeof(match p.expr()? {
                            Expr::Concat(parts, _) => parts,
                            e => vec![e],
                        }))
                    }
                };
                decl.key = Some(spec(self)?);
                if decl.kind == SetKind::Map {
                    self.expect(Tok::Colon, "`:` and the map's data type")?;
                    decl.data = Some(if word == "typeof" && self.is_word("verdict") {
                        let t = self.bump();
                        KeySpec::Types(vec![self.ident(t)])
                    } else {
                        spec(self)?
                    });
                }
                Ok(())
            }
            "flags" => {
                decl.flags.push(self.expect_word("a set flag")?);
                while self.eat(Tok::Comma) {
                    decl.flags.push(self.expect_word("a set flag")?);
                }
                Ok(())
            }
            "elements" => {
                self.expect(Tok::Assign, "`=`")?;
                if self.peek() != Tok::LBrace {
                    return Err(self.expected("`{`"));
                }
                decl.elements = Some(self.set_lit()?);
                Ok(())
            }
            "size" => self.expect_num("a number").map(drop),
            "comment" => self.expect_string("a string").map(drop),
            "auto-merge" => Ok(()),
            "policy" => self.expect_word("`performance` or `memory`").map(drop),
            "timeout" | "gc-interval" | "counter" | "quota" => {
                Err(self.unsupported(t.span, &format!("set {word}")))
            }
            _ => {
                let message = "expected `type`, `typeof`, `flags` or `elements`".to_owned();
                let words = ["type", "typeof", "flags", "elements", "size", "comment"];
                Err(self.unknown_word(t.span, &word, message, "not a set property", &words))
            }
        }
    }
}

/// Reads a decimal or `0x` hex integer, saturating at `u128::MAX`.
pub(crate) fn parse_int(text: &str) -> u128 {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (text, 10),
    };
    u128::from_str_radix(digits, radix).unwrap_or(u128::MAX)
}

#[cfg(test)]
mod tests {
    use crate::ast::*;

    fn parse(text: &str) -> (File, Vec<String>) {
        let (f, d) = crate::parse_str(text);
        (f, d.into_iter().map(|d| d.message).collect())
    }

    /// The statements of the rules of the first chain of the first table.
    fn rules(text: &str) -> Vec<Rule> {
        let (f, errors) = parse(&format!(
            "table netdev t {{\n chain c {{\n{text}\n }}\n}}\n"
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let Item::Table(t) = &f.items[0] else {
            panic!()
        };
        let TableItem::Chain(c) = &t.items[0] else {
            panic!()
        };
        c.rules.clone()
    }

    fn field_of(s: &Stmt) -> (String, String) {
        match s {
            Stmt::Match(Match {
                lhs: Expr::Field { header, field },
                ..
            }) => (header.name.clone(), field.name.clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn field_names_are_the_longest_declared_ones() {
        let r = rules("arp saddr ip 10.0.0.1 arp ptype ip");
        assert_eq!(field_of(&r[0].stmts[0]), ("arp".into(), "saddr ip".into()));
        assert_eq!(field_of(&r[0].stmts[1]), ("arp".into(), "ptype".into()));
        let Stmt::Match(m) = &r[0].stmts[1] else {
            panic!()
        };
        assert!(matches!(&m.rhs, Value::Lit { kind: LitKind::Word, text, .. } if text == "ip"));
    }

    #[test]
    fn a_symbol_that_is_a_header_name_ends_the_value() {
        let r = rules("ip protocol tcp tcp dport 22 accept");
        assert_eq!(r[0].stmts.len(), 3);
        assert_eq!(field_of(&r[0].stmts[1]), ("tcp".into(), "dport".into()));
        assert!(matches!(
            r[0].stmts[2],
            Stmt::Verdict(Verdict {
                kind: VerdictKind::Accept,
                ..
            })
        ));
    }

    #[test]
    fn rules_split_at_newlines_and_semicolons_but_not_continuations() {
        assert_eq!(rules("accept; drop\ncounter \\\n accept").len(), 3);
        let r = rules("tcp dport {\n 22,\n 80\n} accept");
        assert_eq!(r.len(), 1);
        let Stmt::Match(Match {
            rhs: Value::Set(s), ..
        }) = &r[0].stmts[0]
        else {
            panic!()
        };
        assert_eq!(s.elems.len(), 2);
    }

    #[test]
    fn slash_is_a_prefix_or_a_mask_list() {
        let r = rules("ip saddr . tcp dport 10.0.0.0/8 . 22\ntcp flags syn / syn,ack");
        let Stmt::Match(m) = &r[1].stmts[0] else {
            panic!()
        };
        let Value::Slash(v, mask, _) = &m.rhs else {
            panic!("{:?}", m.rhs)
        };
        assert!(matches!(**v, Value::Lit { .. }));
        assert!(matches!(**mask, Value::List(ref items, _) if items.len() == 2));
    }

    #[test]
    fn priorities_take_names_and_offsets() {
        let (f, errors) = parse(
            "table netdev t {\n chain c {\n  type filter hook ingress priority filter - 5; policy drop;\n }\n}\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Item::Table(t) = &f.items[0] else {
            panic!()
        };
        let TableItem::Chain(c) = &t.items[0] else {
            panic!()
        };
        let h = c.hook.as_ref().unwrap();
        assert_eq!(
            (
                h.priority.name.as_ref().unwrap().name.as_str(),
                h.priority.offset
            ),
            ("filter", -5)
        );
        assert_eq!(c.policy.as_ref().unwrap().name, "drop");
    }

    #[test]
    fn errors_are_reported_per_rule_and_parsing_goes_on() {
        let (f, errors) = parse(
            "table netdev t {\n chain c {\n  tcp dport == \n  accept\n  ip saddr 1.2.3.4 ~\n  drop\n }\n chain d {\n }\n}\n",
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        let Item::Table(t) = &f.items[0] else {
            panic!()
        };
        assert_eq!(t.items.len(), 2);
        let TableItem::Chain(c) = &t.items[0] else {
            panic!()
        };
        assert_eq!(c.rules.len(), 2);
    }

    #[test]
    fn user_headers_are_known_to_later_rules() {
        let (f, errors) = parse(
            "header h { a b : 8; c : 8; }\ntable netdev t {\n chain c {\n  h a b 1 h c 2\n }\n}\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Item::Table(t) = &f.items[1] else {
            panic!()
        };
        let TableItem::Chain(c) = &t.items[0] else {
            panic!()
        };
        assert_eq!(field_of(&c.rules[0].stmts[0]), ("h".into(), "a b".into()));
    }
}
