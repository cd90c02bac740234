//! Model bake-offs: the same cases to several models, scored side by side. `cases` reads them,
//! `report` holds the figures and writes them out (pure), `run` runs them headless.

pub mod cases;
pub mod report;
pub mod run;
