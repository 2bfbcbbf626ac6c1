"""Shared fixtures. Factories live in tests/factories.py; simulator fixtures in tests/fixtures_sim.py."""
