//! Bounds of the reward params (DESIGN §4).
//!
//! Absolute bounds: `m_commercial in [0, 1]`, `m_community_max (M) in [1, 10]`,
//! `target_share in (0, 1]`, `alpha in [0, 0.5]`, `payer_cap > 0`, hardware weights in `[0, 100]`,
//! at most [`MAX_HARDWARE_CLASSES`] distinct non-empty classes.
//!
//! Rate limit versus the params in force: `m_commercial`, `m_community_max`,
//! `emission_per_epoch` and `payer_cap` change at most x2 or /2 per update
//! (`old / 2 <= new <= 2 * old`). A zero old value (possible for `m_commercial` and
//! `emission_per_epoch` only, and only from instantiation, since halving never reaches zero) means
//! "not enabled yet": it may move to any value within the absolute bounds. Consequently an update
//! can never set these two to zero once they are non-zero.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::msg::pool::RewardParams;

use crate::error::ContractError;

/// Maximum number of hardware classes with a stipend weight.
pub const MAX_HARDWARE_CLASSES: usize = 32;
/// Maximum `M`.
pub const MAX_COMMUNITY_MULTIPLIER: u64 = 10;
/// Maximum hardware weight of a class.
pub const MAX_HARDWARE_WEIGHT: u64 = 100;

fn out_of_bounds(param: &str, reason: impl Into<String>) -> ContractError {
    ContractError::ParamOutOfBounds {
        param: param.to_string(),
        reason: reason.into(),
    }
}

/// Checks the absolute bounds. Errors: `ParamOutOfBounds { param, reason }`.
pub fn validate_bounds(p: &RewardParams) -> Result<(), ContractError> {
    if p.m_commercial > Decimal::one() {
        return Err(out_of_bounds("m_commercial", "must be in [0, 1]"));
    }
    if p.m_community_max < Decimal::one()
        || p.m_community_max > Decimal::from_ratio(MAX_COMMUNITY_MULTIPLIER, 1u64)
    {
        return Err(out_of_bounds("m_community_max", "must be in [1, 10]"));
    }
    if p.target_share.is_zero() || p.target_share > Decimal::one() {
        return Err(out_of_bounds("target_share", "must be in (0, 1]"));
    }
    if p.alpha > Decimal::percent(50) {
        return Err(out_of_bounds("alpha", "must be in [0, 0.5]"));
    }
    if p.payer_cap.is_zero() {
        return Err(out_of_bounds("payer_cap", "must be > 0"));
    }
    if p.hardware_weights.len() > MAX_HARDWARE_CLASSES {
        return Err(out_of_bounds(
            "hardware_weights",
            format!("at most {MAX_HARDWARE_CLASSES} classes"),
        ));
    }
    for (i, w) in p.hardware_weights.iter().enumerate() {
        if w.class.is_empty() {
            return Err(out_of_bounds("hardware_weights", "empty class"));
        }
        if w.weight > Decimal::from_ratio(MAX_HARDWARE_WEIGHT, 1u64) {
            return Err(out_of_bounds(
                "hardware_weights",
                format!("weight of {} must be in [0, 100]", w.class),
            ));
        }
        if p.hardware_weights[..i].iter().any(|o| o.class == w.class) {
            return Err(out_of_bounds(
                "hardware_weights",
                format!("duplicate class {}", w.class),
            ));
        }
    }
    Ok(())
}

/// `new` within `[old / 2, 2 * old]` (any value when `old` is zero), for `Decimal` and `Uint128`.
fn within_factor_two<T>(param: &str, old: T, new: T, zero: T) -> Result<(), ContractError>
where
    T: PartialOrd + Copy + core::ops::Sub<Output = T> + core::fmt::Display,
{
    if old == zero {
        return Ok(());
    }
    // new <= 2 old  <=>  new - old <= old;  new >= old / 2  <=>  old - new <= new.
    // The subtractions cannot underflow: each runs only on the side where it is positive.
    if new > old && new - old > old {
        return Err(out_of_bounds(
            param,
            format!("{new} is more than twice {old}"),
        ));
    }
    if new < old && old - new > new {
        return Err(out_of_bounds(
            param,
            format!("{new} is less than half of {old}"),
        ));
    }
    Ok(())
}

/// Checks the absolute bounds and the x2 / /2 rate limit against `current` (the params in force).
pub fn validate_update(current: &RewardParams, new: &RewardParams) -> Result<(), ContractError> {
    validate_bounds(new)?;
    within_factor_two(
        "m_commercial",
        current.m_commercial,
        new.m_commercial,
        Decimal::zero(),
    )?;
    within_factor_two(
        "m_community_max",
        current.m_community_max,
        new.m_community_max,
        Decimal::zero(),
    )?;
    within_factor_two(
        "emission_per_epoch",
        current.emission_per_epoch,
        new.emission_per_epoch,
        Uint128::zero(),
    )?;
    within_factor_two(
        "payer_cap",
        current.payer_cap,
        new.payer_cap,
        Uint128::zero(),
    )?;
    Ok(())
}
