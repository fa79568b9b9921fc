//! The program's packet state: which header base slots and parse keys it
//! uses, and what each one means.
//!
//! The three layer bases (`ll`, `nh`, `th`) and the two layer keys come
//! first; bases for headers that follow a header of variable length (a
//! header after TCP starts `doff * 4` bytes into it) are added as rules ask
//! for them, and computed once per packet by the parse section. The layout
//! also records which layers the rules read, so the parse section computes
//! only those.

use crate::error::CompileError;
use ruleset::registry::{HeaderId, Layer, Registry};
use vm::{BaseId, KeyId, NUM_BASES};

/// Where a header starts: a base slot and a constant byte offset from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Place {
    /// The base slot.
    pub base: BaseId,
    /// Bytes from the base.
    pub offset: u32,
}

/// A base computed by the parse section: the end of `parent`, which lies at
/// `parent_at` and whose length depends on its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComputedBase {
    /// The slot.
    pub slot: BaseId,
    /// The header whose end it is.
    pub parent: HeaderId,
    /// Where that header starts.
    pub parent_at: Place,
}

/// Base slots, parse keys and what the rules need of them.
#[derive(Debug)]
pub struct Layout {
    bases: Vec<String>,
    computed: Vec<ComputedBase>,
    used: [bool; 3],
}

/// The base slot of each layer.
pub const LINK_BASE: BaseId = BaseId(0);
/// The network layer's base (`@nh`).
pub const NETWORK_BASE: BaseId = BaseId(1);
/// The transport layer's base (`@th`).
pub const TRANSPORT_BASE: BaseId = BaseId(2);
/// The network layer's key (`meta protocol`).
pub const NETWORK_KEY: KeyId = KeyId(0);
/// The transport layer's key (`meta l4proto`).
pub const TRANSPORT_KEY: KeyId = KeyId(1);

impl Layout {
    /// The layer bases, nothing used yet.
    pub fn new() -> Layout {
        Layout {
            bases: vec!["ll".into(), "nh".into(), "th".into()],
            computed: Vec::new(),
            used: [true, false, false],
        }
    }

    /// The base slot of a layer.
    pub fn layer_base(layer: Layer) -> BaseId {
        match layer {
            Layer::Link => LINK_BASE,
            Layer::Network => NETWORK_BASE,
            Layer::Transport => TRANSPORT_BASE,
        }
    }

    /// The key slot of a layer (the link layer has none).
    pub fn layer_key(layer: Layer) -> Option<KeyId> {
        match layer {
            Layer::Link => None,
            Layer::Network => Some(NETWORK_KEY),
            Layer::Transport => Some(TRANSPORT_KEY),
        }
    }

    /// Notes that the rules read a layer's base or key (and so every layer
    /// below it, which the layer is computed from).
    pub fn use_layer(&mut self, layer: Layer) {
        let upto = match layer {
            Layer::Link => 0,
            Layer::Network => 1,
            Layer::Transport => 2,
        };
        for used in &mut self.used[..=upto] {
            *used = true;
        }
    }

    /// Notes that the rules read from this base.
    pub fn use_base(&mut self, base: BaseId) {
        match base {
            NETWORK_BASE => self.use_layer(Layer::Network),
            TRANSPORT_BASE => self.use_layer(Layer::Transport),
            _ => {}
        }
    }

    /// True when the parse section must compute the layer.
    pub fn layer_used(&self, layer: Layer) -> bool {
        match layer {
            Layer::Link => self.used[0],
            Layer::Network => self.used[1],
            Layer::Transport => self.used[2],
        }
    }

    /// The base slot holding the end of `parent` (which starts at
    /// `parent_at`), allocating it on first use.
    pub fn computed_base(
        &mut self,
        registry: &Registry,
        parent: HeaderId,
        parent_at: Place,
    ) -> Result<BaseId, CompileError> {
        if let Some(c) = self
            .computed
            .iter()
            .find(|c| c.parent == parent && c.parent_at == parent_at)
        {
            return Ok(c.slot);
        }
        if self.bases.len() >= NUM_BASES {
            return Err(CompileError::TooManyBases);
        }
        self.use_base(parent_at.base);
        let slot = BaseId(self.bases.len() as u8);
        self.bases
            .push(format!("{}.end", registry.header(parent).name));
        self.computed.push(ComputedBase {
            slot,
            parent,
            parent_at,
        });
        Ok(slot)
    }

    /// The computed bases, in the order they were asked for (a base is
    /// always asked for after the bases it is computed from).
    pub fn computed(&self) -> &[ComputedBase] {
        &self.computed
    }

    /// Names of the base slots, by slot.
    pub fn base_names(&self) -> Vec<String> {
        self.bases.clone()
    }

    /// Names of the key slots, by slot.
    pub fn key_names(registry: &Registry) -> Vec<String> {
        [Layer::Network, Layer::Transport]
            .iter()
            .map(|&l| {
                registry
                    .layer(l)
                    .key
                    .as_ref()
                    .map_or_else(|| l.name().to_string(), |k| k.name.clone())
            })
            .collect()
    }
}

impl Default for Layout {
    fn default() -> Layout {
        Layout::new()
    }
}
