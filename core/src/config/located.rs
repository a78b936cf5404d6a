//! Where in a TOML file a setting is, for error messages: a parse error's
//! line (from its span) and a validation error's line (the line that sets
//! the dotted field it names, found in the parsed document's spans).

use toml::de::{DeTable, DeValue};

/// A TOML parse error of `text` (read from `source`) for messages: where
/// (`source line N`) and what (the line quoted, since it names the field
/// that serde's message may not, then the message).
#[must_use]
pub fn toml_error_parts(text: &str, source: &str, e: &toml::de::Error) -> (String, String) {
    let Some(span) = e.span() else { return (source.to_owned(), e.message().to_owned()) };
    let l = line_of(text, span.start);
    let what = match text.lines().nth(l - 1).map(str::trim) {
        Some(src) if !src.is_empty() => format!("`{src}`: {}", e.message()),
        _ => e.message().to_owned(),
    };
    (format!("{source} line {l}"), what)
}

/// Where a validation error about `field` (a dotted path such as
/// `write.batch_size` or `l3.outages[1].duration_ms`) points in `text`:
/// `source line N: field` where the file sets it, else `source: field` (a
/// default value, or a setting the file does not write).
#[must_use]
pub fn locate_field(text: &str, source: &str, field: &str) -> String {
    match field_line(text, field) {
        Some(l) => format!("{source} line {l}: {field}"),
        None => format!("{source}: {field}"),
    }
}

/// The 1-based line of the value of `field` in `text`; `None` if `text`
/// does not parse or does not set it.
#[must_use]
pub fn field_line(text: &str, field: &str) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let parts = path_parts(field)?;
    let (Part::Key(first), rest) = parts.split_first()? else { return None };
    let mut value = root.get_ref().get(*first)?;
    for part in rest {
        value = match (part, value.get_ref()) {
            (Part::Key(k), DeValue::Table(t)) => t.get(*k)?,
            (Part::Index(i), DeValue::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(line_of(text, value.span().start))
}

/// One step of a dotted path: a key, or an array index (`[1]`).
#[derive(Debug, PartialEq)]
enum Part<'a> {
    Key(&'a str),
    Index(usize),
}

/// `a.b[1].c` as `a`, `b`, `[1]`, `c`; `None` if an index is not a number.
fn path_parts(field: &str) -> Option<Vec<Part<'_>>> {
    let mut out = Vec::new();
    for seg in field.split('.') {
        let (key, mut rest) = seg.split_once('[').map_or((seg, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Part::Key(key));
        }
        while let Some((index, after)) = rest.split_once(']') {
            out.push(Part::Index(index.parse().ok()?));
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    Some(out)
}

/// The 1-based line holding byte `at` of `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
seed = 1

[write]
strategy = \"write-behind\"
batch_size = 0

[l1.eviction]
policy = \"lru\"

[l3]
outages = [
  { start_ms = 0, duration_ms = 5 },
  { start_ms = 10, duration_ms = 0 },
]
inline = { a = { b = 3 } }
";

    #[test]
    fn finds_the_line_that_sets_a_field() {
        assert_eq!(field_line(TEXT, "seed"), Some(1));
        assert_eq!(field_line(TEXT, "write.batch_size"), Some(5));
        assert_eq!(field_line(TEXT, "write.strategy"), Some(4));
        assert_eq!(field_line(TEXT, "l1.eviction.policy"), Some(8));
        assert_eq!(field_line(TEXT, "l3.outages[1].duration_ms"), Some(13));
        assert_eq!(field_line(TEXT, "l3.outages[0]"), Some(12));
        assert_eq!(field_line(TEXT, "l3.inline.a.b"), Some(15));
    }

    #[test]
    fn nothing_for_a_setting_the_file_does_not_write() {
        // The file sets the table but not the key (a default was invalid).
        assert_eq!(field_line(TEXT, "write.flush_interval_ms"), None);
        assert_eq!(field_line(TEXT, "l2.url"), None);
        assert_eq!(field_line(TEXT, "l3.outages[7].start_ms"), None);
        assert_eq!(field_line("not = [toml", "not"), None);
        assert_eq!(locate_field(TEXT, "c.toml", "write.batch_size"), "c.toml line 5: write.batch_size");
        assert_eq!(locate_field(TEXT, "c.toml", "l2.url"), "c.toml: l2.url");
    }

    #[test]
    fn splits_paths() {
        let parts = [Part::Key("a"), Part::Key("b"), Part::Index(1), Part::Index(2), Part::Key("c")];
        assert_eq!(path_parts("a.b[1][2].c").unwrap(), parts);
        assert_eq!(path_parts("a[x].b"), None);
    }
}
