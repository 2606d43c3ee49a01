//! Bounds of the reward params (DESIGN §4).
//!
//! Absolute bounds: `m_commercial in [0, 1]`, `m_community_max (M) in [1, 10]`,
//! `target_share in (0, 1]`, `alpha in [0, 0.9]`, `v_cap in [1, 10^9]` micro-USD,
//! `c_call in [1, 10^12]` uopg when set, hardware weights in `[0, 100]`, stipend caps in
//! `[0, 10^15]` uopg, at most [`MAX_HARDWARE_CLASSES`] distinct non-empty classes,
//! `claim_epochs in [1, 10_000]`.
//!
//! Step limit versus the params in force (one change moves each param by at most one step):
//! * amounts and multipliers (`emission_per_epoch`, `m_commercial`, `m_community_max`, `v_cap`,
//!   `c_call`, each class's `stipend_cap`, `claim_epochs`): `old / 2 <= new <= 2 * old`. A zero or unset old value
//!   ("not enabled yet") may move to any value within the absolute bounds; so `emission_per_epoch`,
//!   `m_commercial` and `c_call` can never be turned off once on (halving never reaches zero), and
//!   `c_call` cannot go from `Some` to `None`.
//! * shares (`target_share`, `alpha`): by at most [`MAX_SHARE_STEP`] (0.1) up or down.
//! * hardware weights: within `[old / 2, 2 * old]` or at most [`MAX_WEIGHT_STEP`] (1) up or down,
//!   a class absent on one side weighing 0 there (so a class is phased in or out by steps of 1);
//!   a class's `stipend_cap` may take any value when the class is new to the list.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::msg::pool::{HardwareWeight, RewardParams};

use crate::error::ContractError;

/// Maximum number of hardware classes with a stipend weight.
pub const MAX_HARDWARE_CLASSES: usize = 32;
/// Maximum `M`.
pub const MAX_COMMUNITY_MULTIPLIER: u64 = 10;
/// Maximum hardware weight of a class.
pub const MAX_HARDWARE_WEIGHT: u64 = 100;
/// Maximum `alpha`: 0.9.
pub const MAX_ALPHA_PERCENT: u64 = 90;
/// Maximum `v_cap` (micro-USD): $1,000 per call.
pub const MAX_V_CAP: u128 = 1_000_000_000;
/// Maximum `c_call` (uopg): 10^6 OPG per call.
pub const MAX_C_CALL: u128 = 1_000_000_000_000;
/// Maximum per-node stipend cap (uopg per epoch): 10^9 OPG.
pub const MAX_STIPEND_CAP: u128 = 1_000_000_000_000_000;
/// Longest claim window (epochs).
pub const MAX_CLAIM_EPOCHS: u64 = 10_000;
/// Largest change of `alpha` or `target_share` per update: 0.1.
pub const MAX_SHARE_STEP: Decimal = Decimal::permille(100);
/// Largest additive change of a hardware weight per update (beside x2 or /2): 1.
pub const MAX_WEIGHT_STEP: Decimal = Decimal::one();

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
    if p.alpha > Decimal::percent(MAX_ALPHA_PERCENT) {
        return Err(out_of_bounds("alpha", "must be in [0, 0.9]"));
    }
    if p.v_cap.is_zero() || p.v_cap > Uint128::new(MAX_V_CAP) {
        return Err(out_of_bounds(
            "v_cap",
            format!("must be in [1, {MAX_V_CAP}] micro-USD"),
        ));
    }
    if let Some(c) = p.c_call {
        if c.is_zero() || c > Uint128::new(MAX_C_CALL) {
            return Err(out_of_bounds(
                "c_call",
                format!("must be in [1, {MAX_C_CALL}] uopg"),
            ));
        }
    }
    if p.claim_epochs == 0 || p.claim_epochs > MAX_CLAIM_EPOCHS {
        return Err(out_of_bounds(
            "claim_epochs",
            format!("must be in [1, {MAX_CLAIM_EPOCHS}] epochs"),
        ));
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
        if w.stipend_cap > Uint128::new(MAX_STIPEND_CAP) {
            return Err(out_of_bounds(
                "hardware_weights",
                format!(
                    "stipend_cap of {} must be in [0, {MAX_STIPEND_CAP}] uopg",
                    w.class
                ),
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

/// `|new - old| <= step`.
fn within_step(
    param: &str,
    old: Decimal,
    new: Decimal,
    step: Decimal,
) -> Result<(), ContractError> {
    let diff = if new > old { new - old } else { old - new };
    if diff > step {
        return Err(out_of_bounds(
            param,
            format!("{old} -> {new} moves by more than {step}"),
        ));
    }
    Ok(())
}

fn weight_of<'a>(list: &'a [HardwareWeight], class: &str) -> Option<&'a HardwareWeight> {
    list.iter().find(|w| w.class == class)
}

/// Hardware weights and stipend caps move by one step (bounded: at most 32 classes a side).
fn validate_hardware_steps(
    old: &[HardwareWeight],
    new: &[HardwareWeight],
) -> Result<(), ContractError> {
    let classes = old
        .iter()
        .map(|w| w.class.as_str())
        .chain(new.iter().map(|w| w.class.as_str()));
    for class in classes {
        let o = weight_of(old, class);
        let n = weight_of(new, class);
        let ow = o.map_or(Decimal::zero(), |w| w.weight);
        let nw = n.map_or(Decimal::zero(), |w| w.weight);
        let param = format!("hardware_weights.{class}.weight");
        // Within 1 either way, or (from a non-zero weight) within x2 or /2.
        if within_step(&param, ow, nw, MAX_WEIGHT_STEP).is_err() {
            if ow.is_zero() {
                return Err(out_of_bounds(
                    &param,
                    format!("0 -> {nw} moves by more than {MAX_WEIGHT_STEP}"),
                ));
            }
            within_factor_two(&param, ow, nw, Decimal::zero())?;
        }
        if let (Some(o), Some(n)) = (o, n) {
            within_factor_two(
                &format!("hardware_weights.{class}.stipend_cap"),
                o.stipend_cap,
                n.stipend_cap,
                Uint128::zero(),
            )?;
        }
    }
    Ok(())
}

/// Checks the absolute bounds and the step limit against `current` (the params in force).
/// Errors: `ParamOutOfBounds { param, reason }`.
pub fn validate_update(current: &RewardParams, new: &RewardParams) -> Result<(), ContractError> {
    validate_bounds(new)?;
    within_factor_two(
        "emission_per_epoch",
        current.emission_per_epoch,
        new.emission_per_epoch,
        Uint128::zero(),
    )?;
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
    within_step(
        "target_share",
        current.target_share,
        new.target_share,
        MAX_SHARE_STEP,
    )?;
    within_step("alpha", current.alpha, new.alpha, MAX_SHARE_STEP)?;
    within_factor_two("v_cap", current.v_cap, new.v_cap, Uint128::zero())?;
    within_factor_two("claim_epochs", current.claim_epochs, new.claim_epochs, 0)?;
    match (current.c_call, new.c_call) {
        (Some(_), None) => {
            return Err(out_of_bounds(
                "c_call",
                "a per-call cap, once set, cannot be removed",
            ))
        }
        (Some(old), Some(new)) => within_factor_two("c_call", old, new, Uint128::zero())?,
        (None, _) => {}
    }
    validate_hardware_steps(&current.hardware_weights, &new.hardware_weights)
}
