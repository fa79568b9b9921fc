//! The parse graph of the registry, as the compiler uses it: which edges
//! reach a header, where an edge places it, and how long a header is.
//!
//! An edge whose last condition is on a layer key (`meta protocol ip`)
//! places its header at that layer's base; an edge whose last condition is
//! on a field of another header (`ether type vlan`) places it right after
//! that header (design.md 2.2).

use crate::header_expr::fixed_length;
use ruleset::registry::{CondSubject, HeaderId, Layer, ParseEdge, Registry};

/// Where an edge comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A layer key: the header lies at the layer's base.
    Layer(Layer),
    /// A header: the header lies right after it.
    Header(HeaderId),
}

/// How many bytes a header occupies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// A constant.
    Const(u32),
    /// Computed from the header's fields.
    Variable,
}

/// The registry's parse graph, indexed for lookups.
pub struct ParseGraph<'r> {
    registry: &'r Registry,
    into: Vec<Vec<&'r ParseEdge>>,
    subjects: Vec<CondSubject>,
}

impl<'r> ParseGraph<'r> {
    /// Indexes the edges of `registry` by the header they reach.
    pub fn new(registry: &'r Registry) -> ParseGraph<'r> {
        let mut into = vec![Vec::new(); registry.headers.len()];
        let mut subjects: Vec<CondSubject> = Vec::new();
        let mut add = |s: CondSubject| {
            if !subjects.contains(&s) {
                subjects.push(s);
            }
        };
        for edge in &registry.edges {
            into[usize::from(edge.target.0)].push(edge);
            edge.conds.iter().for_each(|c| add(c.subject));
        }
        // A field that exists only for some values of another (`icmp id`)
        // depends on that other field too.
        for (h, header) in registry.headers.iter().enumerate() {
            for cond in header.fields.iter().filter_map(|f| f.cond.as_ref()) {
                add(CondSubject::Field {
                    header: HeaderId(h as u16),
                    field: cond.field,
                });
            }
        }
        ParseGraph {
            registry,
            into,
            subjects,
        }
    }

    /// True when some edge's condition, or some field's condition, tests
    /// `subject` (what a rule learns about other fields cannot matter to
    /// its dependencies).
    pub fn tests(&self, subject: CondSubject) -> bool {
        self.subjects.contains(&subject)
    }

    /// The registry.
    pub fn registry(&self) -> &'r Registry {
        self.registry
    }

    /// The edges reaching `header`, in declaration order.
    pub fn edges_into(&self, header: HeaderId) -> &[&'r ParseEdge] {
        &self.into[usize::from(header.0)]
    }

    /// Where an edge comes from: the subject of its last condition.
    pub fn source(edge: &ParseEdge) -> Source {
        match edge.conds.last().map(|c| c.subject) {
            Some(CondSubject::Field { header, .. }) => Source::Header(header),
            Some(CondSubject::LayerKey(layer)) => Source::Layer(layer),
            None => Source::Layer(Layer::Link),
        }
    }

    /// The edge a rule takes to reach `header`: from the most recent header
    /// in `context` that has an edge to it (the nftables protocol context),
    /// or else the first edge declared.
    pub fn choose(&self, header: HeaderId, context: &[HeaderId]) -> Option<&'r ParseEdge> {
        let edges = self.edges_into(header);
        context
            .iter()
            .rev()
            .find_map(|h| edges.iter().find(|e| Self::source(e) == Source::Header(*h)))
            .or_else(|| edges.first())
            .copied()
    }

    /// The length of a header in bytes.
    pub fn length(&self, header: HeaderId) -> Length {
        fixed_length(self.registry.header(header)).map_or(Length::Variable, Length::Const)
    }

    /// The values of the edges into `target` that leave one of `from`
    /// through its `next` field: what that field must hold for `target` to
    /// follow.
    pub fn next_values(&self, from: &[HeaderId], target: HeaderId) -> Vec<u128> {
        let mut values: Vec<u128> = self
            .edges_into(target)
            .iter()
            .filter_map(|e| match e.conds.as_slice() {
                [c] => match c.subject {
                    CondSubject::Field { header, field }
                        if from.contains(&header)
                            && self.registry.header(header).next.as_ref().map(|n| n.field)
                                == Some(field) =>
                    {
                        Some(c.values.iter().copied())
                    }
                    _ => None,
                },
                _ => None,
            })
            .flatten()
            .collect();
        values.sort_unstable();
        values.dedup();
        values
    }
}
