//! API tests through the real router, with no socket: one module per resource.

mod access;
mod entries;
mod flags;
mod helpers;
mod openapi;
mod pages;
mod persons;
mod sessions;
