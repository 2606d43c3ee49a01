//! `FinalizeEpoch`: fixes an epoch's multipliers and budget, in order, from class totals only.
use cosmwasm_std::{Decimal, DepsMut, Env, Response, StdResult, Storage, Uint128};

use crate::error::ContractError;
use crate::maths;
use crate::state::{
    params_for, totals_of, EpochResult, CONFIG, EPOCH_RESULTS, NEXT_TO_EXPIRE, NEXT_TO_FINALIZE,
    RESERVED,
};

/// Most epochs whose claim window closes in one `FinalizeEpoch` (bounded work; after governance
/// shortens `claim_epochs`, the expiry catches up over a few finalizations).
pub const MAX_EXPIRE_PER_FINALIZE: u64 = 4;

/// Closes the claim window of the oldest open-window epochs once `claim_epochs` later epochs are
/// finalized (epoch `x` expires when epoch `x + claim_epochs` is finalized), at most
/// [`MAX_EXPIRE_PER_FINALIZE`] of them: marks them expired and returns the epochs expired and
/// what they had reserved and nobody claimed (uopg), which goes back to the pool.
pub fn expire_epochs(
    store: &mut dyn Storage,
    finalized: u64,
    claim_epochs: u64,
) -> Result<(u64, Uint128), ContractError> {
    let mut next = NEXT_TO_EXPIRE.may_load(store)?.unwrap_or(0);
    let mut expired = 0u64;
    let mut released = Uint128::zero();
    while expired < MAX_EXPIRE_PER_FINALIZE && next.saturating_add(claim_epochs) <= finalized {
        let mut r = EPOCH_RESULTS.load(store, next)?;
        // When every node has claimed, the dust was released by the last claim already.
        if r.claimed_nodes < r.tallies {
            released = released.checked_add(r.payable()?.checked_sub(r.paid)?)?;
        }
        r.expired = true;
        EPOCH_RESULTS.save(store, next, &r)?;
        next = next_epoch(next)?;
        expired += 1;
    }
    NEXT_TO_EXPIRE.save(store, &next)?;
    Ok((expired, released))
}

/// `S(e-1)`: community share of counted value in epoch `e - 1`; 0 for epoch 0 and for an epoch
/// without traffic (so with no traffic the community boost is full).
pub fn previous_community_share(store: &dyn Storage, epoch: u64) -> Result<Decimal, ContractError> {
    let Some(prev) = epoch.checked_sub(1) else {
        return Ok(Decimal::zero());
    };
    let totals = totals_of(store, prev)?;
    Ok(maths::community_share(
        totals.community.counted_value,
        totals.total_counted()?,
    )?)
}

/// `m_community(e)` from the params of `e` and the totals of `e - 1`.
pub fn multipliers_of(
    store: &dyn Storage,
    epoch: u64,
) -> Result<(Decimal, Decimal, Decimal), ContractError> {
    let params = params_for(store, epoch)?;
    let share = previous_community_share(store, epoch)?;
    let m_m = maths::m_community(params.m_community_max, params.target_share, share)?;
    Ok((params.m_commercial, m_m, share))
}

/// Anyone, once `now >= end(epoch) + grace`, for the next unfinalized epoch only: fixes
/// `m_commercial`, `m_community`, the budget `B = min(emission, balance - reserved)`, its parts
/// `U` and `H`, the usage rate `rho = min(U / D, c_call / (m_max v_cap))` and the capped stipend
/// total (DESIGN §4), and reserves what is awarded: the class usage rewards and the stipend
/// awarded. The rest of `B` stays in the pool. Then closes the claim window of epochs
/// `claim_epochs` or more behind (see [`expire_epochs`]). Errors: `EpochOutOfOrder`,
/// `EpochNotOver`.
pub fn execute_finalize_epoch(
    deps: DepsMut,
    env: Env,
    epoch: u64,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let next = NEXT_TO_FINALIZE.load(deps.storage)?;
    if epoch != next {
        return Err(ContractError::EpochOutOfOrder {
            expected: next,
            got: epoch,
        });
    }
    let now = env.block.time.seconds();
    if !config.clock.finalizable(epoch, now) {
        return Err(ContractError::EpochNotOver {
            epoch,
            ends_at: config.clock.end(epoch).saturating_add(config.clock.grace),
        });
    }

    let params = params_for(deps.storage, epoch)?;
    let totals = totals_of(deps.storage, epoch)?;
    let (m_c, m_m, share) = multipliers_of(deps.storage, epoch)?;

    let balance = deps
        .querier
        .query_balance(&env.contract.address, &config.denom)?
        .amount;
    let reserved = RESERVED.load(deps.storage)?;
    let budget = maths::budget(params.emission_per_epoch, balance, reserved);
    let outcome = maths::epoch_outcome(&maths::EpochInputs {
        budget,
        alpha: params.alpha,
        m_commercial: m_c,
        m_community: m_m,
        v_cap: params.v_cap,
        c_call: params.c_call,
        eff_commercial: totals.commercial.counted_value,
        eff_community: totals.community.counted_value,
        hw_total: totals.hardware_weight_total,
        live_classes: totals.stipend_capped.then(|| totals.live_classes.clone()),
    })?;
    let d = maths::denominator(
        m_c,
        totals.commercial.counted_value,
        m_m,
        totals.community.counted_value,
    )?;
    let result = EpochResult {
        budget,
        usage_budget: outcome.usage_budget,
        stipend_budget: outcome.figures.stipend_budget,
        m_commercial: m_c,
        m_community: m_m,
        previous_community_share: share,
        denominator: d,
        hardware_weight_total: totals.hardware_weight_total,
        commercial_usage_rewards: outcome.commercial_usage,
        community_usage_rewards: outcome.community_usage,
        paid: Default::default(),
        tallies: totals.tallies,
        claimed_nodes: 0,
        rate: Some(outcome.figures.rate),
        stipend_awarded: Some(outcome.stipend_awarded),
        c_call: params.c_call,
        v_cap: params.v_cap,
        commercial_usage_paid: Default::default(),
        community_usage_paid: Default::default(),
        stipend_paid: Default::default(),
        expired: false,
    };
    let payable = result.payable()?;
    EPOCH_RESULTS.save(deps.storage, epoch, &result)?;
    let (expired, released) = expire_epochs(deps.storage, epoch, params.claim_epochs)?;
    RESERVED.save(
        deps.storage,
        &reserved.checked_add(payable)?.checked_sub(released)?,
    )?;
    NEXT_TO_FINALIZE.save(deps.storage, &next_epoch(epoch)?)?;

    Ok(Response::new()
        .add_attribute("action", "finalize_epoch")
        .add_attribute("epoch", epoch.to_string())
        .add_attribute("budget", budget)
        .add_attribute("usage_budget", outcome.usage_budget)
        .add_attribute("stipend_budget", outcome.figures.stipend_budget)
        .add_attribute("reserved", payable)
        .add_attribute("epochs_expired", expired.to_string())
        .add_attribute("expired_released", released)
        .add_attribute("rate", outcome.figures.rate.as_decimal().to_string())
        .add_attribute("m_commercial", m_c.to_string())
        .add_attribute("m_community", m_m.to_string())
        .add_attribute("community_share", share.to_string()))
}

fn next_epoch(epoch: u64) -> StdResult<u64> {
    Ok(crate::usage::add_u64(epoch, 1)?)
}
