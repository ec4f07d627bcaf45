"""The audit log for admins: read, filter and export who saw, exported or changed what."""
