//! Text forms of [`Figures`]: number formatting with units, the human table, CSV and JSON.
//!
//! Units: amounts of the pool's denom are shown in whole tokens (`uopg` / 10^6 as `OPG`, exact,
//! trailing zeros dropped), values in US dollars (micro-USD / 10^6), shares in percent. CSV and
//! JSON carry the raw integers (column names end in `_uopg` / `_micro_usd`).
use std::fmt::Write as _;

use cosmwasm_std::{Decimal, Uint128};

use super::{EpochFigures, Figures};

/// `1234567` -> `1,234,567`.
pub fn thousands(v: u128) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An integer amount of 6-decimal micro units as whole units, exact: `1_500_000` -> `1.5`,
/// `3_000_000` -> `3`, `1_234` -> `0.001234`; thousands separated.
pub fn micro(v: u128) -> String {
    let (int, frac) = (v / 1_000_000, v % 1_000_000);
    if frac == 0 {
        return thousands(int);
    }
    let f = format!("{frac:06}");
    format!("{}.{}", thousands(int), f.trim_end_matches('0'))
}

/// Micro-USD as dollars with at least two decimals: `3_000_000` -> `$3.00`, `1_234_567` ->
/// `$1.234567`.
pub fn usd(v: Uint128) -> String {
    let v = v.u128();
    let (int, frac) = (v / 1_000_000, v % 1_000_000);
    let f = format!("{frac:06}");
    let mut f = f.trim_end_matches('0').to_string();
    while f.len() < 2 {
        f.push('0');
    }
    format!("${}.{f}", thousands(int))
}

/// The display unit of a denom: `uopg` -> `OPG` (micro denom shown in whole tokens); other
/// denoms are shown as is.
pub fn token_unit(denom: &str) -> String {
    match denom.strip_prefix('u') {
        Some(rest) if !rest.is_empty() => rest.to_uppercase(),
        _ => denom.to_string(),
    }
}

/// An amount of `denom` with its unit: `400_000_000 uopg` -> `400 OPG`.
pub fn tokens(v: Uint128, denom: &str) -> String {
    if denom.starts_with('u') && denom.len() > 1 {
        format!("{} {}", micro(v.u128()), token_unit(denom))
    } else {
        format!("{} {denom}", thousands(v.u128()))
    }
}

/// A share in percent, up to two decimals, trailing zeros dropped: `0.375` -> `37.5 %`.
pub fn percent(d: Decimal) -> String {
    // Decimal has 18 decimals: percent with 2 decimals = floor(d * 10^4) / 100
    let basis = (d * Decimal::from_ratio(10_000u128, 1u128))
        .to_uint_floor()
        .u128();
    let (int, frac) = (basis / 100, basis % 100);
    if frac == 0 {
        format!("{int} %")
    } else {
        let f = format!("{frac:02}");
        format!("{int}.{} %", f.trim_end_matches('0'))
    }
}

/// A multiplier, up to four decimals rounded down: `3` -> `×3`, `0.5` -> `×0.5`,
/// `4.18102372...` -> `×4.181` (the exact value is in the page's `data-value`, JSON and CSV).
pub fn multiplier(d: Decimal) -> String {
    let n = (d * Decimal::from_ratio(10_000u128, 1u128))
        .to_uint_floor()
        .u128();
    let (int, frac) = (n / 10_000, n % 10_000);
    if frac == 0 {
        format!("×{int}")
    } else {
        let f = format!("{frac:04}");
        format!("×{int}.{}", f.trim_end_matches('0'))
    }
}

/// The usage rate `rho` (uopg per micro-USD of weighted counted value) as OPG per US dollar of
/// weighted counted value (the same number: 10^6 uopg per 10^6 micro-USD), up to four decimals
/// rounded down, e.g. `266.6666 OPG per weighted USD`.
pub fn rate(d: Decimal, denom: &str) -> String {
    let shown = multiplier(d);
    let n = shown.trim_start_matches('×');
    if denom.starts_with('u') && denom.len() > 1 {
        format!("{n} {} per weighted USD", token_unit(denom))
    } else {
        format!("{n} {denom} per weighted micro-USD")
    }
}

/// Whether a node's epoch reward was claimed: `yes`, `no`, or `expired` (the claim window
/// passed unclaimed: the reward went back to the pool).
pub fn claimed_word(claimed: bool, expired: bool) -> &'static str {
    match (claimed, expired) {
        (true, _) => "yes",
        (false, true) => "expired",
        (false, false) => "no",
    }
}

/// Epoch status word.
pub fn status(f: &EpochFigures) -> &'static str {
    match (f.report.finalized, f.report.expired) {
        (true, true) => "claim window over",
        (true, false) => "finalized",
        (false, _) => "open",
    }
}

