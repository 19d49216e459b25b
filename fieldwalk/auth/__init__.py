"""Authentication: log in and out, choose the language."""
