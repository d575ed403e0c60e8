//! Record linkage for Safeguard: deciding whether two agencies' records are the same person,
//! and showing why. Comparisons grade each field into levels (exact, a nickname, a close
//! spelling, a swapped day and month, the same postcode sector, ...); later modules weigh the
//! levels (Fellegi–Sunter), cluster records and explain every decision. No I/O: usable alone.

pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod evaluate;
pub mod linker;
pub mod model;
pub mod names;
pub mod record;
pub mod rng;
pub mod search;
pub mod synthetic;
