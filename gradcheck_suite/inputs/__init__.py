"""One trial and the tensors it becomes: dims, value domains, seeded draws, the Hypothesis strategies."""
