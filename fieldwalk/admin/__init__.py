"""Administration: users and roles, categories, responsible parties, the audit log, personal data."""
