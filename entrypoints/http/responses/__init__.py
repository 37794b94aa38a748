"""The shapes answers leave in: JSON responses, pages with ``Link`` headers, and RFC 9457
problems for every error."""
