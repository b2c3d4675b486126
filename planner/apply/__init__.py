"""Carrying plans out: checkpoints, the applier, resume and rollback."""
