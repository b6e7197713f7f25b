"""The agent: Claude's tool-use loop on the host, with tools acting in the sandbox."""
