"""Market data recorded from other venues: normalized records, the symbol map, importers, recorders and
the queries matching and the market-data endpoints use. Depends on storage, never on http or services."""
