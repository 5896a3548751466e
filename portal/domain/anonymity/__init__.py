"""Anonymity: finding what identifies a group, the secretariat's redaction verbs, the reviewer's copy and its release."""
