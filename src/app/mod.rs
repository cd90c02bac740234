//! The workbench model: state, key bindings and the pure `update` reducer.

pub mod attach_view;
pub mod bakeoff_view;
pub mod catalog_view;
pub mod form;
pub mod history_view;
pub mod keymap;
pub mod layers;
pub mod panels;
pub mod remap;
pub mod state;
pub mod update;
