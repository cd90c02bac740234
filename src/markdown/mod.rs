//! Markdown to styled terminal lines, with streaming support and code highlighting.
