//! Where a call's gas went: the recorder behind the profiling hooks.
//!
//! A module prepared with [`crate::Policy::profile`] calls
//! `__ward_profile.enter`/`leave` around every defined function and `at`
//! before every call ([`ward_instrument::PROFILE_MODULE`]); the host notes
//! every host function it serves. Each of these points carries the gas left
//! at that moment, and whatever was charged since the point before belongs
//! to the function (or host function) that was running: a block's charge is
//! made by the function that owns the block. So the recorder builds a call
//! tree whose nodes' own gas adds up, by construction, to everything the
//! call was charged between its first and last points, and
//! [`Profiler::finish`] closes the books with the gas the call ended with.
//!
//! The open path of the tree when a call ends without returning (a trap,
//! `exit`, out of gas) is its backtrace, with each function's current call
//! site. Profiling is diagnostics only: nothing here feeds back into the
//! call, and a call without a recorder pays nothing for it.

use std::sync::{Arc, Mutex, MutexGuard};

/// What a node of the call tree stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileLabel {
    /// The call itself: what was charged before its first function ran
    /// (making the instance, a start function's prelude) and after its
    /// last returned.
    Frame,
    /// Defined function `n` of the module (its index in the original
    /// module, imports included).
    Func(u32),
    /// A host function, by module and name (`ward.storage_write`).
    Host(&'static str, &'static str),
}

/// One node of the call tree: a path of calls from the frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileNode {
    /// What it stands for.
    pub label: ProfileLabel,
    /// Its parent (the root is its own parent).
    pub parent: usize,
    /// The gas charged while it was the innermost node.
    pub self_gas: u64,
    /// Its children, in the order they were first entered.
    pub children: Vec<usize>,
    /// The offset (in the original module) of the last call the function
    /// made on this path: where it is while a callee runs.
    pub site: Option<u32>,
    /// For a host function that suspended the guest (`ward.call`,
    /// `ward.create`): the numbers of the calls it made, counting every
    /// suspended call of the frame from 0 in order.
    pub callees: Vec<u32>,
}

/// The call tree of one frame and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profiler {
    nodes: Vec<ProfileNode>,
    current: usize,
    /// The gas left at the last point.
    last_gas: u64,
    /// Suspended calls so far.
    suspended: u32,
}

/// A recorder shared between the embedder and the call it watches.
pub type ProfileLog = Arc<Mutex<Profiler>>;

/// The recorder behind `log`.
pub fn lock_profile(log: &ProfileLog) -> MutexGuard<'_, Profiler> {
    log.lock().unwrap_or_else(|e| e.into_inner())
}

impl Profiler {
    /// A recorder for a call given `gas`.
    pub fn new(gas: u64) -> Profiler {
        Profiler {
            nodes: vec![ProfileNode {
                label: ProfileLabel::Frame,
                parent: 0,
                self_gas: 0,
                children: Vec::new(),
                site: None,
                callees: Vec::new(),
            }],
            current: 0,
            last_gas: gas,
            suspended: 0,
        }
    }

    /// A shared recorder for a call given `gas`.
    pub fn log(gas: u64) -> ProfileLog {
        Arc::new(Mutex::new(Profiler::new(gas)))
    }

    /// The call tree; node 0 is the frame.
    pub fn nodes(&self) -> &[ProfileNode] {
        &self.nodes
    }

    /// The gas left at the last point (at the start: the call's gas).
    pub fn gas_left(&self) -> u64 {
        self.last_gas
    }

    /// How many times a host function suspended the guest for a call so
    /// far.
    pub fn suspended(&self) -> u32 {
        self.suspended
    }

    /// The gas charged since the last point belongs to the current node.
    fn observe(&mut self, gas_left: u64) -> u64 {
        let spent = self.last_gas.saturating_sub(gas_left);
        self.last_gas = gas_left;
        spent
    }

