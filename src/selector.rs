//! Label selectors as typed on the command line (`-l app=agent,tier!=test,env in (a,b),!canary`),
//! for filtering a snapshot the way the API server filters a list.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(Vec<Requirement>);

impl Selector {
    pub fn parse(text: &str) -> Result<Selector> {
        let bad = |why: &str| {
            Error::usage(format!(
                "invalid label selector {text:?}: {why}; expected requirements such as app=agent,tier!=test,env in (a,b),!canary"
            ))
        };
        let mut reqs = Vec::new();
        for part in split_top_level(text) {
            let p = part.trim();
            if p.is_empty() {
                return Err(bad("empty requirement"));
            }
            let req = if let Some(key) = p.strip_prefix('!') {
                Requirement::DoesNotExist(key.trim().to_string())
            } else if let Some((k, v)) = p.split_once("!=") {
                Requirement::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once("==") {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once('=') {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, rest)) = split_word(p, " notin ") {
                Requirement::NotIn(k, set(rest).ok_or_else(|| bad("notin needs a set like (a,b)"))?)
            } else if let Some((k, rest)) = split_word(p, " in ") {
                Requirement::In(k, set(rest).ok_or_else(|| bad("in needs a set like (a,b)"))?)
            } else if p.contains(char::is_whitespace) || p.contains(['(', ')']) {
                return Err(bad(&format!("cannot read {p:?}")));
            } else {
                Requirement::Exists(p.to_string())
            };
            let key = match &req {
                Requirement::Equals(k, _)
                | Requirement::NotEquals(k, _)
                | Requirement::In(k, _)
                | Requirement::NotIn(k, _)
                | Requirement::Exists(k)
                | Requirement::DoesNotExist(k) => k,
            };
            if key.is_empty() {
                return Err(bad("a requirement has no key"));
            }
            reqs.push(req);
        }
        Ok(Selector(reqs))
    }

    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k));
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v),
            Requirement::NotEquals(k, v) => get(k) != Some(v),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.contains(x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn split_word(p: &str, word: &str) -> Option<(String, String)> {
    let i = p.find(word)?;
    Some((p[..i].trim().to_string(), p[i + word.len()..].trim().to_string()))
}

fn set(text: String) -> Option<Vec<String>> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_match_like_the_api_server() {
        let l = labels(&[("app", "agent"), ("tier", "prod")]);
        let cases = [
            ("app=agent", true),
            ("app==agent", true),
            ("app!=agent", false),
            ("missing!=x", true),
            ("tier in (prod,dev)", true),
            ("tier notin (prod)", false),
            ("missing notin (prod)", true),
            ("app", true),
            ("!app", false),
            ("app=agent,tier in (dev)", false),
        ];
        for (sel, want) in cases {
            assert_eq!(Selector::parse(sel).unwrap().matches(Some(&l)), want, "{sel}");
        }
    }

    #[test]
    fn malformed_selectors_are_usage_errors() {
        for bad in ["", "a,,b", "=x", "tier in prod", "a b"] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
    }
}
