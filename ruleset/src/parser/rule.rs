//! Rules: matches, statements, verdicts and right-hand-side values.
//!
//! A rule is read item by item until the end of the line, a `;` or the
//! `}` of its chain. Which words start a match depends on the declared
//! headers and meta keys ([`super::names::Names`]); a field name is the
//! longest declared one that the following words spell.

use super::{PResult, Parser, is_unqualified_meta, unsupported_word};
use crate::ast::*;
use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::lexer::Tok;

/// Statement keywords, for suggestions.
const STATEMENT_WORDS: &[&str] = &[
    "accept", "drop", "continue", "return", "jump", "goto", "flood", "counter", "limit", "log",
    "fwd", "dup", "meta", "comment",
];

impl Parser<'_> {
    /// A rule, up to (not including) its terminating newline, `;` or `}`.
    pub(super) fn rule(&mut self) -> PResult<Rule> {
        let start = self.cur().span;
        let mut stmts = Vec::new();
        let mut comment = None;
        loop {
            match self.peek() {
                Tok::Newline | Tok::Semi | Tok::RBrace | Tok::Eof => break,
                _ => {}
            }
            if comment.is_some() {
                return Err(self.expected("end of rule after the comment"));
            }
            if self.eat_word("comment") {
                comment = Some(self.expect_string("a comment in double quotes")?);
                continue;
            }
            stmts.push(self.stmt()?);
        }
        if stmts.is_empty() {
            return Err(self.expected("a match or a statement"));
        }
        Ok(Rule {
            stmts,
            comment,
            span: self.since(start),
        })
    }

    fn stmt(&mut self) -> PResult<Stmt> {
        let t = self.cur();
        match t.tok {
            Tok::At if self.peek_at(1).tok == Tok::Comma => return self.expr_stmt(),
            Tok::Word => {}
            _ => return Err(self.expected("a match or a statement")),
        }
        let word = self.text_of(t).to_owned();
        if let Some(kind) = self.verdict_kind()? {
            return Ok(Stmt::Verdict(Verdict {
                kind,
                span: self.since(t.span),
            }));
        }
        match word.as_str() {
            "counter" => {
                self.bump();
                if self.is_word("name") {
                    let n = self.cur().span;
                    return Err(self.unsupported(n, "named counters"));
                }
                let packets = if self.eat_word("packets") {
                    Some(self.expect_num("a number")?)
                } else {
                    None
                };
                let bytes = if self.eat_word("bytes") {
                    Some(self.expect_num("a number")?)
                } else {
                    None
                };
                Ok(Stmt::Counter {
                    packets,
                    bytes,
                    span: self.since(t.span),
                })
            }
            "limit" => self.limit(),
            "log" => self.log(),
            "fwd" | "dup" => {
                self.bump();
                if !self.is_word("to") {
                    let what = format!("{word} with an address (only `{word} to \"PORT\"`)");
                    let s = self.cur().span;
                    return Err(self.unsupported(s, &what));
                }
                self.bump();
                let port = self.value_prim()?;
                if self.is_word("device") {
                    let s = self.cur().span;
                    return Err(self.unsupported(s, &format!("{word} to an address")));
                }
                let span = self.since(t.span);
                Ok(if word == "fwd" {
                    Stmt::Fwd { port, span }
                } else {
                    Stmt::Dup { port, span }
                })
            }
            "vlan" if self.next_is_word(&["push", "pop"]) => {
                self.bump();
                if self.bump_text() == "pop" {
                    Ok(Stmt::VlanPop(self.since(t.span)))
                } else {
                    let id = self.value_prim()?;
                    Ok(Stmt::VlanPush {
                        id,
                        span: self.since(t.span),
                    })
                }
            }
            _ if self.is_expr_start(true) => self.expr_stmt(),
            _ => {
                if let Some(what) = unsupported_word(&word) {
                    return Err(self.unsupported(t.span, what));
                }
                if is_unqualified_meta(&word) {
                    return Err(self.unsupported(t.span, &format!("meta {word}")));
                }
                let names = self.loader.names.header_names();
                let help = did_you_mean(
                    &word,
                    names.iter().copied().chain(STATEMENT_WORDS.iter().copied()),
                );
                let d = Diagnostic::error(
                    t.span,
                    format!("unknown match or statement `{word}`"),
                    "expected a header, `meta`, a statement or a verdict",
                )
                .with_help_opt(help);
                Err(self.report(d))
            }
        }
    }

    /// True when the token after the current one is one of these words.
    fn next_is_word(&mut self, words: &[&str]) -> bool {
        let t = self.peek_at(1);
        t.tok == Tok::Word && words.contains(&self.text_of(t))
    }

    /// Consumes the current token and returns its text.
    fn bump_text(&mut self) -> String {
        let t = self.bump();
        self.text_of(t).to_owned()
    }

    /// A verdict keyword at the cursor, consumed with its chain name.
    fn verdict_kind(&mut self) -> PResult<Option<VerdictKind>> {
        if self.peek() != Tok::Word {
            return Ok(None);
        }
        let kind = match self.cur_text() {
            "accept" => VerdictKind::Accept,
            "drop" => VerdictKind::Drop,
            "continue" => VerdictKind::Continue,
            "return" => VerdictKind::Return,
            "flood" => VerdictKind::Flood,
            "jump" | "goto" => {
                let jump = self.cur_text() == "jump";
                self.bump();
                let chain = self.expect_name("a chain name")?;
                return Ok(Some(if jump {
                    VerdictKind::Jump(chain)
                } else {
                    VerdictKind::Goto(chain)
                }));
            }
            _ => return Ok(None),
        };
        self.bump();
        Ok(Some(kind))
    }

    /// True when the cursor starts a field, meta or raw expression. With
    /// `loose`, a header name followed by any word counts (so an unknown
    /// field is reported as such); otherwise the word must be a field.
    fn is_expr_start(&mut self, loose: bool) -> bool {
        let t = self.cur();
        let next = self.peek_at(1);
        match t.tok {
            Tok::At => next.tok == Tok::Comma,
            Tok::Word => {
                let w = self.text_of(t).to_owned();
                let w = w.as_str();
                if w == "meta" {
                    return next.tok == Tok::Word;
                }
                if self.loader.names.is_header(w) {
                    return loose || self.field_len(w) > 0;
                }
                is_unqualified_meta(w) && self.loader.names.is_meta(w)
            }
            _ => false,
        }
    }

    /// How many words after the header word spell its longest field name.
    fn field_len(&mut self, header: &str) -> usize {
        let mut words: [&str; 4] = [""; 4];
        let mut n = 0;
        self.skip_nl();
        let mut i = self.pos + 1;
        while n < 4 && self.toks[i].tok == Tok::Word {
            words[n] = &self.text[self.toks[i].span.range()];
            n += 1;
            i += 1;
        }
        self.loader
            .names
            .fields(header)
            .iter()
            .filter(|f| f.len() <= n && f.iter().zip(&words).all(|(a, b)| a == b))
            .map(Vec::len)
            .max()
            .unwrap_or(0)
    }

    /// A match, `set` statement or `vmap` statement starting with an expression.
    fn expr_stmt(&mut self) -> PResult<Stmt> {
        let start = self.cur().span;
        let lhs = self.expr()?;
        if self.eat_word("set") {
            let value = if self.is_expr_start(false) {
                let key = self.expr()?;
                if !self.is_word("map") {
                    let span = key.span();
                    return Err(self.unsupported(
                        span,
                        "expressions as values of `set` (only constants and `map` lookups)",
                    ));
                }
                self.bump();
                let map = self.map_ref()?;
                SetValue::Map { key, map }
            } else {
                SetValue::Value(self.value_top(false)?)
            };
            return Ok(Stmt::Set {
                target: lhs,
                value: Box::new(value),
                span: self.since(start),
            });
        }
        if self.eat_word("vmap") {
            let map = self.map_ref()?;
            return Ok(Stmt::VMap {
                key: lhs,
                map,
                span: self.since(start),
            });
        }
        if self.is_word("map") {
            let s = self.cur().span;
            return Err(self.unsupported(s, "map lookups outside `set` statements"));
        }
        let op = self.rel_op();
        let rhs = self.value_top(true)?;
        Ok(Stmt::Match(Match {
            lhs,
            op,
            rhs,
            span: self.since(start),
        }))
    }

    /// A set literal, `@NAME` or `$var` after `map` / `vmap`.
    fn map_ref(&mut self) -> PResult<Value> {
        match self.peek() {
            Tok::LBrace => Ok(Value::Set(self.set_lit()?)),
            Tok::At | Tok::Var => self.value_prim(),
            _ => Err(self.expected("`{`, `@map` or `$variable`")),
        }
    }

    fn rel_op(&mut self) -> Option<(RelOp, crate::span::Span)> {
        let t = self.cur();
        let op = match t.tok {
            Tok::EqEq => RelOp::Eq,
            Tok::Ne => RelOp::Ne,
            Tok::Lt => RelOp::Lt,
            Tok::Le => RelOp::Le,
            Tok::Gt => RelOp::Gt,
            Tok::Ge => RelOp::Ge,
            Tok::Word => match self.text_of(t) {
                "eq" => RelOp::Eq,
                "ne" => RelOp::Ne,
                "lt" => RelOp::Lt,
                "le" => RelOp::Le,
                "gt" => RelOp::Gt,
                "ge" => RelOp::Ge,
                _ => return None,
            },
            _ => return None,
        };
        self.bump();
        Some((op, t.span))
    }

    /// An expression: loads joined by `.`, each optionally with bitwise
    /// operations.
    pub(super) fn expr(&mut self) -> PResult<Expr> {
        let start = self.cur().span;
        let mut parts = vec![self.expr_bitwise()?];
        while self.peek() == Tok::Dot {
            self.bump();
            if !self.is_expr_start(true) {
                return Err(self.expected("a field, `meta KEY` or a raw load after `.`"));
            }
            parts.push(self.expr_bitwise()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Concat(parts, self.since(start))
        })
    }

    fn expr_bitwise(&mut self) -> PResult<Expr> {
        let start = self.cur().span;
        let mut e = self.expr_load()?;
        loop {
            let op = match self.peek() {
                Tok::Amp => BitOp::And,
                Tok::Pipe => BitOp::Or,
                Tok::Caret => BitOp::Xor,
                Tok::Word => match self.cur_text() {
                    "and" => BitOp::And,
                    "or" => BitOp::Or,
                    "xor" => BitOp::Xor,
                    _ => break,
                },
                Tok::Shl | Tok::Shr => {
                    let s = self.cur().span;
                    return Err(self.unsupported(s, "shifts in matches"));
                }
                _ => break,
            };
            self.bump();
            let value = self.value_or()?;
            e = Expr::Bitwise {
                op,
                expr: Box::new(e),
                value: Box::new(value),
                span: self.since(start),
            };
        }
        Ok(e)
    }

    fn expr_load(&mut self) -> PResult<Expr> {
        let t = self.cur();
        if t.tok == Tok::At {
            self.bump();
            let base = Ident {
                name: self.text_of(t)[1..].to_owned(),
                span: t.span,
            };
            self.expect(Tok::Comma, "`,` and the offset in bits")?;
            let offset = self.expect_num("an offset in bits")?;
            self.expect(Tok::Comma, "`,` and the length in bits")?;
            let len = self.expect_num("a length in bits")?;
            return Ok(Expr::Raw {
                base,
                offset,
                len,
                span: self.since(t.span),
            });
        }
        if t.tok != Tok::Word {
            return Err(self.expected("a field, `meta KEY` or a raw load"));
        }
        let word = self.text_of(t).to_owned();
        if word == "meta" {
            self.bump();
            let key = self.expect_word("a meta key")?;
            return Ok(Expr::Meta {
                key,
                span: self.since(t.span),
            });
        }
        if !self.loader.names.is_header(&word) {
            if is_unqualified_meta(&word) && self.loader.names.is_meta(&word) {
                self.bump();
                return Ok(Expr::Meta {
                    key: self.ident(t),
                    span: t.span,
                });
            }
            return Err(self.expected("a field, `meta KEY` or a raw load"));
        }
        let header = self.ident(t);
        let n = self.field_len(&word);
        self.bump();
        if n == 0 {
            let f = self.cur();
            if f.tok == Tok::Word && matches!(self.text_of(f), "option" | "exthdr") {
                let what = format!("{word} {}", self.text_of(f));
                return Err(self.unsupported(header.span.to(f.span), &what));
            }
            if f.tok != Tok::Word {
                let fields: Vec<String> = self
                    .loader
                    .names
                    .fields(&word)
                    .iter()
                    .map(|f| f.join(" "))
                    .collect();
                let d = Diagnostic::error(
                    f.span,
                    format!("expected a field of `{word}`"),
                    "expected a field name",
                )
                .with_help(format!("the fields of `{word}` are: {}", fields.join(", ")));
                return Err(self.report(d));
            }
            self.bump();
            return Ok(Expr::Field {
                header,
                field: self.ident(f),
            });
        }
        let first = self.cur().span;
        let mut words = Vec::with_capacity(n);
        for _ in 0..n {
            words.push(self.bump_text());
        }
        let field = Ident {
            name: words.join(" "),
            span: self.since(first),
        };
        Ok(Expr::Field { header, field })
    }

    /// A right-hand side. With `allow_list`, `a, b` is a flag list and
    /// `v / m` may take lists on both sides (`syn / syn,ack`).
    pub(super) fn value_top(&mut self, allow_list: bool) -> PResult<Value> {
        let start = self.cur().span;
        let v = if allow_list {
            self.value_list()?
        } else {
            self.value_concat()?
        };
        if self.peek() == Tok::Slash {
            self.bump();
            let mask = if allow_list {
                self.value_list()?
            } else {
                self.value_concat()?
            };
            return Ok(Value::Slash(Box::new(v), Box::new(mask), self.since(start)));
        }
        Ok(v)
    }

    fn value_list(&mut self) -> PResult<Value> {
        let start = self.cur().span;
        let mut items = vec![self.value_concat()?];
        while self.peek() == Tok::Comma {
            self.bump();
            items.push(self.value_concat()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Value::List(items, self.since(start))
        })
    }

    /// A value, prefix, range or concatenation (one set element's key).
    fn value_concat(&mut self) -> PResult<Value> {
        let start = self.cur().span;
        let mut parts = vec![self.value_or()?];
        while self.peek() == Tok::Dot {
            self.bump();
            parts.push(self.value_or()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Value::Concat(parts, self.since(start))
        })
    }

    fn value_or(&mut self) -> PResult<Value> {
        let start = self.cur().span;
        let mut items = vec![self.value_range()?];
        while self.peek() == Tok::Pipe {
            self.bump();
            items.push(self.value_range()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Value::Or(items, self.since(start))
        })
    }

    fn value_range(&mut self) -> PResult<Value> {
        let start = self.cur().span;
        let low = self.value_prefix()?;
        if self.peek() == Tok::Dash {
            self.bump();
            let high = self.value_prefix()?;
            return Ok(Value::Range(
                Box::new(low),
                Box::new(high),
                self.since(start),
            ));
        }
        Ok(low)
    }

    fn value_prefix(&mut self) -> PResult<Value> {
        let start = self.cur().span;
        let v = self.value_prim()?;
        if self.peek() == Tok::Slash && matches!(self.peek_at(1).tok, Tok::Number | Tok::Hex) {
            self.bump();
            let n = self.value_prim()?;
            return Ok(Value::Slash(Box::new(v), Box::new(n), self.since(start)));
        }
        Ok(v)
    }

    /// A single value: a literal, `$var`, `@set`, `{ ... }`, `( ... )` or `! v`.
    pub(super) fn value_prim(&mut self) -> PResult<Value> {
        let t = self.cur();
        let kind = match t.tok {
            Tok::Number => LitKind::Number,
            Tok::Hex => LitKind::Hex,
            Tok::Ipv4 => LitKind::Ipv4,
            Tok::Ipv6 => LitKind::Ipv6,
            Tok::Mac => LitKind::Mac,
            Tok::Word | Tok::DigitWord => LitKind::Word,
            Tok::Str => {
                self.bump();
                let s = self.string_ident(t);
                return Ok(Value::Lit {
                    kind: LitKind::Str,
                    text: s.name,
                    span: t.span,
                });
            }
            Tok::Var => {
                self.bump();
                return Ok(Value::Var(Ident {
                    name: self.text_of(t)[1..].to_owned(),
                    span: t.span,
                }));
            }
            Tok::At => {
                self.bump();
                return Ok(Value::SetRef(Ident {
                    name: self.text_of(t)[1..].to_owned(),
                    span: t.span,
                }));
            }
            Tok::LBrace => return Ok(Value::Set(self.nested(Self::set_lit)?)),
            Tok::LParen => {
                self.bump();
                self.nl_skip += 1;
                let v = self.nested(|p| p.value_top(true));
                self.nl_skip -= 1;
                let v = v?;
                self.expect(Tok::RParen, "`)`")?;
                return Ok(v);
            }
            Tok::Bang => {
                self.bump();
                let v = self.nested(Self::value_prim)?;
                return Ok(Value::Not(Box::new(v), self.since(t.span)));
            }
            _ => return Err(self.expected("a value")),
        };
        self.bump();
        Ok(Value::Lit {
            kind,
            text: self.text_of(t).to_owned(),
            span: t.span,
        })
    }

    /// `{ elem [: data], ... }`; newlines inside are insignificant.
    pub(super) fn set_lit(&mut self) -> PResult<SetLit> {
        let start = self.expect(Tok::LBrace, "`{`")?.span;
        self.nl_skip += 1;
        let r = self.set_elems();
        self.nl_skip -= 1;
        let elems = r?;
        let end = self.expect(Tok::RBrace, "`,` or `}`")?.span;
        Ok(SetLit {
            elems,
            span: start.to(end),
        })
    }

    fn set_elems(&mut self) -> PResult<Vec<SetElem>> {
        let mut elems = Vec::new();
        while self.peek() != Tok::RBrace {
            let start = self.cur().span;
            let key = self.value_concat()?;
            let data = if self.eat(Tok::Colon) {
                let vstart = self.cur().span;
                Some(match self.verdict_kind()? {
                    Some(kind) => ElemData::Verdict(Verdict {
                        kind,
                        span: self.since(vstart),
                    }),
                    None => ElemData::Value(self.value_concat()?),
                })
            } else {
                None
            };
            if self.peek() == Tok::Word
                && matches!(
                    self.cur_text(),
                    "timeout" | "expires" | "comment" | "counter"
                )
            {
                let t = self.cur();
                let what = format!("set element {}", self.text_of(t));
                return Err(self.unsupported(t.span, &what));
            }
            elems.push(SetElem {
                key,
                data,
                span: self.since(start),
            });
            if !self.eat(Tok::Comma) {
                break;
            }
        }
        Ok(elems)
    }

    fn limit(&mut self) -> PResult<Stmt> {
        let start = self.bump().span;
        if self.is_word("name") {
            let s = self.cur().span;
            return Err(self.unsupported(s, "named limits"));
        }
        self.expect_keyword("rate")?;
        let over = self.eat_word("over");
        if self.is_word("until") {
            let s = self.cur().span;
            return Err(self.unsupported(s, "limit rate until"));
        }
        let rate = self.expect_num("a rate")?;
        let rate_unit = if self.peek() == Tok::Word {
            let t = self.bump();
            Some(self.ident(t))
        } else {
            None
        };
        self.expect(Tok::Slash, "`/` and a time unit")?;
        let per = self.expect_word("`second`, `minute`, `hour`, `day` or `week`")?;
        let (mut burst, mut burst_unit) = (None, None);
        if self.eat_word("burst") {
            burst = Some(self.expect_num("a burst size")?);
            if self.peek() == Tok::Word
                && matches!(self.cur_text(), "packets" | "bytes" | "kbytes" | "mbytes")
            {
                let t = self.bump();
                burst_unit = Some(self.ident(t));
            }
        }
        let span = self.since(start);
        Ok(Stmt::Limit(Box::new(Limit {
            over,
            rate,
            rate_unit,
            per,
            burst,
            burst_unit,
            span,
        })))
    }

    fn log(&mut self) -> PResult<Stmt> {
        let start = self.bump().span;
        let (mut prefix, mut level) = (None, None);
        loop {
            if self.eat_word("prefix") {
                prefix = Some(match self.value_prim()? {
                    Value::Lit {
                        kind: LitKind::Str,
                        text,
                        span,
                    } => Ident { name: text, span },
                    other => {
                        let d = Diagnostic::error(
                            other.span(),
                            "expected a log prefix in double quotes",
                            "expected a string",
                        );
                        return Err(self.report(d));
                    }
                });
            } else if self.eat_word("level") {
                level = Some(self.expect_word("a log level")?);
            } else if self.peek() == Tok::Word
                && matches!(
                    self.cur_text(),
                    "group" | "snaplen" | "queue-threshold" | "flags"
                )
            {
                let t = self.cur();
                let what = format!("log {}", self.text_of(t));
                return Err(self.unsupported(t.span, &what));
            } else {
                break;
            }
        }
        Ok(Stmt::Log {
            prefix,
            level,
            span: self.since(start),
        })
    }
}
