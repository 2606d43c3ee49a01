//! Integration test support: the suite builder wiring all three contracts.
