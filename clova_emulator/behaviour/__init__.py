"""Model behaviour: deterministic replies, tool calls, RAG answers, tokens and text helpers."""
