"""Uploaded files: checking and cleaning (:mod:`.sanitize`, no Flask) and
keeping them on disk with their rows (:mod:`.storage`)."""
