//! receipt-verifier contract
