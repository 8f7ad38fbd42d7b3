"""Pure domain code: no Flask, no SQL, no wall clock. Everything takes its inputs, including `now`."""
