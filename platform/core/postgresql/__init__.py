"""Django's PostgreSQL backend, reading timestamps with psycopg's compiled parser (``base``)."""
