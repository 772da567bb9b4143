//! The pure domain of chidao: Vietnamese numbers, deadline phrases, reporting periods, derived task status and text folding, with no database, GraphQL or I/O.

pub mod code;
pub mod deadline;
pub mod duty;
pub mod number;
pub mod period;
pub mod status;
pub mod text;
