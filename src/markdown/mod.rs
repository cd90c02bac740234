//! Markdown to styled terminal lines, with streaming support and code highlighting.
//!
//! The implementation lives in `incremental`: the source is split into blocks, each rendered on
//! its own, so a streamed message renders exactly like the finished one and only its unfinished
//! block is ever re-rendered.

mod incremental;

pub use incremental::{
    CodeBlock, StreamingMarkdown, code_blocks, render, syntax_themes, warm_up, wrap_text,
};
