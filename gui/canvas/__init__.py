"""The node editor: graphics items, the scene that mirrors the document, and the view."""
