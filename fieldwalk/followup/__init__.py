"""Follow-up: meeting mode, protocols per walk and per period, and the medborgarlöfte dashboard."""
