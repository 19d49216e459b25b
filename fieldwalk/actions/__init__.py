"""Action items: what is done about findings, by whom and by when, with full history."""
