//! The workbench model: state, key bindings and the pure `update` reducer.

pub mod keymap;
pub mod state;
pub mod update;
