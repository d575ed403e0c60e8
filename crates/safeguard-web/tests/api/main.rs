//! API tests through the real router, with no socket: one module per resource.

mod access;
mod alerts;
mod attacks;
mod concerns;
mod entries;
mod fhir;
mod flags;
mod helpers;
mod identity;
mod openapi;
mod pages;
mod persons;
mod recording;
mod server;
mod sessions;
mod webhooks;
