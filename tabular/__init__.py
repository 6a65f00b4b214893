"""Data handling: reading files, the table schema and its inference, and profiling. No UI code."""
