"""A zoo of the field's real force- and stress-training bugs (issue 22)."""
