//! The known-differences file: the cases whose Ward run may differ from
//! revm's, each under its cause.
//!
//! ```text
//! # a comment
//! ## the cause of the entries below it
//! stExample/file.json::testName[0,0,0]    one case
//! stExample/file.json::testName           every case of a test
//! stExample/                              a folder
//! ```
//!
//! An entry covers the cases of the folder, file or test it names. A difference no
//! entry covers fails the run; an entry whose cases all ran the same is
//! named, so that the file only shrinks.

use std::collections::BTreeMap;

use crate::{CaseResult, Cause, Verdict};

/// The file, read.
#[derive(Clone, Debug, Default)]
pub struct Known {
    /// (entry, its cause), in file order.
    entries: Vec<(String, String)>,
}

/// What the cases of one run did to the entries.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Per entry: (cases it covered, of them that differed).
    seen: BTreeMap<usize, (u64, u64)>,
}

impl Known {
    /// Reads the file's text.
    ///
    /// # Errors
    ///
    /// An entry before any cause, naming the line.
    pub fn parse(text: &str) -> Result<Known, String> {
        let mut cause: Option<String> = None;
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if let Some(heading) = line.strip_prefix("## ") {
                cause = Some(heading.trim().to_owned());
            } else if line.is_empty() || line.starts_with('#') {
                continue;
            } else {
                let Some(cause) = &cause else {
                    return Err(format!("line {}: an entry before any `## cause`", n + 1));
                };
                entries.push((line.to_owned(), cause.clone()));
            }
        }
        Ok(Known { entries })
    }

    /// How many entries it has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry covering case `id`, by index, if any.
    fn covering(&self, id: &str) -> Option<usize> {
        self.entries.iter().position(|(entry, _)| covers(entry, id))
    }

    /// The cause listed for case `id`, counting it in `tally` (`differs`:
    /// whether the case differed).
    pub fn check(&self, id: &str, differs: bool, tally: &mut Tally) -> Option<&str> {
        let index = self.covering(id)?;
        let seen = tally.seen.entry(index).or_default();
        seen.0 += 1;
        seen.1 += u64::from(differs);
        Some(self.entries[index].1.as_str())
    }

    /// The entries that covered cases in this run, none of which differed:
    /// they can go.
    pub fn passing(&self, tally: &Tally) -> Vec<&str> {
        tally
            .seen
            .iter()
            .filter(|(_, (covered, differed))| *covered > 0 && *differed == 0)
            .map(|(index, _)| self.entries[*index].0.as_str())
            .collect()
    }

    /// Per cause, how many differing cases it explained in this run.
    pub fn by_cause(&self, tally: &Tally) -> BTreeMap<&str, u64> {
        let mut out = BTreeMap::new();
        for (index, (_, differed)) in &tally.seen {
            *out.entry(self.entries[*index].1.as_str()).or_default() += differed;
        }
        out
    }
}

/// Whether `entry` covers `id`: the same, a folder it is in, or a test
/// whose case it is (`FILE::TEST` covers `FILE::TEST[d,g,v]`, not
/// `FILE::TEST2[...]`).
fn covers(entry: &str, id: &str) -> bool {
    match id.strip_prefix(entry) {
        Some(rest) => rest.is_empty() || entry.ends_with('/') || rest.starts_with('['),
        None => false,
    }
}

/// A run's cases counted against the file.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Cases run.
    pub cases: u64,
    /// Of them, those revm at the fixture's fork reproduces.
    pub reproduced: u64,
    /// Of those, the ones Ward's runtime ran as revm did.
    pub same: u64,
    /// Differing cases the file lists.
    pub listed: u64,
    /// Per sorted cause, the differing cases (listed or not).
    pub by_cause: BTreeMap<Cause, u64>,
    /// Each differing test (`FILE::TEST`) under the last-sorted cause of
    /// its cases (an entry covers them all).
    pub tests: BTreeMap<String, Cause>,
    /// Differing cases the file does not list: id, cause, where.
    pub unlisted: Vec<(String, Cause, Vec<String>)>,
    /// Cases the backends disagree on: id, how.
    pub disagree: Vec<(String, Vec<String>)>,
    /// What the cases did to the file's entries.
    pub tally: Tally,
}

impl Summary {
    /// Counts `results` against `known`.
    pub fn of(results: &[CaseResult], known: &Known) -> Summary {
        let mut out = Summary::default();
        for result in results {
            out.cases += 1;
            match &result.verdict {
                Verdict::NotReproduced => {}
                Verdict::Same => {
                    out.reproduced += 1;
                    out.same += 1;
                    known.check(&result.id, false, &mut out.tally);
                }
                Verdict::Differs(lines, cause) => {
                    out.reproduced += 1;
                    *out.by_cause.entry(*cause).or_default() += 1;
                    let test = result.id.rsplit_once('[').map_or(&*result.id, |(t, _)| t);
                    let worst = out.tests.entry(test.to_owned()).or_insert(*cause);
                    *worst = (*worst).max(*cause);
                    if known.check(&result.id, true, &mut out.tally).is_some() {
                        out.listed += 1;
                    } else {
                        out.unlisted
                            .push((result.id.clone(), *cause, lines.clone()));
                    }
                }
                Verdict::BackendsDisagree(lines) => {
                    out.reproduced += 1;
                    out.disagree.push((result.id.clone(), lines.clone()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_covers_the_cases_it_starts() {
        let known = Known::parse("# x\n## one cause\nstA/f.json::t\n\n## two\nstB/\n").unwrap();
        let mut tally = Tally::default();
        assert_eq!(
            known.check("stA/f.json::t[0,0,0]", true, &mut tally),
            Some("one cause")
        );
        assert_eq!(
            known.check("stB/g.json::u[1,0,0]", false, &mut tally),
            Some("two")
        );
        assert_eq!(known.check("stC/g.json::u[1,0,0]", true, &mut tally), None);
        assert_eq!(known.check("stA/f.json::t2[0,0,0]", true, &mut tally), None);
        assert_eq!(known.passing(&tally), vec!["stB/"]);
        assert_eq!(known.by_cause(&tally)["one cause"], 1);
    }

    #[test]
    fn an_entry_needs_a_cause() {
        assert!(Known::parse("stA/\n").unwrap_err().contains("line 1"));
    }
}
