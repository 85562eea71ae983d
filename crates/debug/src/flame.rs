//! A gas profile: a tree of named frames, each with the gas charged while
//! it was the innermost one, written as folded stacks (one line per path,
//! `a;b;c gas`, the format flame graph tools read) and drawn as an SVG
//! flame graph by `inferno`.

use std::collections::BTreeMap;

/// One node of a profile: a path of calls from the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlameNode {
    /// What it stands for: a transaction, a contract's frame, a function,
    /// a host function.
    pub name: String,
    /// The gas charged while it was innermost.
    pub self_gas: u64,
    /// Its parent (the root is its own).
    pub parent: usize,
    /// Its children, in the order they were added.
    pub children: Vec<usize>,
}

/// A gas profile. Children of a node are merged by name: a function called
/// twice from the same path is one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flame {
    nodes: Vec<FlameNode>,
}

/// A function's share of a profile ([`Flame::top`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionGas {
    /// Its name.
    pub name: String,
    /// The gas charged while it was innermost.
    pub self_gas: u64,
    /// The gas charged while it was on the stack (once, however deeply it
    /// recursed).
    pub total_gas: u64,
}

impl Flame {
    /// A profile whose root is `root`.
    pub fn new(root: impl Into<String>) -> Flame {
        Flame {
            nodes: vec![FlameNode {
                name: root.into(),
                self_gas: 0,
                parent: 0,
                children: Vec::new(),
            }],
        }
    }

    /// The root's index.
    pub const ROOT: usize = 0;

    /// Every node; [`Flame::ROOT`] first.
    pub fn nodes(&self) -> &[FlameNode] {
        &self.nodes
    }

    /// The child of `parent` named `name`, added when it has none.
    pub fn child(&mut self, parent: usize, name: impl Into<String>) -> usize {
        let name = name.into();
        let found = self.nodes[parent]
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes[c].name == name);
        found.unwrap_or_else(|| {
            let index = self.nodes.len();
            self.nodes.push(FlameNode {
                name,
                self_gas: 0,
                parent,
                children: Vec::new(),
            });
            self.nodes[parent].children.push(index);
            index
        })
    }

    /// Charges `gas` to `node`.
    pub fn add(&mut self, node: usize, gas: u64) {
        self.nodes[node].self_gas = self.nodes[node].self_gas.saturating_add(gas);
    }

    /// Takes up to `gas` back from `node` (a host function's share that
    /// belongs to a callee shown below it): what it took.
    pub fn take(&mut self, node: usize, gas: u64) -> u64 {
        let taken = gas.min(self.nodes[node].self_gas);
        self.nodes[node].self_gas -= taken;
        taken
    }

    /// The gas of the whole profile.
    pub fn total(&self) -> u64 {
        self.nodes.iter().map(|n| n.self_gas).sum()
    }

    /// The gas of `node` and everything below it.
    pub fn subtree_gas(&self, node: usize) -> u64 {
        let mut gas = 0u64;
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            gas = gas.saturating_add(self.nodes[n].self_gas);
            stack.extend(&self.nodes[n].children);
        }
        gas
    }

    /// The folded stacks: a line `root;…;name gas` for every node that was
    /// charged, depth first in the order nodes were added. A name's `;` and
    /// line breaks are written as `,` and spaces, so every line parses.
    pub fn folded(&self) -> String {
        let mut out = String::new();
        let mut path: Vec<String> = Vec::new();
        self.fold(Self::ROOT, &mut path, &mut out);
        out
    }

    fn fold(&self, node: usize, path: &mut Vec<String>, out: &mut String) {
        let n = &self.nodes[node];
        path.push(n.name.replace(';', ",").replace(['\n', '\r'], " "));
        if n.self_gas > 0 {
            out.push_str(&path.join(";"));
            out.push(' ');
            out.push_str(&n.self_gas.to_string());
            out.push('\n');
        }
        for &child in &n.children {
            self.fold(child, path, out);
        }
        path.pop();
    }

    /// The flame graph of the profile as an SVG document titled `title`,
    /// its widths in gas. Colours are a function of each name, so the same
    /// profile always draws the same picture.
    ///
    /// # Errors
    ///
    /// When `inferno` cannot draw it (an empty profile draws an SVG that
    /// says so).
    #[cfg(feature = "svg")]
    pub fn svg(&self, title: &str) -> std::io::Result<Vec<u8>> {
        svg(&self.folded(), title)
    }

    /// Every name's self and total gas, most self gas first (then most
    /// total, then by name).
    pub fn top(&self) -> Vec<FunctionGas> {
        let mut by_name: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        let mut on_stack: Vec<&str> = Vec::new();
        self.tally(Self::ROOT, &mut on_stack, &mut by_name);
        let mut out: Vec<FunctionGas> = by_name
            .into_iter()
            .map(|(name, (self_gas, total_gas))| FunctionGas {
                name: name.to_owned(),
                self_gas,
                total_gas,
            })
            .collect();
        out.sort_by(|a, b| {
            (b.self_gas, b.total_gas)
                .cmp(&(a.self_gas, a.total_gas))
                .then_with(|| a.name.cmp(&b.name))
        });
        out
    }

    fn tally<'a>(
        &'a self,
        node: usize,
        on_stack: &mut Vec<&'a str>,
        by_name: &mut BTreeMap<&'a str, (u64, u64)>,
    ) {
        let n = &self.nodes[node];
        let entry = by_name.entry(&n.name).or_default();
        entry.0 = entry.0.saturating_add(n.self_gas);
        // A recursive call's gas is already in its outermost node's total.
        if !on_stack.contains(&n.name.as_str()) {
            entry.1 = entry.1.saturating_add(self.subtree_gas(node));
        }
        on_stack.push(&n.name);
        for &child in &n.children {
            self.tally(child, on_stack, by_name);
        }
        on_stack.pop();
    }
}

