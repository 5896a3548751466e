"""The domain core: plain Python over the models, no Flask imports."""
