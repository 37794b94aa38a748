"""Notifiers: notices rendered from templates and sent by email (SMTP) or kept in memory."""
