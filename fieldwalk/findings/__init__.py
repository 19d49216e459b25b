"""Findings: log what makes a place feel unsafe (or safe), with position and photos."""
