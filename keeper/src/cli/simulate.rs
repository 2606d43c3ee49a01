//! `opg simulate [--scenario FILE] [--epochs N] [--json] [--out DIR] [--sweep]`: the arguments
//! ([`crate::simulate::SimulateArgs`], which the simulator owns) and [`crate::simulate::run`].
pub use crate::simulate::SimulateArgs;
