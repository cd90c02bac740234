//! Switchyard: a terminal workbench for chatting with many LLMs side by side.

pub mod clipboard;
pub mod config;
pub mod fleet;
pub mod markdown;
pub mod sse;
pub mod wire;
pub mod wrap;
