//! Loading files: reading, `include` resolution and include cycles.
//!
//! The [`Loader`] owns what one check accumulates while parsing: the
//! source map, the parser's name table and the diagnostics. An include
//! path is relative to the directory of the including file; a file that
//! includes itself, directly or through others, is an error showing the
//! chain of includes.

use crate::ast::File;
use crate::diagnostics::Diagnostic;
use crate::parser::Parser;
use crate::parser::names::Names;
use crate::span::{FileId, SourceMap, Span};
use std::path::{Path, PathBuf};

/// Deepest nesting of includes.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Parses files and the files they include.
#[derive(Clone, Debug, Default)]
pub struct Loader {
    /// Every file read so far.
    pub sources: SourceMap,
    /// Header, field and meta names in scope.
    pub names: Names,
    /// Diagnostics so far.
    pub diags: Vec<Diagnostic>,
    /// The files being parsed, outermost first (canonical paths).
    stack: Vec<PathBuf>,
}

impl Loader {
    /// A loader that starts from the given sources and names (the prelude's).
    pub fn new(sources: SourceMap, names: Names) -> Loader {
        Loader {
            sources,
            names,
            diags: Vec::new(),
            stack: Vec::new(),
        }
    }

    /// Parses a text that did not come from a file (or whose file was
    /// already read). `path` is used to resolve includes.
    pub fn parse_text(&mut self, name: &str, path: Option<PathBuf>, text: String) -> File {
        let id = self.sources.add(name.to_owned(), path, text.clone());
        Parser::new(self, id, text).parse_file()
    }

    /// Reads and parses a file given on the command line.
    pub fn parse_path(&mut self, path: &Path) -> Result<File, Diagnostic> {
        let text = read(path).map_err(|msg| {
            let id = self
                .sources
                .add(path.display().to_string(), None, String::new());
            Diagnostic::error(Span::new(id, 0, 0), msg, "")
        })?;
        self.stack.push(canonical(path));
        let file = self.parse_text(&path.display().to_string(), Some(path.to_owned()), text);
        self.stack.pop();
        Ok(file)
    }

    /// Handles `include "path"` found in `from` at `span`.
    pub fn include(&mut self, from: FileId, path: &str, span: Span) -> File {
        let base = self
            .sources
            .get(from)
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_owned);
        let full = match base {
            Some(dir) if Path::new(path).is_relative() => dir.join(path),
            _ => PathBuf::from(path),
        };
        let canon = canonical(&full);
        if let Some(i) = self.stack.iter().position(|p| *p == canon) {
            let chain: Vec<String> = self.stack[i..]
                .iter()
                .chain(std::iter::once(&canon))
                .map(|p| {
                    p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    )
                })
                .collect();
            self.diags.push(
                Diagnostic::error(
                    span,
                    format!("include cycle: {}", chain.join(" -> ")),
                    "this include closes the cycle",
                )
                .with_help("a file may be included only once along any chain of includes"),
            );
            return File::default();
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            self.diags.push(Diagnostic::error(
                span,
                "includes nested too deeply",
                "include depth limit reached",
            ));
            return File::default();
        }
        let text = match read(&full) {
            Ok(t) => t,
            Err(msg) => {
                self.diags
                    .push(Diagnostic::error(span, msg, "included here"));
                return File::default();
            }
        };
        self.stack.push(canon);
        let file = self.parse_text(&full.display().to_string(), Some(full.clone()), text);
        self.stack.pop();
        file
    }
}

/// Largest file that is read, in bytes.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Reads a regular UTF-8 file of at most [`MAX_FILE_BYTES`]; the error is
/// a one-line message. (A device such as `/dev/zero` would never end.)
fn read(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("cannot read {shown}: not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "cannot read {shown}: larger than {} MiB",
            MAX_FILE_BYTES >> 20
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{shown} is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The canonical form of a path, or the path itself when it does not exist.
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_are_relative_to_the_including_file_and_cycles_show_the_chain() {
        let dir = std::env::temp_dir().join(format!("jsw-loader-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("main.nft"), "include \"sub/a.nft\"\n").unwrap();
        std::fs::write(dir.join("sub/a.nft"), "define x = 1\ninclude \"b.nft\"\n").unwrap();
        std::fs::write(dir.join("sub/b.nft"), "include \"a.nft\"\n").unwrap();
        let mut loader = Loader::default();
        let file = loader.parse_path(&dir.join("main.nft")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let crate::ast::Item::Include(a) = &file.items[0] else {
            panic!()
        };
        assert_eq!(a.file.items.len(), 2);
        assert_eq!(loader.diags.len(), 1);
        assert_eq!(
            loader.diags[0].message,
            "include cycle: a.nft -> b.nft -> a.nft"
        );
    }

    #[test]
    fn an_unreadable_file_is_a_diagnostic() {
        let mut loader = Loader::default();
        let d = loader
            .parse_path(Path::new("/nonexistent/x.nft"))
            .unwrap_err();
        assert!(
            d.message.starts_with("cannot read /nonexistent/x.nft"),
            "{}",
            d.message
        );
    }
}
