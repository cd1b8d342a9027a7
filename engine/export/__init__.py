"""Deployment: a trained classifier as files that outlive Loom's process.

An export folder holds ``model.safetensors`` (the weights), ``model_card.json``
(everything needed to rebuild and feed the model: architecture, classes,
input size and channels, normalisation, metrics, versions) and optionally a
TorchScript and an ONNX file for use outside Loom.  :mod:`engine.export.load`
rebuilds the model from the card and the safetensors alone, never unpickling.
:mod:`engine.export.from_run` writes the same files from a finished run's
saved classifier, on purpose, without running the workflow again
(``loom export``, the app's Export dialog).
"""
