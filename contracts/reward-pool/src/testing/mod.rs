//! cw-multi-test suites of the pool, with a mock registry answering `Node` queries.
mod props;
mod suite;
mod test_claim;
mod test_finalize;
mod test_governance;
mod test_migrate;
mod test_record_usage;
mod test_rewards_v2;
mod test_unit;