/// The flame graph of `folded` stacks (as [`Flame::folded`] writes them)
/// as an SVG document titled `title`, its widths in gas, its colours a
/// function of each name.
///
/// # Errors
///
/// When `inferno` cannot draw it.
#[cfg(feature = "svg")]
pub fn svg(folded: &str, title: &str) -> std::io::Result<Vec<u8>> {
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_owned();
    options.count_name = "gas".to_owned();
    options.name_type = "Frame:".to_owned();
    options.hash = true;
    options.deterministic = true;
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, folded.lines(), &mut svg)?;
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Flame {
        let mut f = Flame::new("tx");
        f.add(Flame::ROOT, 5);
        let main = f.child(Flame::ROOT, "main");
        f.add(main, 10);
        let a = f.child(main, "a");
        f.add(a, 20);
        let again = f.child(main, "a");
        assert_eq!(a, again, "children merge by name");
        f.add(again, 1);
        let inner = f.child(a, "a");
        f.add(inner, 4);
        let b = f.child(main, "b;c");
        f.add(b, 7);
        f
    }

    #[test]
    fn folded_stacks_have_a_line_per_charged_path() {
        let f = sample();
        assert_eq!(
            f.folded(),
            "tx 5\ntx;main 10\ntx;main;a 21\ntx;main;a;a 4\ntx;main;b,c 7\n"
        );
        assert_eq!(f.total(), 47);
        let sum: u64 = f
            .folded()
            .lines()
            .map(|l| {
                l.rsplit_once(' ')
                    .map_or(0, |(_, n)| n.parse::<u64>().unwrap_or(0))
            })
            .sum();
        assert_eq!(sum, f.total());
    }

    #[test]
    fn top_counts_a_recursive_function_once_in_its_total() {
        let top = sample().top();
        let a = top
            .iter()
            .find(|g| g.name == "a")
            .map(|g| (g.self_gas, g.total_gas));
        assert_eq!(a, Some((25, 25)));
        assert_eq!(top[0].name, "a");
        let main = top
            .iter()
            .find(|g| g.name == "main")
            .map(|g| (g.self_gas, g.total_gas));
        assert_eq!(main, Some((10, 42)));
    }

    #[test]
    fn take_gives_back_at_most_what_a_node_has() {
        let mut f = sample();
        assert_eq!(f.take(1, 3), 3);
        assert_eq!(f.take(1, 100), 7);
        assert_eq!(f.nodes()[1].self_gas, 0);
    }

    #[test]
    #[cfg(feature = "svg")]
    fn the_svg_is_the_same_every_time_and_names_the_frames() {
        let f = sample();
        let one = f.svg("gas").unwrap_or_default();
        let two = f.svg("gas").unwrap_or_default();
        assert_eq!(one, two);
        let text = String::from_utf8_lossy(&one);
        assert!(
            text.starts_with("<?xml"),
            "{}",
            &text[..text.len().min(200)]
        );
        assert!(text.contains("main"));
        assert!(
            text.contains("47 gas") || text.contains("47"),
            "the total is drawn"
        );
    }
}
