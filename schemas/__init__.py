"""Pydantic models of every topic's value, and their generated JSON Schema files."""
