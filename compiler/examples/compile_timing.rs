//! Times the stages from a ruleset file to a verified program (for
//! profiling the compiler: `valgrind --tool=callgrind` counts instructions).
fn main() {
    let path = std::env::args().nth(1).expect("usage: compile_timing FILE");
    let t = std::time::Instant::now();
    let checked = ruleset::check_file(std::path::Path::new(&path)).expect("the ruleset checks");
    let t1 = t.elapsed();
    let program = compiler::compile(&checked).expect("the ruleset compiles");
    let t2 = t.elapsed();
    let verified = vm::verify(program).expect("the program verifies");
    let t3 = t.elapsed();
    eprintln!(
        "check {t1:?} compile {:?} verify {:?} ({} rules)",
        t2 - t1,
        t3 - t2,
        verified
            .program()
            .chains
            .iter()
            .map(|c| c.rules.len())
            .sum::<usize>()
    );
}
