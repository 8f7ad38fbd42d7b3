"""One parser per import format; each module defines `Parser(options)` with parse(ctx) and finish(report)."""
