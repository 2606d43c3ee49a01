//! node-registry contract
