//! Messages of the three contracts. Every field is documented: these comments become the JSON
//! schema under `schema/`.
pub mod pool;
pub mod registry;
pub mod verifier;

use cosmwasm_schema::cw_serde;

/// Migrate message of every opg contract. Migration refuses another contract name and downgrades.
#[cw_serde]
pub struct MigrateMsg {}

/// Default page size of paginated queries.
pub const DEFAULT_LIMIT: u32 = 30;
/// Maximum page size of paginated queries.
pub const MAX_LIMIT: u32 = 100;

/// Clamps a caller's `limit` to `[1, MAX_LIMIT]`, `DEFAULT_LIMIT` when absent.
pub fn page_limit(limit: Option<u32>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize
}
