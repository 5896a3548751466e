"""Uploaded files: checking and cleaning (:mod:`.sanitize`, no Flask) and
keeping them with their rows (:mod:`.storage`) in the object store, the
local disk or an S3-compatible bucket (:mod:`.objectstore`)."""
