//! reward-pool contract
