"""Plans: what would change, in which batches, and how to save and trust them."""
