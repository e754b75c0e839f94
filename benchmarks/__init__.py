"""Performance benchmarks of greenopt's optimizer (see README.md here)."""
