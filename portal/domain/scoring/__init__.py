"""Scoring (採点): score sheets per proposal and stage, sealing, reopening, progress and closing."""
