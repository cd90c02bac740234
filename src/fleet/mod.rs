//! The built-in simulated fleet: a real HTTP server on loopback speaking the OpenRouter protocol.
