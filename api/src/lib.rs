//! The HTTP API: actix-web routes, extractors, request and response types, the error
//! envelope and the OpenAPI document. Business rules live in `fingertip-core`.

pub mod conditional;
pub mod console;
pub mod db_gate;
pub mod dto;
pub mod error;
pub mod extract;
pub mod hub;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod server;
pub mod socket;
pub mod telemetry;

pub use hub::LiveOptions;
pub use server::{ServerOptions, build};
