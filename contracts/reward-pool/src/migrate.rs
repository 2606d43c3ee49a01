//! `migrate`: refuses another contract and downgrades; from a version before 0.2 it rewrites the
//! stored params to the 0.2 layout (DESIGN §4, rewards v2), then records the new version.
//!
//! 0.1 -> 0.2: every stored params entry (the one in force and any scheduled; one per governance
//! update, so few) loses `payer_cap` and gains `v_cap` and `c_call` from the [`MigrateMsg`]
//! (defaults [`DEFAULT_V_CAP`] and no per-call cap) and, per hardware class, a `stipend_cap` (the
//! message's, else [`DEFAULT_STIPEND_CAP`]) and `claim_epochs` (else [`DEFAULT_CLAIM_EPOCHS`]). The 0.1 per-payer contributions (namespace `pc`) are
//! no longer read: they stay as dead storage (deleting them would need an unbounded iteration).
//! Epochs finalized by 0.1 keep their 0.1 maths (see `EpochResult`); an epoch open at migration
//! keeps its recorded tallies (counted value = 0.1's payer-capped value) and an uncapped stipend.
use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Decimal, DepsMut, Order, Response, StdResult, Uint128};
use cw_storage_plus::Map;
use opg_core::msg::pool::{
    HardwareWeight, MigrateMsg, RewardParams, DEFAULT_CLAIM_EPOCHS, DEFAULT_STIPEND_CAP,
    DEFAULT_V_CAP,
};

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;
use crate::params::validate_bounds;
use crate::state::PARAMS;

/// The first version with the rewards v2 params layout.
pub const V2: semver::Version = semver::Version::new(0, 2, 0);

/// Reward params as stored by version 0.1.
#[cw_serde]
pub struct LegacyRewardParams {
    /// uopg per epoch.
    pub emission_per_epoch: Uint128,
    /// `m_commercial`.
    pub m_commercial: Decimal,
    /// `M`.
    pub m_community_max: Decimal,
    /// `S*`.
    pub target_share: Decimal,
    /// `alpha` (0.1: in `[0, 0.5]`).
    pub alpha: Decimal,
    /// Per-payer cap (micro-USD), dropped.
    pub payer_cap: Uint128,
    /// Weights.
    pub hardware_weights: Vec<LegacyHardwareWeight>,
}

/// A hardware weight as stored by version 0.1.
#[cw_serde]
pub struct LegacyHardwareWeight {
    /// Class.
    pub class: String,
    /// Weight.
    pub weight: Decimal,
}

/// The 0.1 params history, same namespace as [`PARAMS`].
pub const LEGACY_PARAMS: Map<u64, LegacyRewardParams> = Map::new("params");

fn parse(version: &str) -> Result<semver::Version, ContractError> {
    semver::Version::parse(version).map_err(|e| ContractError::InvalidVersion {
        version: version.to_string(),
        reason: e.to_string(),
    })
}

/// The 0.2 params of 0.1 params, with `msg`'s values.
pub fn upgrade_params(old: LegacyRewardParams, msg: &MigrateMsg) -> RewardParams {
    let cap_of = |class: &str| {
        msg.stipend_caps
            .iter()
            .flatten()
            .find(|c| c.class == class)
            .map_or(Uint128::new(DEFAULT_STIPEND_CAP), |c| c.stipend_cap)
    };
    RewardParams {
        emission_per_epoch: old.emission_per_epoch,
        m_commercial: old.m_commercial,
        m_community_max: old.m_community_max,
        target_share: old.target_share,
        alpha: old.alpha,
        v_cap: msg.v_cap.unwrap_or(Uint128::new(DEFAULT_V_CAP)),
        c_call: msg.c_call,
        claim_epochs: msg.claim_epochs.unwrap_or(DEFAULT_CLAIM_EPOCHS),
        hardware_weights: old
            .hardware_weights
            .into_iter()
            .map(|w| HardwareWeight {
                stipend_cap: cap_of(&w.class),
                class: w.class,
                weight: w.weight,
            })
            .collect(),
    }
}

/// Errors: `MigrateWrongContract`, `MigrateDowngrade`, `InvalidVersion`, `ParamOutOfBounds`
/// (a `MigrateMsg` value out of bounds), `Std` (stored params unreadable).
pub fn migrate_contract(deps: DepsMut, msg: MigrateMsg) -> Result<Response, ContractError> {
    let stored = cw2::get_contract_version(deps.storage)?;
    if stored.contract != CONTRACT_NAME {
        return Err(ContractError::MigrateWrongContract {
            expected: CONTRACT_NAME.to_string(),
            got: stored.contract,
        });
    }
    let from = parse(&stored.version)?;
    if from > parse(CONTRACT_VERSION)? {
        return Err(ContractError::MigrateDowngrade {
            from: stored.version,
            to: CONTRACT_VERSION.to_string(),
        });
    }
    let mut upgraded = 0u32;
    if from < V2 {
        // Bounded by the number of governance updates ever made (one entry each).
        let legacy = LEGACY_PARAMS
            .range(deps.storage, None, None, Order::Ascending)
            .collect::<StdResult<Vec<_>>>()?;
        for (from_epoch, old) in legacy {
            let params = upgrade_params(old, &msg);
            validate_bounds(&params)?;
            PARAMS.save(deps.storage, from_epoch, &params)?;
            upgraded += 1;
        }
    }
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", stored.version)
        .add_attribute("to_version", CONTRACT_VERSION)
        .add_attribute("params_upgraded", upgraded.to_string()))
}
