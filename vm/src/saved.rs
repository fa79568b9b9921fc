//! The RON form of a program: how programs are saved and loaded.
//!
//! A program round-trips exactly, in the pretty form (for files people
//! read and diff) and the compact one (one line). Loading never panics,
//! whatever the bytes: invalid UTF-8 and invalid RON are errors. A loaded
//! program is only data; it runs after [`crate::verify`] accepts it.

use crate::program::Program;
use thiserror::Error;

/// Why bytes could not be loaded as a program.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The bytes are not UTF-8.
    #[error("not UTF-8: {0}")]
    Utf8(#[from] std::str::Utf8Error),
    /// The text is not the RON form of a program.
    #[error("not a program in RON: {0}")]
    Ron(#[from] ron::error::SpannedError),
}

/// Why a program could not be saved (does not happen for programs built
/// from this crate's types; kept typed rather than unwrapped).
#[derive(Debug, Error)]
#[error("cannot write the program as RON: {0}")]
pub struct SaveError(#[from] ron::Error);

/// The program in pretty RON, one field a line.
pub fn to_ron_pretty(program: &Program) -> Result<String, SaveError> {
    let config = ron::ser::PrettyConfig::new()
        .indentor("  ")
        .struct_names(true);
    Ok(ron::ser::to_string_pretty(program, config)?)
}

/// The program in compact RON, on one line.
pub fn to_ron(program: &Program) -> Result<String, SaveError> {
    Ok(ron::ser::to_string(program)?)
}

/// Loads a program from RON text.
pub fn from_ron(text: &str) -> Result<Program, LoadError> {
    Ok(ron::de::from_str(text)?)
}

/// Loads a program from bytes holding RON text.
pub fn from_ron_bytes(bytes: &[u8]) -> Result<Program, LoadError> {
    from_ron(std::str::from_utf8(bytes)?)
}
