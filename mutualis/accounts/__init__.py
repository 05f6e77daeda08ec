"""Accounts: people who log in, their organisation and role, second factor, API tokens."""
