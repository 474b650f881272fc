"""Analyses built on the Searcher: what goes beyond a single search (implementation maps, follows)."""
