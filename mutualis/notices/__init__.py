"""Notices: planned maintenance and major incidents per application, to the members affected."""
