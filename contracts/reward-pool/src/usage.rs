//! `RecordUsage`: per-node tallies of calls, raw and counted value, class totals and liveness.
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use cosmwasm_std::{
    Decimal, DepsMut, Env, MessageInfo, OverflowError, OverflowOperation, Response, StdError,
    Storage,
};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{LiveNode, RewardParams, UsageEntry};
use opg_core::types::Provenance;

use crate::error::ContractError;
use crate::maths::LiveClass;
use crate::state::{
    hardware_weight, params_for, totals_of, EpochTotals, LiveTally, Tally, CONFIG, EPOCH_TOTALS,
    NEXT_TO_FINALIZE, TALLIES,
};

/// `a + b` for counters, as a checked-arithmetic error on overflow.
pub(crate) fn add_u64(a: u64, b: u64) -> Result<u64, OverflowError> {
    a.checked_add(b)
        .ok_or(OverflowError::new(OverflowOperation::Add))
}

/// `a + 1` for node counters.
pub(crate) fn incr_u32(a: u32) -> Result<u32, OverflowError> {
    a.checked_add(1)
        .ok_or(OverflowError::new(OverflowOperation::Add))
}

/// Usage may be recorded for epoch `epoch`: not finalized, and already started (so its params can
/// no longer change). Errors: `EpochFinalized`, `EpochNotStarted`.
fn ensure_open(
    clock: &EpochClock,
    next_to_finalize: u64,
    epoch: u64,
    now: u64,
) -> Result<(), ContractError> {
    if epoch < next_to_finalize {
        return Err(ContractError::EpochFinalized { epoch });
    }
    match clock.epoch_of(now) {
        Some(current) if epoch <= current => Ok(()),
        _ => Err(ContractError::EpochNotStarted {
            epoch,
            starts_at: clock.start(epoch),
        }),
    }
}

/// A node's tally of one epoch as cached during a message.
struct CachedTally {
    tally: Tally,
    /// Changed since it was read: written back at the end of the message.
    dirty: bool,
}

/// Per-message cache: each epoch's params and totals and each `(node, epoch)` tally are read at
/// most once, and written at most once, at the end of the message.
struct Batch {
    epochs: BTreeMap<u64, (RewardParams, EpochTotals)>,
    tallies: BTreeMap<(String, u64), CachedTally>,
}

impl Batch {
    fn new() -> Self {
        Batch {
            epochs: BTreeMap::new(),
            tallies: BTreeMap::new(),
        }
    }

    fn epoch(
        &mut self,
        store: &dyn Storage,
        epoch: u64,
    ) -> Result<(&RewardParams, &mut EpochTotals), ContractError> {
        let entry = match self.epochs.entry(epoch) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert((params_for(store, epoch)?, totals_of(store, epoch)?)),
        };
        Ok((&entry.0, &mut entry.1))
    }

    /// A node's tally of an epoch, from the cache, storage, or new (counted in the epoch's
    /// `totals.tallies`), with the epoch's params and totals; marks it to be written back.
    /// Errors: `ProvenanceMismatch` if the node is already recorded in the other class.
    fn tally(
        &mut self,
        store: &dyn Storage,
        node_id: &str,
        epoch: u64,
        provenance: Provenance,
    ) -> Result<(&mut CachedTally, &RewardParams, &mut EpochTotals), ContractError> {
        self.epoch(store, epoch)?;
        let (params, totals) = match self.epochs.get_mut(&epoch) {
            Some((p, t)) => (&*p, t),
            None => return Err(StdError::not_found("EpochTotals").into()),
        };
        let cached = match self.tallies.entry((node_id.to_string(), epoch)) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let (tally, dirty) = match TALLIES.may_load(store, (node_id, epoch))? {
                    Some(t) => (t, false),
                    None => {
                        totals.tallies = incr_u32(totals.tallies)?;
                        let fresh = Tally {
                            provenance,
                            has_usage: false,
                            calls: 0,
                            raw_value: Default::default(),
                            counted_value: Default::default(),
                            live: None,
                        };
                        (fresh, true)
                    }
                };
                v.insert(CachedTally { tally, dirty })
            }
        };
        if cached.tally.provenance != provenance {
            return Err(ContractError::ProvenanceMismatch {
                node_id: node_id.to_string(),
                epoch,
                recorded: cached.tally.provenance.as_str().to_string(),
                got: provenance.as_str().to_string(),
            });
        }
        Ok((cached, params, totals))
    }

    /// Writes the changed tallies and every touched epoch's totals.
    fn save(&self, store: &mut dyn Storage) -> Result<(), ContractError> {
        for ((node_id, epoch), cached) in &self.tallies {
            if cached.dirty {
                TALLIES.save(store, (node_id, *epoch), &cached.tally)?;
            }
        }
        for (epoch, (_, totals)) in &self.epochs {
            EPOCH_TOTALS.save(store, *epoch, totals)?;
        }
        Ok(())
    }
}

