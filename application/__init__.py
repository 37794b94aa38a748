"""Use cases and the ports they depend on. Imports the domain and the standard library only."""
