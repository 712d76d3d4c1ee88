"""Attachments: files on customers, interactions and (through plugins) other records."""
