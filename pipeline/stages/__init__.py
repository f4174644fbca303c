"""The stages one article goes through: read, clean (readings, repair, boilerplate), convert, segment, extract."""
