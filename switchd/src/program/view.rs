//! The running ruleset as `list` shows it: chains and their rules with
//! handles, source and live counters, and the named sets and maps with
//! their current elements.

use super::{Loaded, elements};
use crate::control::protocol::{ChainView, DeletedRule, RuleView, RulesetView, SetView};
use vm::{MapData, Policy};

/// The view of `loaded` (an empty one when no ruleset is loaded), with the
/// deleted rules' history when given.
pub fn ruleset(loaded: Option<&Loaded>, deleted: Option<Vec<DeletedRule>>) -> RulesetView {
    let Some(l) = loaded else {
        return RulesetView {
            file: None,
            generation: 0,
            deleted_since_load: Vec::new(),
            chains: Vec::new(),
            sets: Vec::new(),
            deleted,
        };
    };
    let program = l.program();
    let chains = program
        .chains
        .iter()
        .map(|c| ChainView {
            name: c.name.clone(),
            base: c.base.as_ref().map(|b| {
                let policy = match b.policy {
                    Policy::Accept => "accept",
                    Policy::Drop => "drop",
                };
                let mut text = format!("priority {} policy {policy}", b.priority);
                if let Some(d) = b.device.and_then(|d| program.ports.get(usize::from(d.0))) {
                    text.push_str(&format!(" device {d:?}"));
                }
                text
            }),
            rules: c
                .rules
                .iter()
                .map(|r| RuleView {
                    handle: r.handle,
                    text: r
                        .source
                        .as_ref()
                        .map_or_else(String::new, |s| s.text.clone()),
                    comment: r.source.as_ref().and_then(|s| s.comment.clone()),
                    source: r.source.as_ref().map(|s| format!("{}:{}", s.file, s.line)),
                    counter: l.counter(r),
                })
                .collect(),
        })
        .collect();
    let checked = &l.checked;
    let mut sets = Vec::new();
    for (i, decl) in program.sets.iter().enumerate() {
        let (Some(named), Some(live)) = (
            elements::find(checked, program, &decl.name),
            l.instance().set(vm::SetId(i as u16)),
        ) else {
            continue;
        };
        let elems = live.elements().into_iter().map(|(e, ())| (e, None));
        sets.push(SetView {
            name: decl.name.clone(),
            kind: "set".into(),
            elements: elements::show(checked, program, named.decl, elems),
        });
    }
    for (i, decl) in program.maps.iter().enumerate() {
        let (Some(named), Some(live)) = (
            elements::find(checked, program, &decl.name),
            l.instance().map(vm::MapId(i as u16)),
        ) else {
            continue;
        };
        let elems = live.elements().into_iter().map(|(k, d)| (k, Some(d)));
        sets.push(SetView {
            name: decl.name.clone(),
            kind: match decl.data {
                MapData::Verdict => "vmap",
                MapData::Value(_) => "map",
            }
            .into(),
            elements: elements::show(checked, program, named.decl, elems),
        });
    }
    RulesetView {
        file: Some(l.file.display().to_string()),
        generation: l.generation,
        deleted_since_load: l.deleted_since_load.clone(),
        chains,
        sets,
        deleted,
    }
}
