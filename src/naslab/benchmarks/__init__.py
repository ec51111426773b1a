"""Tabular ground truth: NB201 tables, official-format readers, data-directory lookup (no torch)."""
