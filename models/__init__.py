"""Generators behind one interface (models.base.Generator), their registry and the training engine."""