    fn child(&mut self, label: ProfileLabel) -> usize {
        let parent = self.current;
        let found = self.nodes[parent]
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes[c].label == label);
        found.unwrap_or_else(|| {
            let index = self.nodes.len();
            self.nodes.push(ProfileNode {
                label,
                parent,
                self_gas: 0,
                children: Vec::new(),
                site: None,
                callees: Vec::new(),
            });
            self.nodes[parent].children.push(index);
            index
        })
    }

    /// Function `func` starts with `gas_left`.
    pub fn enter(&mut self, func: u32, gas_left: u64) {
        let spent = self.observe(gas_left);
        self.nodes[self.current].self_gas += spent;
        self.current = self.child(ProfileLabel::Func(func));
    }

    /// The current function returns with `gas_left`.
    pub fn leave(&mut self, gas_left: u64) {
        let spent = self.observe(gas_left);
        self.nodes[self.current].self_gas += spent;
        self.current = self.nodes[self.current].parent;
    }

    /// The current function calls at `offset`.
    pub fn at(&mut self, offset: u32) {
        self.nodes[self.current].site = Some(offset);
    }

    /// The current function calls host function `module.name` with
    /// `gas_left`. `prepaid`, the host call's fixed cost, was paid with
    /// the caller's block (which may have started before earlier calls:
    /// a block runs up to a branch), so it moves from the caller's own gas
    /// to the host function's.
    pub fn host_enter(
        &mut self,
        (module, name): (&'static str, &'static str),
        gas_left: u64,
        prepaid: u64,
    ) {
        let spent = self.observe(gas_left);
        let caller = &mut self.nodes[self.current];
        caller.self_gas += spent;
        let base = prepaid.min(caller.self_gas);
        caller.self_gas -= base;
        self.current = self.child(ProfileLabel::Host(module, name));
        self.nodes[self.current].self_gas += base;
    }

    /// The current host function suspended the guest for a call (its
    /// callee's gas is charged when it completes).
    pub fn host_suspended(&mut self) {
        let number = self.suspended;
        self.suspended += 1;
        self.nodes[self.current].callees.push(number);
    }

    /// The current host function returns with `gas_left`.
    pub fn host_leave(&mut self, gas_left: u64) {
        self.leave(gas_left);
    }

    /// The call ended with `gas_left`: what was charged since the last
    /// point belongs to the innermost node still open.
    pub fn finish(&mut self, gas_left: u64) {
        let spent = self.observe(gas_left);
        self.nodes[self.current].self_gas += spent;
    }

    /// The nodes still open, innermost first (empty when every function
    /// returned): the backtrace of a call that did not.
    pub fn open_path(&self) -> Vec<usize> {
        let mut path = Vec::new();
        let mut node = self.current;
        while node != 0 {
            path.push(node);
            node = self.nodes[node].parent;
        }
        path
    }

    /// The gas of the whole tree.
    pub fn total(&self) -> u64 {
        self.nodes.iter().map(|n| n.self_gas).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_between_points_goes_to_the_innermost_node() {
        let mut p = Profiler::new(1_000);
        p.enter(3, 990); // 10 to the frame
        p.at(77);
        p.enter(4, 950); // 40 to f3
        p.host_enter(("ward", "storage_write"), 900, 30); // 20 to f4, 30 to the host
        p.host_leave(800); // 100 to the host
        p.leave(790); // 10 to f4
        p.finish(700); // 90 to f3, which never returned
        let nodes = p.nodes();
        let gas = |label| {
            nodes
                .iter()
                .filter(|n| n.label == label)
                .map(|n| n.self_gas)
                .sum::<u64>()
        };
        assert_eq!(gas(ProfileLabel::Frame), 10);
        assert_eq!(gas(ProfileLabel::Func(3)), 130);
        assert_eq!(gas(ProfileLabel::Func(4)), 30);
        assert_eq!(gas(ProfileLabel::Host("ward", "storage_write")), 130);
        assert_eq!(p.total(), 300);
        let path = p.open_path();
        assert_eq!(path.len(), 1);
        assert_eq!(nodes[path[0]].label, ProfileLabel::Func(3));
        assert_eq!(nodes[path[0]].site, Some(77));
    }

    #[test]
    fn a_prepaid_base_moves_from_the_caller_at_most_what_it_has() {
        let mut p = Profiler::new(100);
        p.enter(0, 100);
        p.host_enter(("ward", "input_read"), 95, 30);
        p.host_leave(95);
        p.leave(95);
        p.finish(95);
        assert_eq!(p.total(), 5);
        assert_eq!(p.nodes()[1].self_gas, 0, "all five moved to the host");
        assert_eq!(p.nodes()[2].self_gas, 5);
        assert!(p.open_path().is_empty());
    }
}
