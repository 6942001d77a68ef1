"""HTTP serving: the threaded server, routing, auth, error envelopes and SSE framing."""