/// Checks an entry's counted value: at most its raw value and at most `calls * v_cap`.
/// Errors: `InvalidUsage`.
fn check_counted(entry: &UsageEntry, params: &RewardParams) -> Result<(), ContractError> {
    let invalid = |reason: String| ContractError::InvalidUsage {
        node_id: entry.node_id.clone(),
        epoch: entry.epoch,
        reason,
    };
    if entry.counted_value > entry.value {
        return Err(invalid(format!(
            "counted value {} exceeds raw value {}",
            entry.counted_value, entry.value
        )));
    }
    let most = params.v_cap.full_mul(entry.calls);
    if cosmwasm_std::Uint256::from(entry.counted_value) > most {
        return Err(invalid(format!(
            "counted value {} exceeds {} calls * v_cap {}",
            entry.counted_value, entry.calls, params.v_cap
        )));
    }
    Ok(())
}

/// Verifier only: adds per-node usage entries and live local nodes to the tallies of open epochs.
/// A node's second `LiveNode` in an epoch is ignored (its first hardware class counts). Errors:
/// `Unauthorized`, `EpochFinalized`, `EpochNotStarted`, `ProvenanceMismatch`, `InvalidUsage`.
pub fn execute_record_usage(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    entries: Vec<UsageEntry>,
    live: Vec<LiveNode>,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if config.verifier.as_ref() != Some(&info.sender) {
        return Err(ContractError::Unauthorized {
            sender: info.sender,
            action: "record_usage".to_string(),
        });
    }
    let next = NEXT_TO_FINALIZE.load(deps.storage)?;
    let now = env.block.time.seconds();
    let mut batch = Batch::new();

    for entry in &entries {
        ensure_open(&config.clock, next, entry.epoch, now)?;
        let (cached, params, totals) =
            batch.tally(deps.storage, &entry.node_id, entry.epoch, entry.provenance)?;
        check_counted(entry, params)?;
        let tally = &mut cached.tally;
        cached.dirty = true;
        let class = totals.class_mut(entry.provenance);
        if !tally.has_usage {
            tally.has_usage = true;
            class.nodes = incr_u32(class.nodes)?;
        }
        tally.calls = add_u64(tally.calls, entry.calls)?;
        tally.raw_value = tally.raw_value.checked_add(entry.value)?;
        tally.counted_value = tally.counted_value.checked_add(entry.counted_value)?;
        class.calls = add_u64(class.calls, entry.calls)?;
        class.raw_value = class.raw_value.checked_add(entry.value)?;
        class.counted_value = class.counted_value.checked_add(entry.counted_value)?;
    }

    for node in &live {
        ensure_open(&config.clock, next, node.epoch, now)?;
        let (cached, params, totals) = batch.tally(
            deps.storage,
            &node.node_id,
            node.epoch,
            Provenance::Community,
        )?;
        if cached.tally.live.is_none() {
            let (weight, cap): (Decimal, _) = hardware_weight(params, &node.hardware_class);
            // An epoch opened by version 0.1 stays uncapped (its earlier live nodes have no cap).
            let stipend_cap = totals.stipend_capped.then_some(cap);
            if totals.stipend_capped && !weight.is_zero() {
                // Bounded: one entry per weighted class of the params (at most 32).
                match totals
                    .live_classes
                    .iter_mut()
                    .find(|c| c.class == node.hardware_class)
                {
                    Some(c) => c.nodes = incr_u32(c.nodes)?,
                    None => totals.live_classes.push(LiveClass {
                        class: node.hardware_class.clone(),
                        weight,
                        stipend_cap: cap,
                        nodes: 1,
                    }),
                }
            }
            cached.tally.live = Some(LiveTally {
                hardware_class: node.hardware_class.clone(),
                weight,
                stipend_cap,
            });
            cached.dirty = true;
            totals.live_local_nodes = incr_u32(totals.live_local_nodes)?;
            totals.hardware_weight_total = totals.hardware_weight_total.checked_add(weight)?;
        }
    }

    batch.save(deps.storage)?;

    Ok(Response::new()
        .add_attribute("action", "record_usage")
        .add_attribute("entries", entries.len().to_string())
        .add_attribute("live", live.len().to_string())
        .add_attribute(
            "epochs",
            batch
                .epochs
                .keys()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ))
}
