"""One module per command; each exposes ``run(args, console) -> exit code``."""
