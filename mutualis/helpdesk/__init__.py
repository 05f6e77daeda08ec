"""Helpdesk: incidents and requests from member agents, with service-level commitments."""
