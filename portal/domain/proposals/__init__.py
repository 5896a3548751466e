"""The applicant's proposal: its fields, reading the form, drafts, submission, withdrawal and the frozen snapshot."""
