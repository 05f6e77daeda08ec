"""Knowledge base: articles per application and category that answer before a ticket is filed."""
