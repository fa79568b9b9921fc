//! Diagnostics: errors with spans, rendered with ariadne or as JSON.
//!
//! Every stage (lexer, parser, declarations, resolver) reports into one
//! list and goes on where it can, so a file's errors are all reported
//! together. [`Diagnostics`] carries the list with the sources it points
//! into; [`Diagnostics::render`] draws them (file, line, column, the
//! underlined span, secondary labels, a help line) and
//! [`Diagnostics::json`] gives the objects `switchctl check --json` prints.

use crate::span::{SourceMap, Span};
use ariadne::{Config, IndexType, Label, Report, ReportKind};
use serde::Serialize;
use std::fmt;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The ruleset is rejected.
    Error,
    /// Worth a look; the ruleset is still valid.
    Warning,
}

/// One problem found in a ruleset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one line.
    pub message: String,
    /// The primary span.
    pub span: Span,
    /// The text under the primary span (what was expected there).
    pub label: String,
    /// Secondary spans and their text.
    pub labels: Vec<(Span, String)>,
    /// A suggestion.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `span` whose underline says `label`.
    pub fn error(span: Span, message: impl Into<String>, label: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: label.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push((span, text.into()));
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }
}

/// The diagnostics of one check, with the sources they point into.
#[derive(Clone, Debug, thiserror::Error)]
pub struct Diagnostics {
    /// The files of the check.
    pub sources: SourceMap,
    /// The diagnostics in the order they were found.
    pub list: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Where a span is, as people count: 1-based lines and columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file's name.
    pub file: String,
    /// First line.
    pub line: u32,
    /// First column (characters).
    pub column: u32,
    /// Last line.
    pub end_line: u32,
    /// Column just past the end.
    pub end_column: u32,
}

/// A secondary label in JSON form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonLabel {
    /// The label's text.
    pub message: String,
    /// Where it points.
    #[serde(flatten)]
    pub location: Location,
}

/// A diagnostic in the JSON form of `switchctl check --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonDiagnostic {
    /// `error` or `warning`.
    pub severity: Severity,
    /// The message.
    pub message: String,
    /// Where the primary span is.
    #[serde(flatten)]
    pub location: Location,
    /// The primary label and the secondary ones.
    pub labels: Vec<JsonLabel>,
    /// The help line.
    pub help: Option<String>,
}

impl Diagnostics {
    /// True when at least one diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }

    /// Where a span is.
    pub fn locate(&self, span: Span) -> Location {
        locate(&self.sources, span)
    }

    /// Renders every diagnostic with ariadne; `color` turns ANSI colours on.
    pub fn render(&self, color: bool) -> String {
        let mut cache = ariadne::sources(
            self.sources
                .files()
                .iter()
                .map(|f| (f.name.clone(), f.text.clone())),
        );
        let mut out = Vec::new();
        for d in &self.list {
            if self.sources.get(d.span.file).text.is_empty() {
                // A file that could not be read: there is no source to show.
                let kind = match d.severity {
                    Severity::Error => "Error",
                    Severity::Warning => "Warning",
                };
                out.extend(format!("{kind}: {}\n", d.message).bytes());
                continue;
            }
            let config = Config::new()
                .with_index_type(IndexType::Byte)
                .with_color(color);
            let name = |s: Span| self.sources.get(s.file).name.clone();
            let kind = match d.severity {
                Severity::Error => ReportKind::Error,
                Severity::Warning => ReportKind::Warning,
            };
            let mut primary = Label::new((name(d.span), d.span.range())).with_message(&d.label);
            if color {
                primary = primary.with_color(ariadne::Color::Red);
            }
            let mut report = Report::build(kind, (name(d.span), d.span.range()))
                .with_config(config)
                .with_message(&d.message)
                .with_label(primary);
            for (i, (span, text)) in d.labels.iter().enumerate() {
                let mut label = Label::new((name(*span), span.range()))
                    .with_message(text)
                    .with_order(i as i32 + 1);
                if color {
                    label = label.with_color(ariadne::Color::Blue);
                }
                report = report.with_label(label);
            }
            if let Some(help) = &d.help {
                report = report.with_help(help);
            }
            // Writing to a Vec cannot fail.
            let _ = report.finish().write(&mut cache, &mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The diagnostics in JSON form, one object each.
    pub fn json(&self) -> Vec<JsonDiagnostic> {
        self.list
            .iter()
            .map(|d| JsonDiagnostic {
                severity: d.severity,
                message: d.message.clone(),
                location: self.locate(d.span),
                labels: std::iter::once((d.span, &d.label))
                    .filter(|(_, t)| !t.is_empty())
                    .chain(d.labels.iter().map(|(s, t)| (*s, t)))
                    .map(|(s, t)| JsonLabel {
                        message: t.clone(),
                        location: self.locate(s),
                    })
                    .collect(),
                help: d.help.clone(),
            })
            .collect()
    }
}

/// Where a span is in `sources`.
pub fn locate(sources: &SourceMap, span: Span) -> Location {
    let f = sources.get(span.file);
    let (line, column) = f.line_col(span.start);
    let (end_line, end_column) = f.line_col(span.end);
    Location {
        file: f.name.clone(),
        line,
        column,
        end_line,
        end_column,
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough
/// to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let n = word.chars().count();
    let limit = if n <= 3 { 1 } else { (n / 3).max(2) };
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|&(d, c)| d <= limit && c != word)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// `did you mean `X`?` when a candidate is close to `word`.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    suggest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Edit distance over characters where swapping two neighbours counts as
/// one edit (optimal string alignment), so `dprot` is one edit from `dport`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_close_names_only() {
        assert_eq!(suggest("dprot", ["sport", "dport", "flags"]), Some("dport"));
        assert_eq!(suggest("xyz", ["sport", "dport"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("tpc", "tcp"), 1);
        assert_eq!(suggest("tpc", ["tcp", "udp"]), Some("tcp"));
    }

    #[test]
    fn rendering_has_no_colour_codes_when_off() {
        let mut sources = SourceMap::default();
        let f = sources.add("a.nft".into(), None, "ip saddr 80\n".into());
        let d = Diagnostic::error(
            Span::new(f, 9, 11),
            "type mismatch",
            "expected an IPv4 address",
        )
        .with_help("write 10.0.0.80");
        let ds = Diagnostics {
            sources,
            list: vec![d],
        };
        let text = ds.render(false);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("a.nft:1:10"), "{text}");
        let json = &ds.json()[0];
        assert_eq!(
            (
                json.location.line,
                json.location.column,
                json.location.end_column
            ),
            (1, 10, 12)
        );
    }
}
