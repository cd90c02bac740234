//! Model catalog (`GET /models`) and endpoint listing types.
