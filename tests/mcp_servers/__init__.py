"""MCP servers for the tests, written with the SDK's server API, and ways to run them."""
