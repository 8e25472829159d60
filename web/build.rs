//! Embeds the lessons: lists `../lessons/*.md` (all but the README) in name order and writes a
//! table of `include_str!`s to `$OUT_DIR/lessons.rs`, so a new lesson file is in the page at the
//! next build without any change to the code.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("..").join("lessons");
    // Cargo looks at the directory's own modification time, which changes when a file is
    // added, removed or renamed; and at each lesson, for edits.
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && name != "README.md")
        .collect();
    names.sort();
    let mut table = String::from("/// Every lesson file, in name order: the order of the course.\n");
    table.push_str("pub static LESSONS: &[LessonFile] = &[\n");
    for name in &names {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let path = path.canonicalize().expect("the lesson file exists");
        writeln!(table, "    LessonFile {{ name: {name:?}, text: include_str!({:?}) }},", path.display().to_string())
            .unwrap();
    }
    table.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("lessons.rs");
    std::fs::write(&out, table).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
