"""Django project configuration: settings read from the environment, URLs, WSGI/ASGI."""
