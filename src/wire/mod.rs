//! The OpenRouter / OpenAI-compatible wire protocol: request, stream chunk, error and catalog types.

pub mod account;
pub mod catalog;
pub mod chunk;
pub mod error;
mod lenient;
pub mod request;
