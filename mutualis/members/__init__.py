"""Members: the operator, its member collectivities and partners, contacts, teams and staff."""
