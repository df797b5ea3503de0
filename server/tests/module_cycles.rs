//! No import cycle between the server's top-level modules.
//!
//! A cycle makes every module on it part of one unit: none can be read, tested or changed
//! without the others (issue 19 found 27 files in one cycle through `app.rs`). This test
//! reads `server/src/**/*.rs`, collects each `crate::<module>` path (grouped imports
//! `crate::{a, b::c}` included; comments and string literals ignored) per top-level
//! module, and fails naming a cycle and the files behind each of its edges.
//!
//! The modules are layered, low to high: storage, error, limits, config, auth,
//! vocabulary, serve, cluster, sync, audit, webhooks, documents, versions, consultation,
//! comments, remiss, demo, fuzzing, state (docs/ARCHITECTURE.md, "Layers"). Issue 19
//! removed the last edges that pointed up; there is no list of tolerated ones any more.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const ROOTS: &[&str] = &["lib", "main"];

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let graph = module_graph(&src_dir());
    let cycles: Vec<_> = components(&graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    let report: Vec<String> = cycles
        .iter()
        .map(|component| {
            let cycle = describe(&graph, &find_cycle(&graph, component));
            format!("{cycle}\n  (all on this cycle: {})", component.join(", "))
        })
        .collect();
    assert!(
        report.is_empty(),
        "import cycles between top-level modules:\n{}",
        report.join("\n")
    );
}

#[test]
fn paths_are_read_from_code_only() {
    let source = r##"
        use crate::{auth::{Role, Identity}, ids::DocId, storage};
        // use crate::commented;
        /* crate::blocked */ let s = "crate::quoted"; let c = '"';
        let r = r#"crate::raw"#;
        macro_rules! m { () => { $crate::storage::Db } }
        crate::metrics::count(); my_crate::nothing();
    "##;
    let found: BTreeSet<_> = crate_paths(source).into_iter().collect();
    let expected: BTreeSet<_> = ["auth", "ids", "storage", "metrics"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn a_cycle_is_found_and_named() {
    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph
            .entry(from.into())
            .or_default()
            .entry(to.into())
            .or_default()
            .insert(format!("{from}.rs"));
    }
    let cycles: Vec<_> = components(&graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    assert_eq!(cycles.len(), 1);
    let cycle = find_cycle(&graph, &cycles[0]);
    assert_eq!(cycle.len(), 3);
    assert!(describe(&graph, &cycle).contains("(a.rs)"));
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `from → to → files that make the edge`, for every top-level module.
fn module_graph(src: &Path) -> Graph {
    let modules = top_level_modules(src);
    let mut graph = Graph::new();
    for module in &modules {
        graph.entry(module.clone()).or_default();
    }
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).expect("under src");
        let Some(from) = top_module_of(relative) else {
            continue;
        };
        let text = fs::read_to_string(&file).expect("readable source");
        for to in crate_paths(&text) {
            if to != from && modules.contains(&to) {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(relative.display().to_string());
            }
        }
    }
    graph
}

fn top_level_modules(src: &Path) -> BTreeSet<String> {
    fs::read_dir(src)
        .expect("server/src")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?;
            let module = if path.is_dir() {
                name.to_owned()
            } else {
                name.strip_suffix(".rs")?.to_owned()
            };
            (!ROOTS.contains(&module.as_str())).then_some(module)
        })
        .collect()
}

fn top_module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    (!ROOTS.contains(&module)).then(|| module.to_owned())
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The first segment after each `crate::` in code (not `$crate::`, not `my_crate::`).
fn crate_paths(source: &str) -> Vec<String> {
    let code = code_only(source);
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + "crate::".len()..];
        rest = after;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            found.extend(group_heads(group));
        } else {
            found.push(identifier(after));
        }
    }
    found.retain(|name| !name.is_empty());
    found
}

/// The first identifier of each item of a `{a::b, c}` group (up to its closing brace).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                heads.push(identifier(&group[i..]));
                item_start = false;
            }
            _ => {}
        }
    }
    heads
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The source with comments removed and string and character literals blanked.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i = skip_block_comment(&chars, i);
            out.push(' ');
        } else if c == 'r' && matches!(next, Some('"' | '#')) && !ident_before(&chars, i) {
            i = skip_raw_string(&chars, i);
            out.push_str("\"\"");
        } else if c == '"' {
            i = skip_string(&chars, i);
            out.push_str("\"\"");
        } else if c == '\'' {
            i = skip_char_literal(&chars, i, &mut out);
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

fn skip_block_comment(chars: &[char], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < chars.len() {
        if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                break;
            }
        } else {
            i += 1;
        }
    }
    i
}

fn skip_raw_string(chars: &[char], mut i: usize) -> usize {
    i += 1;
    let mut hashes = 0;
    while chars.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    if chars.get(i) != Some(&'"') {
        return i;
    }
    i += 1;
    while i < chars.len() {
        if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

fn skip_string(chars: &[char], mut i: usize) -> usize {
    i += 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// A character literal (`'a'`, `'\''`, `'"'`) is skipped; a lifetime is kept.
fn skip_char_literal(chars: &[char], i: usize, out: &mut String) -> usize {
    if chars.get(i + 1) == Some(&'\\') {
        let mut j = i + 3;
        while j < chars.len() && chars[j] != '\'' {
            j += 1;
        }
        return j + 1;
    }
    if chars.get(i + 2) == Some(&'\'') {
        return i + 3;
    }
    out.push('\'');
    i + 1
}

/// Strongly connected components (Tarjan), each sorted.
fn components(graph: &Graph) -> Vec<Vec<String>> {
    struct Search<'g> {
        graph: &'g Graph,
        next: usize,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Search<'g> {
        fn visit(&mut self, v: &'g str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flat_map(|e| e.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                component.sort();
                self.found.push(component);
            }
        }
    }
    let mut search = Search {
        graph,
        next: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !search.index.contains_key(v.as_str()) {
            search.visit(v);
        }
    }
    search.found
}

/// One cycle inside a component: the shortest way back to its first module.
fn find_cycle(graph: &Graph, component: &[String]) -> Vec<String> {
    let start = &component[0];
    let inside: BTreeSet<&String> = component.iter().collect();
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in graph[v].keys().filter(|w| inside.contains(w)) {
            if w == start {
                let mut cycle = vec![v.clone()];
                let mut at = v;
                while at != start {
                    at = came_from[at];
                    cycle.push(at.clone());
                }
                cycle.reverse();
                return cycle;
            }
            if !came_from.contains_key(w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    unreachable!("a strongly connected component has a cycle through each member")
}

fn describe(graph: &Graph, cycle: &[String]) -> String {
    let steps: Vec<String> = cycle
        .iter()
        .zip(cycle.iter().cycle().skip(1))
        .map(|(from, to)| {
            let files: Vec<&str> = graph[from][to].iter().map(String::as_str).collect();
            format!("  {from} → {to} ({})", files.join(", "))
        })
        .collect();
    format!("cycle:\n{}", steps.join("\n"))
}
