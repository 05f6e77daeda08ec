"""Mutualis: the operations platform of a public digital-services operator."""
