//! Validation of config fields, shared by instantiate, `UpdateConfig` and sudo.
use std::collections::BTreeSet;

use opg_core::types::{AssetConfig, NetworkConfig};
use opg_core::verify::{format_evm_address, parse_evm_address};

use crate::error::ContractError;

/// Largest allowed `max_batch`.
pub const MAX_BATCH_LIMIT: u32 = 500;
/// Longest facilitator allow-list.
pub const MAX_FACILITATORS: usize = 32;
/// Largest allowed asset decimals.
pub const MAX_DECIMALS: u8 = 30;

/// `max_batch` must be in `1..=500`. Errors: `InvalidMaxBatch`.
pub fn validate_max_batch(max_batch: u32) -> Result<u32, ContractError> {
    if (1..=MAX_BATCH_LIMIT).contains(&max_batch) {
        Ok(max_batch)
    } else {
        Err(ContractError::InvalidMaxBatch { max_batch })
    }
}

/// A governance change of `max_batch` moves it at most one step: `old / 2 <= new <= 2 * old`
/// (rounded down), as every numeric param of the three contracts. Errors: `ConfigStep`.
pub fn validate_max_batch_step(old: u32, new: u32) -> Result<(), ContractError> {
    let (min, max) = (old / 2, old.saturating_mul(2));
    if new < min || new > max {
        return Err(ContractError::ConfigStep {
            param: "max_batch".to_string(),
            old: old.into(),
            new: new.into(),
            min: min.into(),
            max: max.into(),
        });
    }
    Ok(())
}

/// Networks: chain ids > 0 and unique, names non-empty, asset addresses `0x` + 40 hex (stored
/// lowercase) and unique per network, decimals <= 30. Errors: `InvalidNetwork`,
/// `DuplicateChainId`, `InvalidAssetAddress`, `DuplicateAsset`, `InvalidDecimals`.
pub fn validate_networks(
    networks: Vec<NetworkConfig>,
) -> Result<Vec<NetworkConfig>, ContractError> {
    let mut chain_ids = BTreeSet::new();
    networks
        .into_iter()
        .map(|n| {
            if n.chain_id == 0 || n.name.trim().is_empty() {
                return Err(ContractError::InvalidNetwork {
                    chain_id: n.chain_id,
                    name: n.name,
                });
            }
            if !chain_ids.insert(n.chain_id) {
                return Err(ContractError::DuplicateChainId {
                    chain_id: n.chain_id,
                });
            }
            let mut seen = BTreeSet::new();
            let assets = n
                .assets
                .into_iter()
                .map(|a| {
                    let parsed = parse_evm_address(&a.address).ok_or_else(|| {
                        ContractError::InvalidAssetAddress {
                            chain_id: n.chain_id,
                            address: a.address.clone(),
                        }
                    })?;
                    let address = format_evm_address(&parsed);
                    if a.decimals > MAX_DECIMALS {
                        return Err(ContractError::InvalidDecimals {
                            chain_id: n.chain_id,
                            address,
                            decimals: a.decimals,
                        });
                    }
                    if !seen.insert(parsed) {
                        return Err(ContractError::DuplicateAsset {
                            chain_id: n.chain_id,
                            address,
                        });
                    }
                    Ok(AssetConfig {
                        address,
                        decimals: a.decimals,
                        eip712_name: a.eip712_name,
                        eip712_version: a.eip712_version,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(NetworkConfig {
                chain_id: n.chain_id,
                name: n.name,
                assets,
            })
        })
        .collect()
}

/// Facilitators: at most [`MAX_FACILITATORS`], `0x` + 40 hex, stored lowercase, unique.
/// Errors: `TooManyFacilitators`, `InvalidFacilitator`, `DuplicateFacilitator`.
pub fn validate_facilitators(facilitators: Vec<String>) -> Result<Vec<String>, ContractError> {
    if facilitators.len() > MAX_FACILITATORS {
        return Err(ContractError::TooManyFacilitators {
            max: MAX_FACILITATORS,
            got: facilitators.len(),
        });
    }
    let mut seen = BTreeSet::new();
    facilitators
        .into_iter()
        .map(|f| {
            let parsed =
                parse_evm_address(&f).ok_or(ContractError::InvalidFacilitator { address: f })?;
            let address = format_evm_address(&parsed);
            if !seen.insert(parsed) {
                return Err(ContractError::DuplicateFacilitator { address });
            }
            Ok(address)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(chain_id: u64, assets: Vec<(&str, u8)>) -> NetworkConfig {
        NetworkConfig {
            chain_id,
            name: "base".to_string(),
            assets: assets
                .into_iter()
                .map(|(a, d)| AssetConfig {
                    address: a.to_string(),
                    decimals: d,
                    eip712_name: None,
                    eip712_version: None,
                })
                .collect(),
        }
    }

    const USDC: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";

    #[test]
    fn networks_are_normalized_and_checked() {
        let ok = validate_networks(vec![net(8453, vec![(USDC, 6)])]).unwrap();
        assert_eq!(ok[0].assets[0].address, USDC.to_lowercase());
        assert_eq!(
            validate_networks(vec![net(8453, vec![]), net(8453, vec![])]),
            Err(ContractError::DuplicateChainId { chain_id: 8453 })
        );
        assert_eq!(
            validate_networks(vec![net(8453, vec![("0x1234", 6)])]),
            Err(ContractError::InvalidAssetAddress {
                chain_id: 8453,
                address: "0x1234".to_string()
            })
        );
        assert_eq!(
            validate_networks(vec![net(8453, vec![(USDC, 31)])]),
            Err(ContractError::InvalidDecimals {
                chain_id: 8453,
                address: USDC.to_lowercase(),
                decimals: 31
            })
        );
        assert!(validate_networks(vec![net(8453, vec![(USDC, 30)])]).is_ok());
        assert_eq!(
            validate_networks(vec![net(8453, vec![(USDC, 6), (&USDC.to_lowercase(), 6)])]),
            Err(ContractError::DuplicateAsset {
                chain_id: 8453,
                address: USDC.to_lowercase()
            })
        );
        assert!(matches!(
            validate_networks(vec![net(0, vec![])]),
            Err(ContractError::InvalidNetwork { chain_id: 0, .. })
        ));
    }

    #[test]
    fn facilitators_are_normalized_and_unique() {
        assert_eq!(
            validate_facilitators(vec![USDC.to_string()]).unwrap(),
            vec![USDC.to_lowercase()]
        );
        assert_eq!(
            validate_facilitators(vec!["nope".to_string()]),
            Err(ContractError::InvalidFacilitator {
                address: "nope".to_string()
            })
        );
        assert_eq!(
            validate_facilitators(vec![USDC.to_string(), USDC.to_lowercase()]),
            Err(ContractError::DuplicateFacilitator {
                address: USDC.to_lowercase()
            })
        );
    }

    #[test]
    fn max_batch_bounds() {
        assert_eq!(
            validate_max_batch(0),
            Err(ContractError::InvalidMaxBatch { max_batch: 0 })
        );
        assert_eq!(validate_max_batch(1), Ok(1));
        assert_eq!(validate_max_batch(500), Ok(500));
        assert_eq!(
            validate_max_batch(501),
            Err(ContractError::InvalidMaxBatch { max_batch: 501 })
        );
    }
}
