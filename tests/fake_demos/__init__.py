"""A catalogue of tiny torch-free demos that misbehave on purpose, for the runner's tests."""
