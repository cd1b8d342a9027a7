"""The live dashboard: curves, progress, image preview, confusion matrix and log."""
