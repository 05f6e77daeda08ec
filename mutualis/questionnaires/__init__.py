"""Questionnaires: the request forms of the « Nouvelle demande » catalogue, their builder, and
filing one, which creates a helpdesk ticket. "Form" in this code is a Django form only."""
