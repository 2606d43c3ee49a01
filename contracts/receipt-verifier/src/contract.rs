//! Entry points and dispatch of the receipt verifier (DESIGN §3). Logic lives in the topic modules.
#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};
use opg_core::eip712::verifier_domain_separator;
use opg_core::msg::pool::{ConfigResponse as PoolConfigResponse, QueryMsg as PoolQueryMsg};
use opg_core::msg::verifier::{ExecuteMsg, InstantiateMsg, QueryMsg, SudoMsg};
use opg_core::msg::MigrateMsg;

use crate::error::ContractError;
use crate::governance::{execute_update_config, sudo_update_config};
use crate::migrate::migrate_contract;
use crate::prune::execute_prune_nonces;
use crate::query::{query_config, query_receipt_status, query_verify_receipt};
use crate::state::{Config, CONFIG, CONTRACT_NAME, CONTRACT_VERSION};
use crate::submit::execute_submit_receipts;
use crate::validate::{validate_facilitators, validate_max_batch, validate_networks};

/// Validates the config, reads the epoch clock from the reward pool (`Config {}` query) and stores
/// the EIP-712 domain separator of this deployment.
///
/// Errors: invalid addresses (`Std`), `InvalidNetwork`, `DuplicateChainId`, `InvalidAssetAddress`,
/// `DuplicateAsset`, `InvalidDecimals`, `InvalidFacilitator`, `DuplicateFacilitator`,
/// `InvalidMaxBatch`, `InvalidClock`, and a failing pool query.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    env: Env,
    _info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    let governance = deps.api.addr_validate(&msg.governance)?;
    let registry = deps.api.addr_validate(&msg.registry)?;
    let reward_pool = deps.api.addr_validate(&msg.reward_pool)?;
    let networks = validate_networks(msg.networks)?;
    let facilitators = validate_facilitators(msg.facilitators)?;
    let max_batch = validate_max_batch(msg.max_batch)?;
    let pool: PoolConfigResponse = deps
        .querier
        .query_wasm_smart(&reward_pool, &PoolQueryMsg::Config {})?;
    if pool.clock.epoch_length == 0 {
        return Err(ContractError::InvalidClock {});
    }
    let domain_separator =
        verifier_domain_separator(&env.block.chain_id, env.contract.address.as_str());
    let cfg = Config {
        governance,
        registry,
        reward_pool,
        clock: pool.clock,
        networks,
        facilitators,
        require_settlement: msg.require_settlement,
        max_batch,
        domain_separator: Binary::from(domain_separator.as_slice()),
    };
    CONFIG.save(deps.storage, &cfg)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("governance", cfg.governance.as_str())
        .add_attribute("registry", cfg.registry.as_str())
        .add_attribute("reward_pool", cfg.reward_pool.as_str())
        .add_attribute("epoch_length", cfg.clock.epoch_length.to_string()))
}

/// Dispatches execute messages.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::SubmitReceipts(m) => {
            execute_submit_receipts(deps, env, info, m.receipts, m.heartbeats, m.compact)
        }
        ExecuteMsg::PruneNonces(m) => execute_prune_nonces(deps, env, info, m.limit),
        ExecuteMsg::UpdateConfig(m) => execute_update_config(deps, info, m),
    }
}

/// Dispatches sudo messages (chain governance).
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn sudo(deps: DepsMut, _env: Env, msg: SudoMsg) -> Result<Response, ContractError> {
    match msg {
        SudoMsg::UpdateConfig(m) => sudo_update_config(deps, m),
    }
}

/// Dispatches queries.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&query_config(deps, env)?)?,
        QueryMsg::VerifyReceipt { receipt } => {
            to_json_binary(&query_verify_receipt(deps, env, receipt)?)?
        }
        QueryMsg::ReceiptStatus { payer, nonce } => {
            to_json_binary(&query_receipt_status(deps, payer, nonce)?)?
        }
    })
}

/// Migrates; refuses another contract name or a downgrade.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    migrate_contract(deps)
}