/// The human table of `opg report`: one block per epoch (latest first), then per-node rows.
pub fn render_table(fig: &Figures) -> String {
    let denom = &fig.pool.denom;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "chain {} · pool {} · block {} · next epoch to finalize {} · target community share now {}",
        fig.chain_id,
        fig.deployment.pool,
        fig.status.height,
        fig.pool.next_to_finalize,
        percent(fig.target_share())
    );
    let _ = writeln!(
        s,
        "\n{:>6} {:<9} {:>10} {:>10} {:>9} {:>14} {:>14} {:>9} {:>8} {:>8} {:>16} {:>16} {:>16} {:>16}",
        "epoch",
        "status",
        "calls comm",
        "calls cmty",
        "cmty call",
        "value comm",
        "value cmty",
        "cmty val",
        "m_comm",
        "m_cmty",
        "budget",
        "usage",
        "stipend",
        "left in pool"
    );
    for f in fig.epochs.iter().rev() {
        let r = &f.report;
        let _ = writeln!(
            s,
            "{:>6} {:<9} {:>10} {:>10} {:>9} {:>14} {:>14} {:>9} {:>8} {:>8} {:>16} {:>16} {:>16} {:>16}",
            r.epoch,
            status(f),
            thousands(r.commercial.calls.into()),
            thousands(r.community.calls.into()),
            percent(f.split.community_calls_share),
            usd(r.commercial.raw_value),
            usd(r.community.raw_value),
            percent(r.community_share),
            multiplier(r.m_commercial),
            multiplier(r.m_community),
            tokens(r.budget, denom),
            tokens(f.split.usage_awarded, denom),
            tokens(f.split.stipend_awarded, denom),
            tokens(f.split.left_in_pool, denom),
        );
    }
    if fig.epochs.is_empty() {
        let _ = writeln!(s, "(no epoch in range has started)");
    }
    let _ = writeln!(
        s,
        "\n{:>6} {:<24} {:<6} {:<10} {:>10} {:>14} {:>14} {:>5} {:>18} {:>7}",
        "epoch",
        "node",
        "kind",
        "class",
        "calls",
        "raw value",
        "counted",
        "live",
        "reward",
        "claimed"
    );
    for r in fig.node_rows.iter().rev() {
        let n = &r.reward;
        let _ = writeln!(
            s,
            "{:>6} {:<24} {:<6} {:<10} {:>10} {:>14} {:>14} {:>5} {:>18} {:>7}",
            n.epoch,
            r.node_id,
            r.kind,
            n.provenance.as_str(),
            thousands(n.calls.into()),
            usd(n.raw_value),
            usd(n.counted_value),
            if n.live { "yes" } else { "no" },
            n.reward
                .map(|v| tokens(v, denom))
                .unwrap_or_else(|| "not final".into()),
            claimed_word(n.claimed, n.expired),
        );
    }
    if fig.nodes_total > fig.nodes.len() {
        let _ = writeln!(
            s,
            "(only the first {} nodes of more are listed)",
            fig.nodes.len()
        );
    }
    s
}

/// Header of [`epochs_csv`].
pub const EPOCHS_CSV_HEADER: &str = "epoch,finalized,budget_uopg,m_commercial,m_community,\
community_share,target_share,commercial_nodes,commercial_calls,commercial_raw_value_micro_usd,\
commercial_counted_value_micro_usd,commercial_usage_rewards_uopg,community_nodes,\
community_calls,community_raw_value_micro_usd,community_counted_value_micro_usd,\
community_usage_rewards_uopg,community_stipend_uopg,live_local_nodes,usage_awarded_uopg,\
stipend_awarded_uopg,left_in_pool_uopg,paid_uopg,unclaimed_uopg,rate_uopg_per_micro_usd,\
usage_budget_uopg,stipend_budget_uopg,usage_unpaid_uopg,stipend_unpaid_uopg,usage_paid_uopg,\
stipend_paid_uopg,c_call_uopg,v_cap_micro_usd,expired,expired_unclaimed_uopg";

/// One CSV line per epoch (ascending), raw integers and exact decimals, with a header line;
/// `c_call_uopg` is empty when no per-call cap is in force.
pub fn epochs_csv(fig: &Figures) -> String {
    let mut s = String::from(EPOCHS_CSV_HEADER);
    s.push('\n');
    for f in &fig.epochs {
        let r = &f.report;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.epoch,
            r.finalized,
            r.budget,
            r.m_commercial,
            r.m_community,
            r.community_share,
            f.target_share,
            r.commercial.nodes,
            r.commercial.calls,
            r.commercial.raw_value,
            r.commercial.counted_value,
            r.commercial.usage_rewards,
            r.community.nodes,
            r.community.calls,
            r.community.raw_value,
            r.community.counted_value,
            r.community.usage_rewards,
            r.community.stipend,
            r.live_local_nodes,
            f.split.usage_awarded,
            f.split.stipend_awarded,
            f.split.left_in_pool,
            r.paid,
            f.split.unclaimed,
            r.rate,
            r.usage_budget,
            r.stipend_budget,
            r.usage_unpaid,
            r.stipend_unpaid,
            f.split.usage_paid,
            f.split.stipend_paid,
            r.c_call.map(|c| c.to_string()).unwrap_or_default(),
            r.v_cap,
            r.expired,
            f.split.expired_unclaimed,
        );
    }
    s
}

/// Header of [`nodes_csv`].
pub const NODES_CSV_HEADER: &str = "epoch,node_id,kind,provenance,calls,raw_value_micro_usd,\
counted_value_micro_usd,live,hardware_class,reward_uopg,usage_reward_uopg,stipend_reward_uopg,\
claimed,expired";

/// Quotes a CSV field when it holds a comma, quote or newline (RFC 4180).
pub fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// One CSV line per node and epoch; the rewards are empty until the epoch is finalized.
pub fn nodes_csv(fig: &Figures) -> String {
    let mut s = String::from(NODES_CSV_HEADER);
    s.push('\n');
    for r in &fig.node_rows {
        let n = &r.reward;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            n.epoch,
            csv_field(&r.node_id),
            r.kind,
            n.provenance.as_str(),
            n.calls,
            n.raw_value,
            n.counted_value,
            n.live,
            csv_field(n.hardware_class.as_deref().unwrap_or("")),
            n.reward.map(|v| v.to_string()).unwrap_or_default(),
            n.usage_reward.map(|v| v.to_string()).unwrap_or_default(),
            n.stipend_reward.map(|v| v.to_string()).unwrap_or_default(),
            n.claimed,
            n.expired,
        );
    }
    s
}
