//! The declaration language of design.md 2.2: `datatype`, `symbols`,
//! `header`, `parse`, `layer`, `meta`, `network` and `transport`.
//!
//! Declarations end with `;` (or the `}` of their body); newlines inside
//! them are insignificant. A header's field names enter the parser's name
//! table as soon as the header is read, so later rules can use them.

use super::{PResult, Parser};
use crate::ast::*;
use crate::diagnostics::Diagnostic;
use crate::lexer::Tok;

impl Parser<'_> {
    /// One declaration, starting at its keyword.
    pub(super) fn decl(&mut self) -> PResult<Decl> {
        self.nl_skip += 1;
        let r = self.decl_inner();
        self.nl_skip -= 1;
        r
    }

    fn decl_inner(&mut self) -> PResult<Decl> {
        let kw = self.bump();
        let start = kw.span;
        let decl = match self.text_of(kw) {
            "datatype" => {
                let name = self.expect_word("a datatype name")?;
                self.expect(Tok::Colon, "`:` and a width in bits")?;
                let bits = self.expect_num("a width in bits")?;
                let form = if self.peek() == Tok::Word {
                    Some(self.expect_word("a literal form")?)
                } else {
                    None
                };
                self.expect(Tok::Semi, "`;`")?;
                Decl::Datatype {
                    name,
                    bits,
                    form,
                    span: self.since(start),
                }
            }
            "symbols" => self.symbols(start)?,
            "header" => Decl::Header(self.header(start)?),
            "parse" => {
                let conds = self.conds()?;
                self.expect(Tok::Arrow, "`,` or `=>` and the header reached")?;
                let target = self.expect_word("a header name")?;
                self.expect(Tok::Semi, "`;`")?;
                Decl::Parse {
                    conds,
                    target,
                    span: self.since(start),
                }
            }
            "layer" => {
                let layer = self.expect_word("`link`, `network` or `transport`")?;
                if layer.name == "link" {
                    let header = self.expect_word("a header name")?;
                    self.expect(Tok::Semi, "`;`")?;
                    Decl::LayerLink {
                        header,
                        span: self.since(start),
                    }
                } else {
                    self.expect_keyword("key")?;
                    let key = self.expect_word("a key name")?;
                    let ty = self.expect_word("a datatype")?;
                    self.expect(Tok::Semi, "`;`")?;
                    self.loader.names.add_meta(&key.name);
                    Decl::LayerKey {
                        layer,
                        key,
                        ty,
                        span: self.since(start),
                    }
                }
            }
            "meta" => {
                let name = self.expect_word("a meta key name")?;
                self.expect(Tok::Colon, "`:` and a datatype")?;
                let ty = self.expect_word("a datatype")?;
                let settable = self.eat_word("settable");
                let class_of = if self.eat_word("class") {
                    self.expect_keyword("of")?;
                    let header = self.expect_word("a header name")?;
                    let field = self.expect_word("a field name")?;
                    Some((header, field))
                } else {
                    None
                };
                self.expect(Tok::Semi, "`;`")?;
                self.loader.names.add_meta(&name.name);
                Decl::Meta {
                    name,
                    ty,
                    settable,
                    class_of,
                    span: self.since(start),
                }
            }
            _ => {
                let layer = self.ident(kw);
                let header = self.expect_word("a header name")?;
                let conds = if self.eat_word("if") {
                    self.conds()?
                } else {
                    Vec::new()
                };
                let mut through = Vec::new();
                if self.eat_word("through") {
                    through.push(self.expect_word("a header name")?);
                    while self.eat(Tok::Comma) {
                        through.push(self.expect_word("a header name")?);
                    }
                }
                let offloaded = self.eat_word("offloaded");
                self.expect(Tok::Semi, "`;`")?;
                Decl::LayerRule {
                    layer,
                    header,
                    conds,
                    through,
                    offloaded,
                    span: self.since(start),
                }
            }
        };
        Ok(decl)
    }

    fn symbols(&mut self, start: crate::span::Span) -> PResult<Decl> {
        let name = self.expect_word("a type name")?;
        self.expect(Tok::Colon, "`:` and a width in bits")?;
        let bits = self.expect_num("a width in bits")?;
        let flags = self.eat_word("flags");
        self.expect(Tok::LBrace, "`{`")?;
        let mut symbols = Vec::new();
        while self.peek() != Tok::RBrace {
            let sym = match self.peek() {
                Tok::Word | Tok::DigitWord => {
                    let t = self.bump();
                    self.ident(t)
                }
                _ => return Err(self.expected("a symbol name or `}`")),
            };
            self.expect(Tok::Assign, "`=` and a value")?;
            let value = self.expect_num("a number")?;
            symbols.push((sym, value));
            if !self.eat(Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RBrace, "`,` or `}`")?;
        Ok(Decl::Symbols {
            name,
            bits,
            flags,
            symbols,
            span: self.since(start),
        })
    }

    fn header(&mut self, start: crate::span::Span) -> PResult<HeaderDecl> {
        let name = self.expect_word("a header name")?;
        let at = if self.eat_word("at") {
            Some(self.expect_word("`link`, `network` or `transport`")?)
        } else {
            None
        };
        self.expect(Tok::LBrace, "`{`")?;
        let mut h = HeaderDecl {
            name,
            at,
            fields: Vec::new(),
            attrs: Vec::new(),
            span: start,
        };
        while !matches!(self.peek(), Tok::RBrace | Tok::Eof) {
            let before = self.pos;
            if self.header_item(&mut h).is_err() {
                self.recover_decl_item();
            }
            self.ensure_progress(before);
        }
        self.expect(Tok::RBrace, "`}`")?;
        h.span = self.since(start);
        self.loader
            .names
            .add_header(&h.name.name, h.fields.iter().map(|f| f.name.name.as_str()));
        Ok(h)
    }

    /// Skips to just after the next `;`, or to a `}`, inside a header body.
    fn recover_decl_item(&mut self) {
        loop {
            match self.peek() {
                Tok::Eof | Tok::RBrace => return,
                Tok::Semi => {
                    self.bump();
                    return;
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    fn header_item(&mut self, h: &mut HeaderDecl) -> PResult<()> {
        let start = self.cur().span;
        let mut words = vec![self.expect_word("a field name or an attribute")?];
        while self.peek() == Tok::Word {
            words.push(self.expect_word("a field name")?);
        }
        if self.eat(Tok::Assign) {
            let attr = words.remove(0);
            if let Some(extra) = words.first() {
                let d = Diagnostic::error(
                    extra.span,
                    "expected `=` after the attribute name",
                    "unexpected word",
                );
                return Err(self.report(d));
            }
            let kind = match attr.name.as_str() {
                "length" => AttrKind::Length(self.hexpr(h)?),
                "valid" => AttrKind::Valid(self.hexpr(h)?),
                "fragment" => AttrKind::Fragment(self.hexpr(h)?),
                "next" => AttrKind::Next(self.next_cases(h)?),
                "checksum" => AttrKind::Checksum {
                    field: self.own_field(h)?,
                    pseudo: self.eat_word("pseudo"),
                    optional: self.eat_word("optional"),
                },
                other => {
                    let help = crate::diagnostics::did_you_mean(
                        other,
                        ["length", "valid", "fragment", "next", "checksum"],
                    );
                    let d = Diagnostic::error(
                        attr.span,
                        format!("unknown header attribute `{other}`"),
                        "expected `length`, `valid`, `fragment`, `next` or `checksum`",
                    )
                    .with_help_opt(help);
                    return Err(self.report(d));
                }
            };
            self.expect(Tok::Semi, "`;`")?;
            h.attrs.push(HeaderAttr {
                kind,
                span: self.since(start),
            });
            return Ok(());
        }
        self.expect(Tok::Colon, "`:` and a width in bits, or `=`")?;
        let name = Ident {
            name: words
                .iter()
                .map(|w| w.name.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            span: words[0].span.to(words[words.len() - 1].span),
        };
        let bits = self.expect_num("a width in bits")?;
        let mut field = FieldDecl {
            name,
            bits,
            ty: None,
            pseudo: false,
            cond: None,
            span: start,
        };
        if self.peek() == Tok::Word && !matches!(self.cur_text(), "pseudo" | "if") {
            field.ty = Some(self.expect_word("a datatype")?);
        }
        field.pseudo = self.eat_word("pseudo");
        if self.eat_word("if") {
            let cstart = self.cur().span;
            let f = self.own_field(h)?;
            let values = self.value_prim()?;
            field.cond = Some(CondDecl {
                subject: CondSubject::Own(f),
                values,
                span: self.since(cstart),
            });
        }
        self.expect(Tok::Semi, "`;`")?;
        field.span = self.since(start);
        h.fields.push(field);
        Ok(())
    }

    /// `FIELD [if COND else VALUE [if COND else VALUE ...]]`: the cases of
    /// `next`.
    fn next_cases(&mut self, h: &HeaderDecl) -> PResult<Vec<NextCaseDecl>> {
        let mut cases = Vec::new();
        loop {
            let value = self.hexpr(h)?;
            if !self.eat_word("if") {
                cases.push(NextCaseDecl { value, when: None });
                return Ok(cases);
            }
            let when = Some(self.hexpr(h)?);
            cases.push(NextCaseDecl { value, when });
            if !self.eat_word("else") {
                return Err(self.expected("`else` and the value where the condition fails"));
            }
        }
    }

    /// A field of the header being declared: its longest name at the cursor.
    fn own_field(&mut self, h: &HeaderDecl) -> PResult<Ident> {
        let start = self.cur();
        if start.tok != Tok::Word {
            return Err(self.expected("a field name"));
        }
        let mut best = 1;
        for f in &h.fields {
            let words: Vec<&str> = f.name.name.split(' ').collect();
            let matches = (0..words.len()).all(|i| {
                let t = self.peek_at(i);
                t.tok == Tok::Word && self.text_of(t) == words[i]
            });
            if matches {
                best = best.max(words.len());
            }
        }
        let mut names = Vec::new();
        for _ in 0..best {
            let t = self.bump();
            names.push(self.text_of(t).to_owned());
        }
        Ok(Ident {
            name: names.join(" "),
            span: self.since(start.span),
        })
    }

    /// `COND [, COND ...]`: `meta KEY VALUES` or `HEADER FIELD VALUES`.
    fn conds(&mut self) -> PResult<Vec<CondDecl>> {
        let mut conds = vec![self.cond()?];
        while self.eat(Tok::Comma) {
            conds.push(self.cond()?);
        }
        Ok(conds)
    }

    fn cond(&mut self) -> PResult<CondDecl> {
        let start = self.cur().span;
        let subject = match self.expr()? {
            Expr::Field { header, field } => CondSubject::Field { header, field },
            Expr::Meta { key, .. } => CondSubject::Meta(key),
            other => {
                let d = Diagnostic::error(
                    other.span(),
                    "expected `HEADER FIELD` or `meta KEY`",
                    "not a condition subject",
                );
                return Err(self.report(d));
            }
        };
        let values = self.value_prim()?;
        Ok(CondDecl {
            subject,
            values,
            span: self.since(start),
        })
    }

    /// A header expression (design.md 2.2), lowest precedence first.
    fn hexpr(&mut self, h: &HeaderDecl) -> PResult<HExpr> {
        self.hexpr_level(h, 0)
    }

    fn hexpr_level(&mut self, h: &HeaderDecl, level: usize) -> PResult<HExpr> {
        const LEVELS: &[&[(Tok, &str, HBinOp)]] = &[
            &[(Tok::Word, "or", HBinOp::Or)],
            &[(Tok::Word, "and", HBinOp::And)],
            &[
                (Tok::EqEq, "", HBinOp::Eq),
                (Tok::Ne, "", HBinOp::Ne),
                (Tok::Lt, "", HBinOp::Lt),
                (Tok::Le, "", HBinOp::Le),
                (Tok::Gt, "", HBinOp::Gt),
                (Tok::Ge, "", HBinOp::Ge),
            ],
            &[(Tok::Pipe, "", HBinOp::BitOr)],
            &[(Tok::Amp, "", HBinOp::BitAnd)],
            &[(Tok::Shl, "", HBinOp::Shl), (Tok::Shr, "", HBinOp::Shr)],
            &[(Tok::Plus, "", HBinOp::Add), (Tok::Dash, "", HBinOp::Sub)],
            &[(Tok::Star, "", HBinOp::Mul)],
        ];
        if level == LEVELS.len() {
            return self.hexpr_atom(h);
        }
        if level == 2 && self.eat_word("not") {
            let start = self.toks[self.pos - 1].span;
            let e = self.nested(|p| p.hexpr_level(h, level))?;
            return Ok(HExpr::Not(Box::new(e), self.since(start)));
        }
        let start = self.cur().span;
        let mut lhs = self.hexpr_level(h, level + 1)?;
        loop {
            let t = self.cur();
            let Some(&(_, _, op)) = LEVELS[level].iter().find(|(tok, word, _)| {
                *tok == t.tok && (word.is_empty() || self.text_of(t) == *word)
            }) else {
                break;
            };
            self.bump();
            let rhs = self.hexpr_level(h, level + 1)?;
            lhs = HExpr::Binary(op, Box::new(lhs), Box::new(rhs), self.since(start));
            if level == 2 {
                break;
            }
        }
        Ok(lhs)
    }

    fn hexpr_atom(&mut self, h: &HeaderDecl) -> PResult<HExpr> {
        match self.peek() {
            Tok::Number | Tok::Hex => Ok(HExpr::Num(self.expect_num("a number")?)),
            Tok::LParen => {
                self.bump();
                let e = self.nested(|p| p.hexpr(h))?;
                self.expect(Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::Word if self.cur_text() == "remaining" => Ok(HExpr::Remaining(self.bump().span)),
            Tok::Word if self.cur_text() == "payload" => {
                let start = self.bump().span;
                let bits = self.expect_num("a width in bits")?;
                Ok(HExpr::Payload(bits, self.since(start)))
            }
            Tok::Word => Ok(HExpr::Field(self.own_field(h)?)),
            _ => Err(self.expected("a number, a field name, `remaining`, `payload BITS` or `(`")),
        }
    }
}
