fn main() {
    let path = std::env::args().nth(1).unwrap();
    match compiler::compile_file(std::path::Path::new(&path)) {
        Ok((_, v)) => print!("{}", vm::listing::listing(v.program())),
        Err(d) => eprint!("{}", d.render(false)),
    }
}
