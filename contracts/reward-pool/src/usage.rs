//! `RecordUsage`: per-node tallies, the payer cap, class totals and liveness.
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use cosmwasm_std::{
    Decimal, DepsMut, Env, MessageInfo, OverflowError, OverflowOperation, Response, Storage,
};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{LiveNode, RewardParams, UsageEntry};
use opg_core::types::Provenance;

use crate::error::ContractError;
use crate::maths::capped_increment;
use crate::state::{
    hardware_weight, params_for, totals_of, EpochTotals, LiveTally, Tally, CONFIG, EPOCH_TOTALS,
    NEXT_TO_FINALIZE, PAYER_CONTRIB, TALLIES,
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

/// Per-message cache: each epoch's params and totals are read once and the totals written once.
struct Batch {
    epochs: BTreeMap<u64, (RewardParams, EpochTotals)>,
}

impl Batch {
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
}

/// Loads a node's tally of an epoch or starts one (counting it in `totals.tallies`).
/// Errors: `ProvenanceMismatch` if the node is already recorded in the other class.
fn load_tally(
    store: &dyn Storage,
    totals: &mut EpochTotals,
    node_id: &str,
    epoch: u64,
    provenance: Provenance,
) -> Result<Tally, ContractError> {
    match TALLIES.may_load(store, (node_id, epoch))? {
        Some(t) if t.provenance != provenance => Err(ContractError::ProvenanceMismatch {
            node_id: node_id.to_string(),
            epoch,
            recorded: t.provenance.as_str().to_string(),
            got: provenance.as_str().to_string(),
        }),
        Some(t) => Ok(t),
        None => {
            totals.tallies = incr_u32(totals.tallies)?;
            Ok(Tally {
                provenance,
                has_usage: false,
                calls: 0,
                raw_value: Default::default(),
                effective_value: Default::default(),
                live: None,
            })
        }
    }
}

/// Verifier only: adds usage entries and live local nodes to the tallies of open epochs.
/// Payers are compared case-insensitively (lowercased). A node's second `LiveNode` in an epoch is
/// ignored (its first hardware class counts). Errors: `Unauthorized`, `EpochFinalized`,
/// `EpochNotStarted`, `ProvenanceMismatch`.
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
    let mut batch = Batch {
        epochs: BTreeMap::new(),
    };

    for entry in &entries {
        ensure_open(&config.clock, next, entry.epoch, now)?;
        let (params, totals) = batch.epoch(deps.storage, entry.epoch)?;
        let payer = entry.payer.to_ascii_lowercase();
        let key = (entry.epoch, entry.node_id.as_str(), payer.as_str());
        let prior = PAYER_CONTRIB
            .may_load(deps.storage, key)?
            .unwrap_or_default();
        let effective = capped_increment(prior, entry.value, params.payer_cap);
        PAYER_CONTRIB.save(deps.storage, key, &prior.checked_add(entry.value)?)?;

        let mut tally = load_tally(
            deps.storage,
            totals,
            &entry.node_id,
            entry.epoch,
            entry.provenance,
        )?;
        let class = totals.class_mut(entry.provenance);
        if !tally.has_usage {
            tally.has_usage = true;
            class.nodes = incr_u32(class.nodes)?;
        }
        tally.calls = add_u64(tally.calls, entry.calls)?;
        tally.raw_value = tally.raw_value.checked_add(entry.value)?;
        tally.effective_value = tally.effective_value.checked_add(effective)?;
        class.calls = add_u64(class.calls, entry.calls)?;
        class.raw_value = class.raw_value.checked_add(entry.value)?;
        class.effective_value = class.effective_value.checked_add(effective)?;
        TALLIES.save(deps.storage, (&entry.node_id, entry.epoch), &tally)?;
    }

    for node in &live {
        ensure_open(&config.clock, next, node.epoch, now)?;
        let (params, totals) = batch.epoch(deps.storage, node.epoch)?;
        let weight: Decimal = hardware_weight(params, &node.hardware_class);
        let mut tally = load_tally(
            deps.storage,
            totals,
            &node.node_id,
            node.epoch,
            Provenance::Community,
        )?;
        if tally.live.is_none() {
            tally.live = Some(LiveTally {
                hardware_class: node.hardware_class.clone(),
                weight,
            });
            totals.live_local_nodes = incr_u32(totals.live_local_nodes)?;
            totals.hardware_weight_total = totals.hardware_weight_total.checked_add(weight)?;
            TALLIES.save(deps.storage, (&node.node_id, node.epoch), &tally)?;
        }
    }

    for (epoch, (_, totals)) in &batch.epochs {
        EPOCH_TOTALS.save(deps.storage, *epoch, totals)?;
    }

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
