//! Keeps the book (book/src) and the README honest:
//!
//! - every `{{#include}}` resolves (file and anchor), and every Rust block
//!   is an `ignore` block that only includes a file of `examples/` (those
//!   are built by cargo and run as doc tests: src/lib.rs);
//! - every TOML block is a valid `CacheConfig` (`toml,sim`: `SimConfig`), and the reference's
//!   "every field and its default" block equals the defaults;
//! - the validation errors the reference quotes are the real messages;
//! - every `strata` command shown exists with the flags shown, and the
//!   tuning walkthrough runs as written, printing the output it shows.

use std::path::{Path, PathBuf};
use std::process::Command;

use strata::core::config::{CacheConfig, L2Config};
use strata::sim::SimConfig;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fenced code block: its info string, its lines (indentation of the
/// fence removed) and the line of the fence.
#[derive(Debug)]
struct Block {
    info: String,
    text: String,
    line: usize,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, usize, Vec<String>)> = None;
    for (i, raw) in markdown.lines().enumerate() {
        let trimmed = raw.trim_start();
        let indent = raw.len() - trimmed.len();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    open = Some((info.trim().to_string(), indent, i + 1, Vec::new()));
                }
            }
            Some((info, fence_indent, line, lines)) => {
                if trimmed == "```" {
                    out.push(Block { info: info.clone(), text: lines.join("\n"), line: *line });
                    open = None;
                } else {
                    lines.push(raw.get(*fence_indent..).unwrap_or(trimmed).to_string());
                }
            }
        }
    }
    assert!(open.is_none(), "unclosed code block");
    out
}

/// Every markdown file of the book, with its path.
fn chapters() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("book/src"), &mut out);
    assert!(out.len() >= 10, "book/src has {} chapters", out.len());
    out
}

/// The text `{{#include path[:anchor]}}` stands for, from the chapter at `md`.
fn include(md: &Path, spec: &str) -> String {
    let (path, anchor) = match spec.rsplit_once(':') {
        Some((p, a)) if !a.contains('/') => (p, Some(a)),
        _ => (spec, None),
    };
    let file = md.parent().unwrap().join(path);
    let text =
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: include {spec}: {e}", md.display()));
    let Some(anchor) = anchor else { return text };
    let start = format!("ANCHOR: {anchor}");
    let end = format!("ANCHOR_END: {anchor}");
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.contains(&end) {
            assert!(inside, "{}: anchor {anchor} ends before it starts in {path}", md.display());
            return out.join("\n");
        }
        if inside && !line.contains("ANCHOR") {
            out.push(line);
        }
        if line.contains(&start) {
            inside = true;
        }
    }
    panic!("{}: anchor {anchor} not found (or not closed) in {path}", md.display());
}

