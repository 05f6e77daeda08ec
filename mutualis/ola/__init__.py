"""Vendor clocks (OLA): the time a vendor takes on a ticket against its maintenance contract's commitments."""
