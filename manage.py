#!/usr/bin/env python
"""Django's command-line utility; `mutualis` is the same with the settings preset."""

from mutualis.cli import main

if __name__ == "__main__":
    main()
