"""Card layer, LDS parsers (ICAO 9303-10): bytes in, typed records out; no I/O, no crypto."""
