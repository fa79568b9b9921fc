//! Fuzzes the lexer, parser and checker: no input may make them panic.
//! Bytes are read as UTF-8 (lossily, as `switchctl check` reports invalid
//! UTF-8 itself); every diagnostic is also rendered, since rendering reads
//! the spans back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (_, diags) = ruleset::parse_str(&text);
    let _ = diags.len();
    if let Err(d) = ruleset::check_str("fuzz.nft", &text) {
        let _ = d.render(false);
        let _ = d.json();
    }
});
