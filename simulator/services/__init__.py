"""Use cases, one transaction each: they load state, call domain rules, store the result. The HTTP layer
and the CLI both call these, so a change made either way is the same change."""
