"""Fakes of outside services for tests and benchmarks."""
