"""Performance benchmarks (`make bench`); see benchmarks/README.md."""
