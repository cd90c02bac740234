//! Switchyard: a terminal workbench for chatting with many LLMs side by side.

pub mod app;
pub mod ask;
pub mod cli;
pub mod client;
pub mod clipboard;
pub mod config;
pub mod fleet;
pub mod health_store;
pub mod markdown;
pub mod models;
pub mod plan_cmd;
pub mod prefs;
pub mod preview;
pub mod routing;
pub mod runtime;
pub mod safe_text;
pub mod settings;
pub mod settings_store;
pub mod small_file;
pub mod source;
pub mod sse;
pub mod term_input;
pub mod text_edit;
pub mod tui;
pub mod ui;
pub mod wire;
