//! Queries of the pool.
use cosmwasm_std::{Decimal, Deps, Env, Order, StdResult, Uint128};
use cw_storage_plus::Bound;
use opg_core::msg::page_limit;
use opg_core::msg::pool::{
    ClassReport, ConfigResponse, EpochReport, MultipliersResponse, NodeEpochReward,
    NodeRewardsResponse, ParamsResponse, PendingRewardsResponse, ScheduledParams,
};

use crate::claim::{reward_of, unclaimed_epochs};
use crate::error::ContractError;
use crate::finalize::multipliers_of;
use crate::governance::schedule_epochs;
use crate::maths;
use crate::state::{
    params_for, totals_of, ClassTotals, CLAIMED_THROUGH, CONFIG, EPOCH_RESULTS, NEXT_TO_FINALIZE,
    PARAMS, RESERVED, TALLIES,
};

/// Config, the next epoch to finalize and the reserved amount.
pub fn query_config(deps: Deps) -> StdResult<ConfigResponse> {
    let c = CONFIG.load(deps.storage)?;
    Ok(ConfigResponse {
        governance: c.governance,
        registry: c.registry,
        verifier: c.verifier,
        denom: c.denom,
        clock: c.clock,
        next_to_finalize: NEXT_TO_FINALIZE.load(deps.storage)?,
        reserved: RESERVED.load(deps.storage)?,
    })
}

/// Params in force for the current epoch (epoch 0 before genesis) and the ones scheduled after it.
pub fn query_params(deps: Deps, env: Env) -> StdResult<ParamsResponse> {
    let config = CONFIG.load(deps.storage)?;
    let (_, current) = schedule_epochs(&config, env.block.time.seconds());
    let scheduled = PARAMS
        .range(
            deps.storage,
            Some(Bound::exclusive(current)),
            None,
            Order::Ascending,
        )
        .next()
        .transpose()?
        .map(|(from_epoch, params)| ScheduledParams { from_epoch, params });
    Ok(ParamsResponse {
        current: params_for(deps.storage, current)?,
        scheduled,
    })
}

/// Multipliers of an epoch: fixed once finalized, else projected from the params of the epoch and
/// the raw values recorded so far in the previous one.
pub fn query_multipliers(deps: Deps, epoch: u64) -> Result<MultipliersResponse, ContractError> {
    if let Some(r) = EPOCH_RESULTS.may_load(deps.storage, epoch)? {
        return Ok(MultipliersResponse {
            epoch,
            m_commercial: r.m_commercial,
            m_community: r.m_community,
            previous_community_share: r.previous_community_share,
            fixed: true,
        });
    }
    let (m_commercial, m_community, share) = multipliers_of(deps.storage, epoch)?;
    Ok(MultipliersResponse {
        epoch,
        m_commercial,
        m_community,
        previous_community_share: share,
        fixed: false,
    })
}

fn class_report(
    t: &ClassTotals,
    usage_rewards: Uint128,
    stipend: Uint128,
    usage_paid: Uint128,
    stipend_paid: Uint128,
) -> ClassReport {
    ClassReport {
        nodes: t.nodes,
        calls: t.calls,
        raw_value: t.raw_value,
        counted_value: t.counted_value,
        usage_rewards,
        stipend,
        usage_paid,
        stipend_paid,
    }
}

