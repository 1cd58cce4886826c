"""Pure Block Kit builders: data in, a list of blocks (or a view) out. No client calls."""
