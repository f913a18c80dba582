"""The minutes (beslutningsprotokol): protocol remarks, styles, and HTML/PDF/text output."""
