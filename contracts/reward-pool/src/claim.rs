//! `Claim` and `PendingRewards`: pull-based payouts over a bounded range of a node's epochs.
use cosmwasm_std::{
    BankMsg, Coin, DepsMut, MessageInfo, Order, Response, StdResult, Storage, Uint128,
};
use cw_storage_plus::Bound;
use opg_core::msg::page_limit;
use opg_core::msg::registry::{NodeInfo, QueryMsg as RegistryQueryMsg};

use opg_core::types::Provenance;

use crate::error::ContractError;
use crate::maths::NodeReward;
use crate::state::{
    EpochResult, Tally, CLAIMED_THROUGH, CONFIG, EPOCH_RESULTS, NEXT_TO_FINALIZE, RESERVED, TALLIES,
};
use crate::usage::incr_u32;

/// The node's finalized, unclaimed tallies in epoch order, at most `limit` of them.
pub fn unclaimed_epochs(
    store: &dyn Storage,
    node_id: &str,
    limit: usize,
) -> StdResult<Vec<(u64, Tally)>> {
    let next = NEXT_TO_FINALIZE.load(store)?;
    let min = CLAIMED_THROUGH
        .may_load(store, node_id)?
        .map(Bound::exclusive);
    TALLIES
        .prefix(node_id)
        .range(store, min, Some(Bound::exclusive(next)), Order::Ascending)
        .take(limit)
        .collect()
}

/// The reward of a tally given its epoch's result, in parts (uopg).
pub fn reward_of(result: &EpochResult, tally: &Tally) -> Result<NodeReward, ContractError> {
    Ok(result.figures().node_reward(
        tally.provenance,
        tally.counted_value,
        tally.live.as_ref().map(|l| (l.weight, l.stipend_cap)),
    )?)
}

/// The reward of a tally in a finalized epoch, in parts (uopg).
pub fn tally_reward(
    store: &dyn Storage,
    epoch: u64,
    tally: &Tally,
) -> Result<NodeReward, ContractError> {
    reward_of(&EPOCH_RESULTS.load(store, epoch)?, tally)
}

/// Operator of the node (per the registry): pays the node's rewards over up to `limit`
/// (default 30, max 100) unclaimed finalized epochs to the sender; epochs whose claim window has
/// passed (expired) pay nothing and are passed over. Errors: `RegistryQueryFailed`,
/// `NotOperator`, `NothingToClaim`, `BudgetExceeded` (invariant).
pub fn execute_claim(
    deps: DepsMut,
    info: MessageInfo,
    node_id: String,
    limit: Option<u32>,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let node: NodeInfo = deps
        .querier
        .query_wasm_smart(
            &config.registry,
            &RegistryQueryMsg::Node {
                node_id: node_id.clone(),
            },
        )
        .map_err(|e| ContractError::RegistryQueryFailed {
            node_id: node_id.clone(),
            reason: e.to_string(),
        })?;
    if node.operator != info.sender {
        return Err(ContractError::NotOperator {
            node_id,
            sender: info.sender,
            operator: node.operator,
        });
    }

    // Bounded: at most `page_limit(limit)` (<= 100) epochs per claim.
    let epochs = unclaimed_epochs(deps.storage, &node_id, page_limit(limit))?;
    let (Some((first, _)), Some((last, _))) = (epochs.first(), epochs.last()) else {
        return Err(ContractError::NothingToClaim { node_id });
    };
    let (first, last) = (*first, *last);

    let mut total = Uint128::zero();
    let mut released = Uint128::zero();
    for (epoch, tally) in &epochs {
        let mut result = EPOCH_RESULTS.load(deps.storage, *epoch)?;
        if result.expired {
            continue;
        }
        let reward = reward_of(&result, tally)?;
        let amount = reward.total()?;
        let payable = result.payable()?;
        let paid = result.paid.checked_add(amount)?;
        if paid > payable {
            return Err(ContractError::BudgetExceeded {
                epoch: *epoch,
                paid: result.paid,
                amount,
                budget: payable,
            });
        }
        result.paid = paid;
        match tally.provenance {
            Provenance::Commercial => {
                result.commercial_usage_paid =
                    result.commercial_usage_paid.checked_add(reward.usage)?
            }
            Provenance::Community => {
                result.community_usage_paid =
                    result.community_usage_paid.checked_add(reward.usage)?
            }
        }
        result.stipend_paid = result.stipend_paid.checked_add(reward.stipend)?;
        result.claimed_nodes = incr_u32(result.claimed_nodes)?;
        if result.claimed_nodes >= result.tallies {
            // Everyone was paid: the rounding dust goes back to the pool.
            released = released.checked_add(payable.checked_sub(paid)?)?;
        }
        EPOCH_RESULTS.save(deps.storage, *epoch, &result)?;
        total = total.checked_add(amount)?;
    }
    CLAIMED_THROUGH.save(deps.storage, &node_id, &last)?;
    let reserved = RESERVED.load(deps.storage)?;
    RESERVED.save(
        deps.storage,
        &reserved.checked_sub(total)?.checked_sub(released)?,
    )?;

    let mut response = Response::new()
        .add_attribute("action", "claim")
        .add_attribute("node_id", &node_id)
        .add_attribute("amount", total)
        .add_attribute("epochs", epochs.len().to_string())
        .add_attribute("from_epoch", first.to_string())
        .add_attribute("to_epoch", last.to_string())
        .add_attribute("released", released);
    if !total.is_zero() {
        response = response.add_message(BankMsg::Send {
            to_address: node.operator.to_string(),
            amount: vec![Coin::new(total, config.denom)],
        });
    }
    Ok(response)
}
