"""Service catalogue: domains, applications, vendors, subscriptions, service commitments."""
