//! The names the parser must know to split a rule into matches.
//!
//! A field name can have several words (`arp saddr ip`) and a value can be
//! a word (`ip protocol tcp`), so where a field reference ends depends on
//! the declared headers. The parser keeps this table of header names, their
//! field names and meta keys, and adds to it as it reads declarations, so a
//! header declared in a file can be used further down the same file.

use std::collections::{HashMap, HashSet};

/// Header, field and meta key names in scope.
#[derive(Clone, Debug, Default)]
pub struct Names {
    headers: HashMap<String, Vec<Vec<String>>>,
    metas: HashSet<String>,
}

impl Names {
    /// Declares a header with its (possibly multi-word) field names.
    pub fn add_header<'a>(&mut self, name: &str, fields: impl IntoIterator<Item = &'a str>) {
        let fields = fields
            .into_iter()
            .filter(|f| *f != "_")
            .map(|f| f.split(' ').map(str::to_owned).collect())
            .collect();
        self.headers.insert(name.to_owned(), fields);
    }

    /// Declares a meta key.
    pub fn add_meta(&mut self, key: &str) {
        self.metas.insert(key.to_owned());
    }

    /// True when `word` names a header.
    pub fn is_header(&self, word: &str) -> bool {
        self.headers.contains_key(word)
    }

    /// True when `word` names a meta key.
    pub fn is_meta(&self, word: &str) -> bool {
        self.metas.contains(word)
    }

    /// The field names of a header, each as its words.
    pub fn fields(&self, header: &str) -> &[Vec<String>] {
        self.headers.get(header).map_or(&[], Vec::as_slice)
    }

    /// The header names, sorted.
    pub fn header_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.headers.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}
