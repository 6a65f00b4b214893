"""Evaluation: quality and privacy scores, plots and reports. No UI code."""
