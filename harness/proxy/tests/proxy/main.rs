//! The proxy against in-process tokio servers: data integrity, each toxic's effect on live
//! connections, and the controls. One binary, so the crate links once.

mod control;
mod passthrough;
mod support;
mod toxics;
