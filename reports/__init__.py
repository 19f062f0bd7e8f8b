"""What people see: diff reports (Jinja2), mail delivery, feeds and the Datasette plugin.
Read-only on the archive."""
