"""Storage: SQLAlchemy models, repositories that hide SQL, and migrations."""
