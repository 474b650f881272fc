"""The search core: the Searcher and what is built on it (implementation maps, follows), the live
index of long-running servers and the JSON objects every door (CLI, API, MCP) hands out."""
