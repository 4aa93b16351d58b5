"""CLI sub-commands: one module each, with configure(parser) and main(args)."""
