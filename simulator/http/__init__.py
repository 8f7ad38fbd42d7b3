"""Everything that knows about HTTP, and nothing else: authenticate, read parameters, call a service,
render the venue's JSON."""
