"""The reference operator's public data set, its loader and the demo history generator (the top layer)."""