/// The block's text with `{{#include}}` lines replaced by what they include.
fn expand(md: &Path, text: &str) -> String {
    text.lines()
        .map(|l| match l.trim().strip_prefix("{{#include ").and_then(|r| r.strip_suffix("}}")) {
            Some(spec) => include(md, spec.trim()),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rust_blocks_include_tested_examples() {
    let mut included = 0;
    for (md, text) in chapters() {
        for b in blocks(&text) {
            let lang = b.info.split(',').next().unwrap_or("");
            if lang != "rust" {
                continue;
            }
            let at = format!("{}:{}", md.display(), b.line);
            // mdbook test cannot link the workspace: Rust shown in the book
            // is an example file, compiled by cargo and run by `cargo test --doc`.
            assert!(
                b.info.split(',').any(|a| a == "ignore"),
                "{at}: a Rust block must be `rust,ignore` + include"
            );
            let spec =
                b.text.trim().strip_prefix("{{#include ").and_then(|r| r.strip_suffix("}}")).unwrap_or_else(
                    || panic!("{at}: a Rust block must be one {{{{#include ../examples/...}}}}"),
                );
            assert!(
                spec.contains("examples/") && spec.contains(".rs"),
                "{at}: includes {spec}, not an example"
            );
            let code = include(&md, spec.trim());
            assert!(code.lines().count() >= 3, "{at}: {spec} includes almost nothing");
            included += 1;
        }
    }
    assert!(included >= 8, "only {included} Rust blocks in the book");
}

#[test]
fn every_include_resolves() {
    for (md, text) in chapters() {
        for line in text.lines() {
            if let Some(spec) = line.trim().strip_prefix("{{#include ").and_then(|r| r.strip_suffix("}}")) {
                include(&md, spec.trim());
            }
        }
    }
}

#[test]
fn toml_blocks_are_valid_configs() {
    let mut docs = chapters();
    docs.push((root().join("README.md"), std::fs::read_to_string(root().join("README.md")).unwrap()));
    let mut checked = 0;
    for (md, text) in docs {
        for b in blocks(&text) {
            let at = format!("{}:{}", md.display(), b.line);
            let toml = expand(&md, &b.text);
            match b.info.as_str() {
                "toml" => drop(CacheConfig::from_toml_str(&toml, &at).unwrap_or_else(|e| panic!("{e}"))),
                // The simulator's own settings (`strata replay --sim`).
                "toml,sim" => drop(SimConfig::from_toml_str(&toml, &at).unwrap_or_else(|e| panic!("{e}"))),
                other if other.starts_with("toml") => panic!("{at}: unknown TOML block kind {other:?}"),
                _ => continue,
            }
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} TOML blocks");
}

fn chapter(rel: &str) -> (PathBuf, String) {
    let p = root().join("book/src").join(rel);
    let text = std::fs::read_to_string(&p).unwrap();
    (p, text)
}

#[test]
fn the_reference_lists_the_real_defaults() {
    let (_, text) = chapter("operations/configuration.md");
    let block = blocks(&text)
        .into_iter()
        .find(|b| b.info == "toml")
        .expect("the defaults block is the reference's first TOML block");
    let parsed = CacheConfig::from_toml_str(&block.text, "defaults").unwrap();
    let defaults = CacheConfig { l2: Some(L2Config::default()), ..CacheConfig::default() };
    assert_eq!(parsed, defaults);
    // Every field of the defaults is written out, none left implicit
    // (`ttl_ms` of L1 and `capacity` of L2 are `None` by default: absent).
    let full = defaults.to_toml_string().unwrap();
    for line in full.lines().filter(|l| l.contains(" = ")) {
        let key = line.split(" = ").next().unwrap();
        assert!(block.text.contains(&format!("{key} = ")), "the defaults block lacks `{key}`");
    }
}

#[test]
fn quoted_validation_errors_are_real() {
    let (_, text) = chapter("operations/configuration.md");
    for (toml, source) in [
        ("[l1]\ncapacity = { entries = 0 }\n", "t.toml"),
        ("[write]\n\nbatchsize = 3\n", "t.toml"),
        ("[l2]\nnamespace = \"app:cache\"\n", "t.toml"),
        ("[write]\nbatch_size = 200000\n", "t.toml"),
    ] {
        let msg = CacheConfig::from_toml_str(toml, source).unwrap_err().to_string();
        // The reference may shorten a long list of expected fields with "...".
        let shown = msg.split(", `").next().unwrap();
        assert!(text.contains(shown), "configuration.md does not quote the real error: {msg}");
    }
}

/// The `strata` commands of the sh blocks of `text`, as argument lists.
fn strata_commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in blocks(text) {
        if b.info != "sh" {
            continue;
        }
        for line in b.text.lines() {
            let line = line.split(" #").next().unwrap().trim();
            let args = if let Some(rest) = line.strip_prefix("strata ") {
                rest
            } else if let Some((_, rest)) =
                line.split_once("cargo run --release -- ").or(line.split_once("cargo run -- "))
            {
                rest
            } else {
                continue;
            };
            out.push(args.split_whitespace().map(String::from).collect());
        }
    }
    out
}

fn strata(args: &[String], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

#[test]
fn commands_shown_exist_with_their_flags() {
    let mut docs = chapters();
    docs.push((root().join("README.md"), std::fs::read_to_string(root().join("README.md")).unwrap()));
    let top = String::from_utf8(strata(&["--help".into()], &root()).stdout).unwrap();
    let mut checked = 0;
    for (md, text) in docs {
        for args in strata_commands(&text) {
            let sub = &args[0];
            let listed = top.lines().any(|l| l.split_whitespace().next() == Some(sub.as_str()));
            assert!(listed, "{}: `strata {sub}` is not a command of `strata --help`:\n{top}", md.display());
            let help = String::from_utf8(strata(&[sub.clone(), "--help".into()], &root()).stdout).unwrap();
            for flag in args.iter().filter(|a| a.starts_with("--")) {
                let flag = flag.split('=').next().unwrap();
                let whole = help.match_indices(flag).any(|(at, _)| {
                    help[at + flag.len()..].chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '-'))
                });
                assert!(whole, "{}: `strata {sub}` has no {flag}", md.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 2, "only {checked} commands");
}

#[test]
fn the_tuning_walkthrough_runs_as_written() {
    let (md, text) = chapter("tuning.md");
    let dir = tempfile::tempdir().unwrap();
    let all = blocks(&text);
    let mut ran = 0;
    for (i, b) in all.iter().enumerate() {
        if b.info != "sh" {
            continue;
        }
        for args in strata_commands(&format!("```sh\n{}\n```\n", b.text)) {
            let out = strata(&args, dir.path());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{}:{}: strata {args:?} failed: {stderr}", md.display(), b.line);
            ran += 1;
            // A text block right after the command is its output.
            if let Some(next) = all.get(i + 1).filter(|n| n.info == "text") {
                let stdout = String::from_utf8(out.stdout).unwrap();
                assert_eq!(
                    stdout.trim_end(),
                    next.text.trim_end(),
                    "{}:{}: output differs",
                    md.display(),
                    next.line
                );
            }
        }
    }
    assert!(ran >= 4, "the walkthrough ran {ran} commands");
    // A TOML file a command wrote (`-o tuned.toml`) is shown as written.
    let mut shown = 0;
    for args in strata_commands(&text) {
        let Some(i) = args.iter().position(|a| a == "-o" || a == "--output") else { continue };
        let name = &args[i + 1];
        if !name.ends_with(".toml") {
            continue;
        }
        let written = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let same = all.iter().any(|b| b.info == "toml" && b.text.trim_end() == written.trim_end());
        assert!(same, "{}: no TOML block shows the {name} the walkthrough writes:\n{written}", md.display());
        shown += 1;
    }
    assert!(shown >= 1, "the walkthrough shows no TOML it wrote");
}

#[test]
fn the_policy_misses_table_is_the_traces_readme_one() {
    // The numbers are checked against the reference and printed by
    // `cargo test -p strata-core --test cache2k`; traces/README.md is
    // where they are kept, the book shows the same rows.
    let rows = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("| web07 |") || l.starts_with("| web12 |"))
            .map(String::from)
            .collect()
    };
    let readme = rows(&std::fs::read_to_string(root().join("traces/README.md")).unwrap());
    let (_, bench) = chapter("benchmarks.md");
    let policy_rows: Vec<String> =
        readme.iter().filter(|r| r.matches('|').count() > 5).cloned().collect::<Vec<_>>();
    let last = policy_rows.len().min(6);
    let expected = &policy_rows[policy_rows.len() - last..];
    assert_eq!(expected.len(), 6, "traces/README.md has no per-policy table");
    assert_eq!(rows(&bench), expected);
}

#[test]
fn every_benchmark_names_a_command_that_exists() {
    let (md, text) = chapter("benchmarks.md");
    let sections: Vec<&str> = text.split("\n## ").skip(1).collect();
    assert!(sections.len() >= 8, "{} sections", sections.len());
    for section in sections {
        let title = section.lines().next().unwrap();
        let commands: Vec<&str> = section
            .lines()
            .filter_map(|l| l.strip_prefix('`').and_then(|l| l.strip_suffix('`')))
            .filter(|l| l.starts_with("cargo ") || l.starts_with("scripts/"))
            .collect();
        assert!(!commands.is_empty(), "{}: section {title:?} names no command", md.display());
        for cmd in commands {
            let words: Vec<&str> = cmd.split_whitespace().collect();
            let after = |flag: &str| words.iter().position(|w| *w == flag).map(|i| words[i + 1]);
            let mut files = Vec::new();
            if let Some(b) = after("--bench") {
                files.push(vec![format!("benches/{b}.rs")]);
            }
            if let Some(e) = after("--example") {
                files.push(vec![format!("examples/{e}.rs")]);
            }
            if let Some(t) = after("--test") {
                files.push(vec![
                    format!("tests/{t}.rs"),
                    format!("core/tests/{t}.rs"),
                    format!("sim/tests/{t}.rs"),
                ]);
            }
            if words[0].starts_with("scripts/") {
                files.push(vec![words[0].to_string()]);
            }
            assert!(!files.is_empty(), "{}: {cmd:?} names no bench, example, test or script", md.display());
            for alternatives in files {
                let found = alternatives.iter().any(|f| root().join(f).is_file());
                assert!(found, "{}: {cmd:?}: none of {alternatives:?} exists", md.display());
            }
        }
    }
}