/// The transparency report of an epoch (budgets, rate and rewards are 0 until finalized;
/// multipliers are projected until then).
pub fn query_epoch_report(deps: Deps, epoch: u64) -> Result<EpochReport, ContractError> {
    let totals = totals_of(deps.storage, epoch)?;
    let community_share =
        maths::community_share(totals.community.counted_value, totals.total_counted()?)?;
    let zero = Uint128::zero();
    let Some(r) = EPOCH_RESULTS.may_load(deps.storage, epoch)? else {
        let (m_commercial, m_community, _) = multipliers_of(deps.storage, epoch)?;
        let params = params_for(deps.storage, epoch)?;
        return Ok(EpochReport {
            epoch,
            finalized: false,
            budget: zero,
            m_commercial,
            m_community,
            community_share,
            commercial: class_report(&totals.commercial, zero, zero, zero, zero),
            community: class_report(&totals.community, zero, zero, zero, zero),
            live_local_nodes: totals.live_local_nodes,
            hardware_weight_total: totals.hardware_weight_total,
            paid: zero,
            rate: Decimal::zero(),
            usage_budget: zero,
            stipend_budget: zero,
            usage_unpaid: zero,
            stipend_unpaid: zero,
            c_call: params.c_call,
            v_cap: params.v_cap,
            expired: false,
        });
    };
    let usage_awarded = r
        .commercial_usage_rewards
        .checked_add(r.community_usage_rewards)?;
    let stipend = r.stipend_awarded();
    Ok(EpochReport {
        epoch,
        finalized: true,
        budget: r.budget,
        m_commercial: r.m_commercial,
        m_community: r.m_community,
        community_share,
        commercial: class_report(
            &totals.commercial,
            r.commercial_usage_rewards,
            zero,
            r.commercial_usage_paid,
            zero,
        ),
        community: class_report(
            &totals.community,
            r.community_usage_rewards,
            stipend,
            r.community_usage_paid,
            r.stipend_paid,
        ),
        live_local_nodes: totals.live_local_nodes,
        hardware_weight_total: totals.hardware_weight_total,
        paid: r.paid,
        rate: r.rate().as_decimal(),
        usage_budget: r.usage_budget,
        stipend_budget: r.stipend_budget,
        usage_unpaid: r.usage_budget.saturating_sub(usage_awarded),
        stipend_unpaid: r.stipend_budget.saturating_sub(stipend),
        c_call: r.c_call,
        v_cap: r.v_cap,
        expired: r.expired,
    })
}

/// A node's tallies in epoch order, paginated (`start_after` exclusive, `limit` default 30, max
/// 100), with rewards of finalized epochs.
pub fn query_node_rewards(
    deps: Deps,
    node_id: String,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<NodeRewardsResponse, ContractError> {
    let next = NEXT_TO_FINALIZE.load(deps.storage)?;
    let claimed_through = CLAIMED_THROUGH.may_load(deps.storage, &node_id)?;
    let tallies = TALLIES
        .prefix(&node_id)
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .collect::<StdResult<Vec<_>>>()?;
    let epochs = tallies
        .into_iter()
        .map(|(epoch, tally)| {
            let result = if epoch < next {
                Some(EPOCH_RESULTS.load(deps.storage, epoch)?)
            } else {
                None
            };
            let reward = result.as_ref().map(|r| reward_of(r, &tally)).transpose()?;
            let total = reward.as_ref().map(|r| r.total()).transpose()?;
            Ok(NodeEpochReward {
                epoch,
                provenance: tally.provenance,
                calls: tally.calls,
                raw_value: tally.raw_value,
                counted_value: tally.counted_value,
                live: tally.live.is_some(),
                hardware_class: tally.live.map(|l| l.hardware_class),
                reward: total,
                usage_reward: reward.map(|r| r.usage),
                stipend_reward: reward.map(|r| r.stipend),
                expired: result.is_some_and(|r| r.expired),
                claimed: claimed_through.is_some_and(|c| epoch <= c),
            })
        })
        .collect::<Result<Vec<_>, ContractError>>()?;
    Ok(NodeRewardsResponse { epochs })
}

/// Unclaimed rewards of the node's finalized epochs (the next 100 at most, as one claim could
/// pay); expired epochs count for nothing.
pub fn query_pending_rewards(
    deps: Deps,
    node_id: String,
) -> Result<PendingRewardsResponse, ContractError> {
    let epochs = unclaimed_epochs(deps.storage, &node_id, page_limit(Some(u32::MAX)))?;
    let mut amount = Uint128::zero();
    for (epoch, tally) in &epochs {
        let result = EPOCH_RESULTS.load(deps.storage, *epoch)?;
        if !result.expired {
            amount = amount.checked_add(reward_of(&result, tally)?.total()?)?;
        }
    }
    Ok(PendingRewardsResponse {
        amount,
        epochs: u32::try_from(epochs.len()).unwrap_or(u32::MAX),
    })
}
